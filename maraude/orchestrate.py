"""Run Maraude's DAGs through Airflow from the command line (``maraude demo`` and ``maraude run``).

Each DAG runs with ``dag.test()``: real Airflow task instances, XCom and metadata DB, executed in
this process one task after another, which suits a 2-core machine and needs no scheduler.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from maraude import airflow_env, warehouse
from maraude.settings import REPO_ROOT, Settings

CYCLE = ("maraude_collect", "maraude_score")


@dataclass
class DagOutcome:
    """How one DAG run ended, for the summary and the exit code."""

    dag_id: str
    state: str
    failed_tasks: list[str]


def _load_dag(dag_id: str):
    path = REPO_ROOT / "dags" / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"maraude_dags.{dag_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, f"{dag_id}_dag")


def prepare(settings: Settings, *, sources_file: Path, warehouse_path: Path) -> None:
    """Point Airflow (Variables through the environment) at the sources and warehouse of this run."""
    airflow_env.configure(settings)
    os.environ["AIRFLOW_VAR_MARAUDE_SOURCES_FILE"] = str(Path(sources_file).resolve())
    os.environ["AIRFLOW_VAR_MARAUDE_WAREHOUSE"] = str(Path(warehouse_path).resolve())
    airflow_env.migrate_metadata_db()
    warehouse.migrate(warehouse_path)


@contextlib.contextmanager
def _output_to(path: Path):
    """Send this process's stdout and stderr to ``path`` at the file-descriptor level.

    Airflow's structured logger keeps a reference to the stream it first saw, so swapping
    ``sys.stdout`` is not enough: the descriptors themselves are redirected, then restored.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "ab") as log_file:
        os.dup2(log_file.fileno(), 1)
        os.dup2(log_file.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_dag(dag_id: str, at: datetime, *, log_dir: Path | None = None) -> DagOutcome:
    """Run one DAG for logical date ``at`` through ``dag.test()``.

    With ``log_dir``, Airflow's own output (task logs, which hold counts and keyed ids only) goes
    to a file there instead of the terminal, which then stays readable for outreach workers.
    """
    dag = _load_dag(dag_id)
    for task in dag.tasks:
        # An on-demand run reports a failure at once (dag.test would otherwise wait out the retry
        # delays); the scheduler keeps the DAG's retries.
        task.retries = 0
    if log_dir is None:
        dag_run = dag.test(logical_date=at)
    else:
        log_dir.mkdir(parents=True, exist_ok=True)
        with _output_to(log_dir / f"{dag_id}-{at:%Y%m%dT%H%M%S}.log"):
            dag_run = dag.test(logical_date=at)
    failed = [
        ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
        for ti in dag_run.get_task_instances()
        if ti.state not in ("success", "skipped")
    ]
    return DagOutcome(dag_id=dag_id, state=str(dag_run.state), failed_tasks=failed)


def run_cycle(at: datetime, *, log_dir: Path | None = None) -> list[DagOutcome]:
    """Collect then score, as the scheduler would chain them through the posts Asset."""
    return [run_dag(dag_id, at, log_dir=log_dir) for dag_id in CYCLE]


def materialise_sources(template: Path, server_url: str, out: Path) -> Path:
    """Write ``template`` (a sources file whose base URLs say ``replay``) pointing at a running replay
    server, and define the placeholder connection its sources name."""
    import yaml

    from extractors.replay import replay_base_url

    use_replay_connection()
    data = yaml.safe_load(Path(template).read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["base_url"] = replay_base_url(source.get("base_url", "replay"), server_url)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


REPLAY_CONNECTION = {
    "conn_type": "http",
    "login": "demo.replay.local",
    "password": "placeholder-not-a-secret",
    "extra": {"user_agent": "maraude-demo/0.1"},
}


def use_replay_connection() -> None:
    """Define the Airflow Connection ``maraude_replay`` that the demo sources name (placeholder values)."""
    import json

    os.environ["AIRFLOW_CONN_MARAUDE_REPLAY"] = json.dumps(REPLAY_CONNECTION)
