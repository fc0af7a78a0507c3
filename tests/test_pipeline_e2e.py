"""End to end through Airflow: the DAGs against the replay server into a temporary warehouse.

The classifier is the tiny random model (no download): what is checked here is the plumbing —
collection, privacy, quality gates, idempotency, crash recovery, quarantine, cases, the review
queue, and that no planted personal detail rests anywhere outside the vault.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from maraude import LABELS, orchestrate, pipeline, warehouse
from maraude.settings import REPO_ROOT, get_settings

pytestmark = pytest.mark.integration

AT = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
DEMO_POSTS = REPO_ROOT / "extractors" / "replay" / "demo_posts.jsonl"
DEMO_SOURCES = REPO_ROOT / "extractors" / "replay" / "demo_sources.yaml"
CONTACT_PATTERNS = [
    r"(?:\+33|0033|\b0)[1-9](?:[\s.-]?\d{2}){4}",  # phone numbers
    r"[\w.+-]+@example\.(?:org|com)",  # e-mails
    r"https?://\S+|www\.\S+",  # URLs
]


def planted_values() -> list[str]:
    """Identities and contact details written into the demo corpus (all fictional).

    A display name that also occurs as ordinary language in other authors' posts ("Temps perdu",
    or "Ambre" inside "chambre") cannot tell a leak from a normal sentence, so it is left out.
    """
    posts = [json.loads(line) for line in DEMO_POSTS.read_text(encoding="utf-8").splitlines()]
    values: set[str] = set()
    for post in posts:
        text = post.get("text") if isinstance(post.get("text"), str) else ""
        if isinstance(post.get("author"), str) and len(post["author"]) >= 4:
            values.add(post["author"])
        name = post.get("display_name")
        if isinstance(name, str) and len(name) >= 4:
            others = " ".join(
                p["text"].lower() for p in posts
                if p.get("author") != post.get("author") and isinstance(p.get("text"), str)
            )
            if name.lower() not in others:
                values.add(name)
        for pattern in CONTACT_PATTERNS:
            values.update(match.group(0).rstrip(".,;!?)") for match in re.finditer(pattern, text))
    return sorted(values)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """One collect → score cycle through Airflow on the demo corpus; yields what the checks need."""
    from extractors.replay import serve
    from models.tiny import make_tiny_model_dir

    settings = get_settings()
    settings.ensure_dirs()
    # Thresholds that flag every post (no_school) and none for distress would hide the ordering;
    # flag both so every author becomes a case and distress goes first.
    model_dir = make_tiny_model_dir(
        settings.models_dir / "tiny-e2e", version="tiny-e2e",
        thresholds={"no_school": 0.0, "no_job": 1.01, "isolation": 1.01, "distress": 0.0},
    )
    (settings.models_dir / "CHAMPION").write_text("tiny-e2e")
    target = tmp_path_factory.mktemp("e2e") / "warehouse.duckdb"
    with serve() as base_url:
        sources = orchestrate.materialise_sources(DEMO_SOURCES, base_url, target.parent / "sources.yaml")
        orchestrate.prepare(settings, sources_file=sources, warehouse_path=target)
        first = orchestrate.run_cycle(AT)
        with warehouse.connect(target, read_only=True) as con:
            snapshot = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                        for t in ("posts", "predictions", "cases", "quarantine")}
        second = orchestrate.run_cycle(AT)
    yield {"target": target, "first": first, "second": second, "snapshot": snapshot,
           "sources": sources, "model_dir": model_dir, "settings": settings}


def _count(target, sql):
    with warehouse.connect(target, read_only=True) as con:
        return con.execute(sql).fetchone()[0]


def test_both_dags_succeed_through_airflow(cycle):
    for outcome in cycle["first"] + cycle["second"]:
        assert outcome.state == "success" and not outcome.failed_tasks, outcome


def test_posts_predictions_cases_and_quality_runs_are_landed(cycle):
    target = cycle["target"]
    assert _count(target, "SELECT count(*) FROM posts") > 300
    assert _count(target, "SELECT count(*) FROM posts WHERE lang <> 'fr'") == 0
    assert _count(target, "SELECT count(*) FROM predictions") == _count(target, "SELECT count(*) FROM posts")
    assert _count(target, "SELECT count(*) FROM cases") > 50
    assert _count(target, "SELECT count(*) FROM quality_runs WHERE stage = 'redacted_posts'") > 0
    assert _count(target, "SELECT count(*) FROM ingest_state WHERE cursor IS NOT NULL") > 0


def test_english_posts_are_never_stored(cycle):
    english = [json.loads(line) for line in DEMO_POSTS.read_text().splitlines()]
    english = [p["text"] for p in english if p.get("lang") == "en" and isinstance(p.get("text"), str)]
    with warehouse.connect(cycle["target"], read_only=True) as con:
        texts = {row[0] for row in con.execute("SELECT text_redacted FROM posts").fetchall()}
    assert english and not any(text in texts for text in english)


def test_running_the_same_interval_again_adds_nothing(cycle):
    target = cycle["target"]
    with warehouse.connect(target, read_only=True) as con:
        after = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in cycle["snapshot"]}
    assert after == cycle["snapshot"]


def test_malformed_records_end_in_quarantine_with_a_reason(cycle):
    with warehouse.connect(cycle["target"], read_only=True) as con:
        reasons = {row[0] for row in con.execute("SELECT DISTINCT reason FROM quarantine").fetchall()}
    assert reasons, "the demo corpus has malformed records"
    assert any("missing" in r or "wrong_type" in r or "invalid" in r or "empty" in r for r in reasons)
    assert any("quality" in r or "too_long" in r or "text_chars" in r for r in reasons) or "empty_text" in reasons


def test_review_queue_puts_distress_first(cycle):
    with warehouse.connect(cycle["target"], read_only=True) as con:
        rows = con.execute("SELECT distress, alerte FROM review_queue").fetchall()
    assert rows and rows[0][0] is True and "3114" in rows[0][1]
    flags = [row[0] for row in rows]
    assert flags == sorted(flags, reverse=True)


def test_no_planted_identity_rests_outside_the_vault(cycle):
    from privacy.leakscan import scan_duckdb, scan_paths

    planted = planted_values()
    assert len(planted) > 50
    settings = cycle["settings"]
    hits = scan_duckdb(cycle["target"], planted)
    hits += scan_paths([settings.home / "airflow"], planted)  # metadata DB (XCom) and task logs
    assert hits == []


def test_a_crash_between_extract_and_load_loses_and_duplicates_nothing(cycle, tmp_path, monkeypatch):
    """Kill the landing once, rerun: same rows as a clean run, cursor advanced once."""
    from maraude import quality

    target = tmp_path / "crash.duckdb"
    warehouse.migrate(target)
    name = "demo_mastodon_galere"
    original = quality.validate

    def crash_after_extract(stage, frame, **kwargs):
        if stage == "redacted_posts":
            raise RuntimeError("simulated crash between extract and load")
        return original(stage, frame, **kwargs)

    from extractors.replay import serve

    with serve() as base_url:
        sources = orchestrate.materialise_sources(DEMO_SOURCES, base_url, tmp_path / "sources.yaml")
        monkeypatch.setattr(quality, "validate", crash_after_extract)
        with pytest.raises(RuntimeError, match="simulated crash"):
            pipeline.collect_source(name, sources_file=sources, run_at=AT, warehouse_path=target)
        assert _count(target, "SELECT count(*) FROM posts") == 0
        assert _count(target, "SELECT count(*) FROM ingest_state") == 0
        monkeypatch.setattr(quality, "validate", original)
        summary = pipeline.collect_source(name, sources_file=sources, run_at=AT, warehouse_path=target)
        again = pipeline.collect_source(name, sources_file=sources, run_at=AT, warehouse_path=target)
    landed = _count(target, "SELECT count(*) FROM posts")
    assert landed == summary["landed"] > 0
    assert again["landed"] == 0
    assert _count(target, "SELECT count(DISTINCT post_uid) FROM posts") == landed


def test_every_label_column_is_scored(cycle):
    with warehouse.connect(cycle["target"], read_only=True) as con:
        nulls = con.execute(
            "SELECT count(*) FROM predictions WHERE " + " OR ".join(f"{label} IS NULL" for label in LABELS)
        ).fetchone()[0]
    assert nulls == 0


def test_retention_dag_purges_unflagged_posts_on_schedule_and_audits_it(cycle, tmp_path, monkeypatch):
    """maraude_retention through Airflow, 40 days after collection, on a copy of the warehouse."""
    import shutil
    from datetime import timedelta

    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(cycle["target"], target)
    shutil.copyfile(cycle["target"].with_name("vault.duckdb"), tmp_path / "vault.duckdb")
    with warehouse.connect(target) as con:
        # Make some posts unflagged, as a real model leaves most of them.
        con.execute("UPDATE predictions SET flagged_labels = [] WHERE post_uid IN"
                    " (SELECT post_uid FROM posts ORDER BY post_uid LIMIT 100)")
        flagged_before = con.execute("SELECT count(*) FROM predictions WHERE len(flagged_labels) > 0").fetchone()[0]
    monkeypatch.setenv("AIRFLOW_VAR_MARAUDE_WAREHOUSE", str(target))
    outcome = orchestrate.run_dag("maraude_retention", AT + timedelta(days=40))
    assert outcome.state == "success" and not outcome.failed_tasks
    with warehouse.connect(target, read_only=True) as con:
        unflagged_left = con.execute(
            "SELECT count(*) FROM posts p WHERE NOT EXISTS (SELECT 1 FROM predictions r"
            " WHERE r.post_uid = p.post_uid AND len(r.flagged_labels) > 0)").fetchone()[0]
        flagged_after = con.execute("SELECT count(*) FROM predictions WHERE len(flagged_labels) > 0").fetchone()[0]
        audited = con.execute("SELECT count(*) FROM audit_log WHERE actor = 'maraude_retention'").fetchone()[0]
    assert unflagged_left == 0
    assert flagged_after == flagged_before, "flagged evidence stays while its case is active"
    assert audited >= 1
