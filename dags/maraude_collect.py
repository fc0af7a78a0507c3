"""
### maraude_collect — collect public posts from every configured source

For each source of the sources file (Airflow Variable `maraude_sources_file`), one mapped task
extracts what is new since the source's cursor, keeps French posts, redacts and pseudonymises them
(identities go to the encrypted vault), derives cues, validates the batch (Great Expectations) and
lands it in the warehouse **together with** the new cursor. A failed source does not stop the others.
XCom carries only counts and batch ids. Emits the `maraude_posts` Asset, which schedules `maraude_score`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task

from maraude.dag_support import (
    DEFAULT_ARGS,
    POSTS_ASSET_NAME,
    due_sources,
    run_time,
    runtime_sources_file,
    runtime_warehouse,
)

POSTS = Asset(POSTS_ASSET_NAME)


@dag(
    dag_id="maraude_collect",
    schedule="@hourly",  # keep in step with maraude.dag_support.COLLECT_PERIOD
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["maraude"],
    doc_md=__doc__,
)
def maraude_collect():
    @task
    def sources_due() -> list[str]:
        """Source names due at this run's logical date (each source may have its own cron schedule)."""
        from maraude import pipeline, warehouse

        context = get_current_context()
        warehouse.migrate(runtime_warehouse())
        sources = pipeline.load_sources_file(runtime_sources_file())
        return due_sources(sources, run_time(context))

    @task(outlets=[POSTS], max_active_tis_per_dag=2)
    def collect(source_name: str) -> dict:
        """Extract → language filter → privacy → cues → quality gate → land with the cursor."""
        from maraude import pipeline

        context = get_current_context()
        return pipeline.collect_source(
            source_name,
            sources_file=runtime_sources_file(),
            run_at=run_time(context),
            warehouse_path=runtime_warehouse(),
        )

    @task(trigger_rule="all_done")
    def report(summaries) -> dict:
        """Totals over the sources that succeeded (a failed source shows as failed in the grid)."""
        totals: dict[str, int] = {}
        for summary in summaries or []:
            for key, value in summary.items():
                if isinstance(value, int):
                    totals[key] = totals.get(key, 0) + value
        return totals

    report(collect.expand(source_name=sources_due()))


maraude_collect_dag = maraude_collect()
