"""Great Expectations suites: rows are quarantined one by one, a bad batch fails, no value leaks."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pandas as pd
import pytest

from maraude import quality

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)


def _redacted(**overrides) -> pd.DataFrame:
    rows = {
        "post_uid": [f"u1-{i:016x}" for i in range(4)],
        "author_pseudo": ["k1-" + "a" * 32] * 4,
        "lang": ["fr"] * 4,
        "text_redacted": ["j'ai arrêté le lycée", "appelle moi au <TEL>", "rien de spécial", "seul depuis des mois"],
        "age_band": ["16-17", None, "18-25", None],
    }
    rows.update(overrides)
    return pd.DataFrame(rows)


def test_clean_redacted_batch_passes():
    outcome = quality.validate("redacted_posts", _redacted(), batch_id="b1")
    assert outcome.success and outcome.failing_keys == {}
    assert outcome.evaluated_rows == 4


def test_a_phone_number_left_after_redaction_quarantines_that_row_only():
    frame = _redacted(text_redacted=["ok", "mon 06 39 98 12 34", "rien", "seul"])
    outcome = quality.validate("redacted_posts", frame, batch_id="b2")
    assert outcome.success, "one bad row out of four is a row problem, not a batch failure"
    assert list(outcome.failing_keys) == [frame.post_uid[1]]
    assert "not_match_regex" in outcome.failing_keys[frame.post_uid[1]][0]


def test_details_keep_counts_but_never_the_offending_values():
    frame = _redacted(text_redacted=["écris à lea.martin@example.org", "x", "y", "z"])
    outcome = quality.validate("redacted_posts", frame, batch_id="b3")
    stored = json.dumps(outcome.as_row(NOW), default=str)
    assert "lea.martin" not in stored and "example.org" not in stored
    assert any(d["unexpected_count"] == 1 for d in outcome.details)


def test_duplicate_keys_fail_the_batch_and_name_the_expectation():
    frame = _redacted(post_uid=["u1-dup"] * 4)
    outcome = quality.validate("redacted_posts", frame, batch_id="b4")
    assert not outcome.success
    assert any("unique" in name for name in outcome.failed_expectations)
    message = outcome.error_message()
    assert "b4" in message and "quality_runs" in message and "unique" in message


def test_most_rows_failing_fails_the_batch():
    frame = _redacted(lang=["en", "en", "en", "fr"])
    assert not quality.validate("redacted_posts", frame, batch_id="b5").success


def test_predictions_out_of_range_fail():
    frame = pd.DataFrame({
        "post_uid": ["a", "b"], "model_version": ["m", "m"], "flags_known": [True, True],
        "no_school": [0.1, 1.2], "no_job": [0.0, 0.0], "isolation": [0.0, 0.0], "distress": [0.0, 0.0],
    })
    outcome = quality.validate("predictions", frame, batch_id="p")
    assert not outcome.success and "b" in outcome.failing_keys


def test_empty_frame_is_a_successful_run_with_zero_rows():
    outcome = quality.validate("cases", pd.DataFrame(), batch_id="c")
    assert outcome.success and outcome.evaluated_rows == 0


def test_unknown_stage_is_a_clear_error():
    with pytest.raises(ValueError, match="known: collected_batch"):
        quality.validate("nope", pd.DataFrame({"x": [1]}), batch_id=None)
