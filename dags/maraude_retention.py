"""
### maraude_retention — daily purge under the retention policy

Applies `privacy/retention_policy.yaml` as of the run's logical date: texts of unflagged
posts after a few days, irrelevant rows within a month, cases without new evidence after a year (with
their vault entries). Every purge is counted in `audit_log`. Then refreshes the read-only copy.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, get_current_context, task

from maraude.dag_support import DEFAULT_ARGS, run_time, runtime_warehouse


@dag(
    dag_id="maraude_retention",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["maraude", "privacy"],
    doc_md=__doc__,
)
def maraude_retention():
    @task
    def purge() -> dict:
        """Delete what the policy no longer allows us to keep; returns the counts per rule."""
        from maraude import warehouse
        from maraude.pipeline import Paths
        from privacy.retention import run_retention

        paths = Paths.resolve(runtime_warehouse())
        warehouse.migrate(paths.warehouse)
        return run_retention(paths.warehouse, paths.vault, as_of=run_time(get_current_context()))

    @task
    def publish(counts: dict) -> str:
        """Refresh the read-only copy so readers stop seeing purged data too."""
        from maraude import warehouse

        return str(warehouse.publish_read_copy(runtime_warehouse()))

    publish(purge())


maraude_retention_dag = maraude_retention()
