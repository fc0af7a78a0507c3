"""
### maraude_score — classify new posts, refresh cases, publish the read copy

Runs whenever `maraude_collect` lands posts (Asset `maraude_posts`). Scores every post the champion
model has not scored yet (probabilities per label, flags at the champion's thresholds, the words that
drove each flag), rebuilds one case per pseudonymous author with time decay and orientation, and
refreshes `warehouse_read.duckdb`, the read-only copy outreach and evaluators open while DAGs write.
Each stage is checked by its Great Expectations suite, recorded in `quality_runs`.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, get_current_context, task

from maraude.dag_support import DEFAULT_ARGS, POSTS_ASSET_NAME, run_time, runtime_warehouse


@dag(
    dag_id="maraude_score",
    schedule=[Asset(POSTS_ASSET_NAME)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["maraude"],
    doc_md=__doc__,
)
def maraude_score():
    @task
    def score() -> dict:
        """Classify unscored posts with the champion model and store scores, flags and explanations."""
        from maraude import pipeline, warehouse

        warehouse.migrate(runtime_warehouse())
        return pipeline.score_posts(run_at=run_time(get_current_context()), warehouse_path=runtime_warehouse())

    @task
    def cases(scored: dict) -> dict:
        """Rebuild cases (decay, priority, orientation) keeping the status set by reviews."""
        from maraude import pipeline

        return pipeline.refresh_cases(run_at=run_time(get_current_context()), warehouse_path=runtime_warehouse())

    @task
    def publish(case_summary: dict) -> str:
        """Refresh the read-only copy of the warehouse for readers."""
        from maraude import warehouse

        return str(warehouse.publish_read_copy(runtime_warehouse()))

    publish(cases(score()))


maraude_score_dag = maraude_score()
