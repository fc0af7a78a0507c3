"""Great Expectations suites guarding each hand-off, defined once as code.

Each suite validates a pandas frame that carries no raw identity. Row-level expectations use
``mostly``: the rows they reject are quarantined one by one, and the batch as a whole fails only when
too many rows (or a batch-level property such as uniqueness) fail. A failing batch raises
:class:`QualityGateError`, which names the failed expectations and the ``quality_runs`` row holding
the details. GE's own results include unexpected *values*; only counts and keys are kept, so a
stray personal detail can never travel from a failing row into ``quality_runs`` or the logs.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from maraude import LABELS

PII_PATTERNS = {
    "email": r"[\w.+-]+@[\w-]+\.[\w.-]+",
    "url": r"(?i)\b(?:https?://|www\.)\S+",
    "phone": r"(?:\+|00)33[\s.-]?[1-9](?:[\s.-]?\d{2}){4}|\b0[1-9](?:[\s.-]?\d{2}){4}\b",
    "handle": r"(?<![\w<])@[A-Za-z0-9_][\w.-]{1,}",
}
MAX_TEXT_CHARS = 20_000
AGE_BANDS = ["<16", "16-17", "18-25", "26-29", "30+"]
CASE_STATUSES = ["open", "in_review", "closed"]
KEY_COLUMNS = {
    "collected_batch": "post_uid",
    "redacted_posts": "post_uid",
    "predictions": "post_uid",
    "cases": "case_id",
}


class QualityGateError(RuntimeError):
    """A batch failed its suite; nothing of it was landed (or the landing was rolled back)."""


@dataclass
class QualityOutcome:
    """What a validation found: enough to quarantine rows and to fill one ``quality_runs`` row."""

    run_id: str
    stage: str
    suite: str
    batch_id: str | None
    success: bool
    evaluated_rows: int
    failing_keys: dict[str, list[str]] = field(default_factory=dict)
    """Key of each rejected row → names of the expectations it failed."""
    failed_expectations: list[str] = field(default_factory=list)
    details: list[dict] = field(default_factory=list)

    @property
    def failed_rows(self) -> int:
        return len(self.failing_keys)

    def as_row(self, run_at: datetime) -> list:
        """Values for ``INSERT INTO quality_runs`` in column order."""
        return [
            self.run_id, self.stage, self.suite, self.batch_id, self.success, self.evaluated_rows,
            self.failed_rows, self.failed_expectations, json.dumps(self.details), run_at,
        ]

    def error_message(self) -> str:
        """What the data team reads when the gate stops a task."""
        return (
            f"Quality gate '{self.suite}' failed for batch {self.batch_id}: "
            f"{', '.join(self.failed_expectations)} "
            f"({self.failed_rows} of {self.evaluated_rows} rows rejected). "
            f"Details: SELECT * FROM quality_runs WHERE run_id = '{self.run_id}'"
        )


def _gx():
    # GX logs hundreds of info lines at import once Airflow's logging is configured, and draws
    # progress bars on stderr: quiet both before the first import.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def _expectations(stage: str) -> list:
    """The suite of one hand-off. ``mostly`` marks row-level rules (rows failing them are quarantined)."""
    gx = _gx()
    E = gx.expectations
    if stage == "collected_batch":
        return [
            E.ExpectColumnValuesToNotBeNull(column="post_uid"),
            E.ExpectColumnValuesToBeUnique(column="post_uid"),
            E.ExpectColumnValuesToNotBeNull(column="created_at", mostly=0.5),
            E.ExpectColumnValuesToBeInSet(column="has_author", value_set=[True], mostly=0.5),
            E.ExpectColumnValuesToBeBetween(column="text_chars", min_value=1, max_value=MAX_TEXT_CHARS, mostly=0.5),
        ]
    if stage == "redacted_posts":
        rules = [
            E.ExpectColumnValuesToNotBeNull(column="post_uid"),
            E.ExpectColumnValuesToBeUnique(column="post_uid"),
            E.ExpectColumnValuesToMatchRegex(column="author_pseudo", regex=r"^k\d+-[0-9a-f]{16,}$"),
            E.ExpectColumnValuesToBeInSet(column="lang", value_set=["fr"]),
            E.ExpectColumnValuesToNotBeNull(column="text_redacted", mostly=0.5),
            E.ExpectColumnValuesToBeInSet(column="age_band", value_set=AGE_BANDS, mostly=0.5),
        ]
        rules += [
            E.ExpectColumnValuesToNotMatchRegex(column="text_redacted", regex=pattern, mostly=0.5)
            for pattern in PII_PATTERNS.values()
        ]
        return rules
    if stage == "predictions":
        rules = [
            E.ExpectColumnValuesToNotBeNull(column="post_uid"),
            E.ExpectColumnValuesToBeUnique(column="post_uid"),
            E.ExpectColumnValuesToNotBeNull(column="model_version"),
            E.ExpectColumnValuesToBeInSet(column="flags_known", value_set=[True]),
        ]
        rules += [E.ExpectColumnValuesToBeBetween(column=label, min_value=0.0, max_value=1.0) for label in LABELS]
        return rules
    if stage == "cases":
        return [
            E.ExpectColumnValuesToBeUnique(column="case_id"),
            E.ExpectColumnValuesToBeUnique(column="author_pseudo"),
            E.ExpectColumnValuesToBeBetween(column="priority", min_value=0, max_value=100),
            E.ExpectColumnValuesToBeInSet(column="status", value_set=CASE_STATUSES),
            E.ExpectColumnValuesToBeInSet(column="flagged_within_posts", value_set=[True]),
            E.ExpectColumnValuesToBeInSet(column="distress_labelled", value_set=[True]),
        ]
    raise AssertionError(f"KEY_COLUMNS and _expectations disagree about {stage!r}")


@functools.lru_cache(maxsize=1)
def _context():
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.data_sources.add_pandas("maraude")
    return context


@functools.lru_cache(maxsize=None)
def _suite_and_batch_definition(stage: str):
    gx = _gx()
    context = _context()
    suite = context.suites.add(gx.ExpectationSuite(name=stage))
    for expectation in _expectations(stage):
        suite.add_expectation(expectation)
    asset = context.data_sources.get("maraude").add_dataframe_asset(name=stage)
    return suite, asset.add_batch_definition_whole_dataframe(f"{stage}_batch")


def validate(stage: str, frame: pd.DataFrame, *, batch_id: str | None) -> QualityOutcome:
    """Validate ``frame`` against the suite of ``stage``. Bad data never raises here: the caller
    quarantines ``failing_keys``, records the outcome, and stops the batch when ``success`` is false."""
    if stage not in KEY_COLUMNS:
        raise ValueError(f"no quality suite for stage {stage!r}; known: {', '.join(KEY_COLUMNS)}")
    key = KEY_COLUMNS[stage]
    outcome = QualityOutcome(
        run_id=str(uuid.uuid4()), stage=stage, suite=f"maraude.{stage}", batch_id=batch_id,
        success=True, evaluated_rows=len(frame),
    )
    if frame.empty:
        return outcome
    suite, batch_definition = _suite_and_batch_definition(stage)
    batch = batch_definition.get_batch(batch_parameters={"dataframe": frame.reset_index(drop=True)})
    result = batch.validate(
        suite,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [key]},
    )
    outcome.success = bool(result.success)
    for item in result.results:
        config = item.expectation_config
        name = f"{config.type}({config.kwargs.get('column')})"
        unexpected = item.result.get("unexpected_count") or 0
        outcome.details.append({"expectation": name, "success": bool(item.success), "unexpected_count": unexpected})
        if not item.success:
            outcome.failed_expectations.append(name)
        for index_row in item.result.get("unexpected_index_list") or []:
            outcome.failing_keys.setdefault(str(index_row[key]), []).append(name)
    return outcome
