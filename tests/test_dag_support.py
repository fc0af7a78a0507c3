"""Per-source schedules inside the hourly collect DAG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from maraude.dag_support import due_sources


@dataclass
class Source:
    name: str
    schedule: str | None


def test_sources_without_schedule_run_every_time_and_cron_sources_only_when_due():
    sources = [Source("always", None), Source("daily_6am", "0 6 * * *"), Source("hourly", "@hourly")]
    at_6 = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)
    at_9 = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    assert due_sources(sources, at_6) == ["always", "daily_6am", "hourly"]
    assert due_sources(sources, at_9) == ["always", "hourly"]
