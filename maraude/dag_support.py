"""What the DAG files share: default arguments and the run-time settings they resolve.

Imported at DAG parse time, so it stays light: no database, network or heavy import here, and
Variables are read only inside the functions that tasks call at run time.
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_ARGS = {
    "owner": "maraude-data",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
}

POSTS_ASSET_NAME = "maraude_posts"


def runtime_warehouse() -> str | None:
    """The warehouse path: Airflow Variable ``maraude_warehouse`` (or its ``AIRFLOW_VAR_`` env), else the default."""
    from airflow.sdk import Variable

    return Variable.get("maraude_warehouse", default=None)


def runtime_sources_file() -> str:
    """The sources YAML file: Airflow Variable ``maraude_sources_file``; a clear error when it is missing."""
    from airflow.sdk import Variable

    path = Variable.get("maraude_sources_file", default=None)
    if not path:
        raise RuntimeError(
            "No sources configured: set the Airflow Variable 'maraude_sources_file' to a sources YAML "
            "file (see sources.example.yaml), e.g. AIRFLOW_VAR_MARAUDE_SOURCES_FILE=/path/sources.yaml"
        )
    return path


COLLECT_PERIOD = timedelta(hours=1)
"""How often maraude_collect runs; a source's own schedule is checked within that window."""


def due_sources(sources: list, logical_date) -> list[str]:
    """Names of the sources due at ``logical_date``: those without a ``schedule`` (every run), and
    those whose cron ``schedule`` fires within the collect period that ends at ``logical_date``."""
    from croniter import croniter

    due = []
    for source in sources:
        if not source.schedule:
            due.append(source.name)
            continue
        next_fire = croniter(source.schedule, logical_date - COLLECT_PERIOD).get_next(type(logical_date))
        if next_fire <= logical_date:
            due.append(source.name)
    return due


def run_time(context):
    """The run's reference time: its logical date, or for Asset-triggered runs (which have none in
    Airflow 3) the time the run was due. Tasks use it instead of reading the clock."""
    return context.get("logical_date") or context["dag_run"].run_after
