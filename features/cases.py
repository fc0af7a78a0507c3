"""Per-author cases: evidence from scored posts accumulated over time, for the review queue.

One case per pseudonymous author with at least one flagged post. The rules, chosen so that a
worried outreach worker can explain every number:

- **Case score per label**: a noisy-OR over the author's posts, each post counting with its
  probability times a time-decay weight ``0.5 ** (age_days / half_life_days)``, ``age_days``
  measured from ``as_of``. Three posts at 0.4 over a few weeks build up past a 0.5 threshold; a
  single old post fades. Probabilities below ``EVIDENCE_FLOOR`` × the label's threshold do not count,
  so a long history of near-zero scores cannot add up to a signal.
- **Case labels**: labels whose case score reaches the threshold.
- **Distress is never hidden by decay within ``DISTRESS_HOLD_DAYS`` (30 days)**: distress evidence
  keeps its full weight for 30 days and only then starts to decay; and a post flagged ``distress`` in
  the last 30 days makes the case ``distress`` whatever the scores say. The review queue puts those
  cases first and shows the 3114.
- **Priority** in [0, 100]: 40 × the strongest case score, 15 × the share of labels present,
  15 × recency of the last flagged post (same half-life), 15 × youth (16–25 weighs most),
  10 × help-seeking in the last ``HELP_WINDOW_DAYS`` days, 5 × distress.
- Cues (age band, place, duration) come from the author's latest post that states them; the
  duration is extended by the days elapsed since that post, so it reads "as of ``as_of``".

Nothing here reads the clock: ``as_of`` (the DAG run's logical date) is the only "now"; posts created
after it are ignored, which keeps re-runs of the same interval identical.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from features.orientation import suggest
from maraude import LABELS

CASE_COLUMNS: tuple[str, ...] = (
    "case_id", "author_pseudo", "first_seen", "last_seen", "n_posts", "n_flagged",
    "score_no_school", "score_no_job", "score_isolation", "score_distress", "labels", "distress",
    "priority", "age_band", "place", "duration_days", "help_seeking", "orientation", "evidence",
    "status", "updated_at", "retention_until",
)
"""The columns of the ``cases`` table (sql/030_cases.sql), in order."""

DISTRESS_HOLD_DAYS = 30.0
EVIDENCE_FLOOR = 0.5
HELP_WINDOW_DAYS = 90.0
EVIDENCE_CAP = 10
CASE_RETENTION = timedelta(days=365)
YOUTH_WEIGHT = {"<16": 0.8, "16-17": 1.0, "18-25": 1.0, "26-29": 0.4, "30+": 0.1}
UNKNOWN_AGE_WEIGHT = 0.5
_SECONDS_PER_DAY = 86400.0


def case_id_for(author_pseudo: str) -> str:
    """A short, stable case id derived from the (already pseudonymous) author."""
    return "C-" + hashlib.blake2b(author_pseudo.encode("utf-8"), digest_size=6).hexdigest()


def _utc(moment: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _label_tuple(value) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(str(label) for label in value)


def _latest_non_null(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per author, the value of ``column`` in their latest post that has one, and that post's time."""
    known = frame.loc[frame[column].notna(), ["author_pseudo", "created_at", column]]
    latest = known.groupby("author_pseudo", sort=True).tail(1)
    return latest.set_index("author_pseudo")


def _evidence(flagged: pd.DataFrame) -> pd.Series:
    """Per author, a JSON list of their flagged posts, newest first, at most EVIDENCE_CAP."""
    newest = flagged.sort_values(["author_pseudo", "created_at", "post_uid"], ascending=[True, False, False])
    newest = newest.groupby("author_pseudo", sort=True).head(EVIDENCE_CAP)
    records = [
        {
            "post_uid": uid,
            "created_at": created.isoformat(),
            "labels": list(labels),
            "top_score": round(float(top), 4),
        }
        for uid, created, labels, top in zip(
            newest["post_uid"], newest["created_at"], newest["flagged"], newest["top_score"], strict=True
        )
    ]
    grouped: dict[str, list[dict]] = {}
    for author, record in zip(newest["author_pseudo"], records, strict=True):
        grouped.setdefault(author, []).append(record)
    return pd.Series({author: json.dumps(items, ensure_ascii=False) for author, items in grouped.items()})


def build_cases(
    posts: pd.DataFrame,
    predictions: pd.DataFrame,
    *,
    as_of: datetime,
    thresholds: dict[str, float],
    half_life_days: float = 30.0,
) -> pd.DataFrame:
    """One row per author with at least one flagged post, with exactly the ``cases`` table's columns.

    ``posts`` has the posts table's columns, ``predictions`` the predictions table's columns for one
    model version; ``thresholds`` maps each label to its case threshold (usually the model's).
    The result is sorted by ``case_id`` and depends only on its inputs (``as_of`` included).
    """
    missing = [label for label in LABELS if label not in thresholds]
    if missing:
        raise ValueError(f"thresholds lacks {missing}; pass the model's thresholds for every label")
    if predictions["post_uid"].duplicated().any():
        raise ValueError("predictions holds several rows for one post; pass a single model version")
    now = _utc(as_of)

    frame = posts.copy()
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame = frame.loc[frame["created_at"] <= now]
    scores = predictions[["post_uid", *LABELS, "flagged_labels"]]
    frame = frame.merge(scores, on="post_uid", how="left", validate="one_to_one")
    frame[list(LABELS)] = frame[list(LABELS)].fillna(0.0).astype(float)
    frame["flagged"] = frame["flagged_labels"].map(_label_tuple)
    frame["is_flagged"] = frame["flagged"].map(bool)

    flagged_authors = frame.loc[frame["is_flagged"], "author_pseudo"].unique()
    frame = frame.loc[frame["author_pseudo"].isin(flagged_authors)]
    frame = frame.sort_values(["author_pseudo", "created_at", "post_uid"], kind="mergesort").reset_index(drop=True)
    if frame.empty:
        return _empty_cases()

    age_days = ((now - frame["created_at"]).dt.total_seconds() / _SECONDS_PER_DAY).clip(lower=0.0).to_numpy()
    log_keep = {}
    for label in LABELS:
        hold = DISTRESS_HOLD_DAYS if label == "distress" else 0.0
        weight = 0.5 ** (np.maximum(age_days - hold, 0.0) / half_life_days)
        probability = frame[label].to_numpy()
        counted = np.where(probability >= EVIDENCE_FLOOR * thresholds[label], probability, 0.0)
        log_keep[label] = np.log1p(-np.clip(counted * weight, 0.0, 1.0 - 1e-12))
    by_author = pd.DataFrame(log_keep).assign(author_pseudo=frame["author_pseudo"]).groupby("author_pseudo", sort=True)
    case_scores = 1.0 - np.exp(by_author.sum())

    grouped = frame.groupby("author_pseudo", sort=True)
    cases = pd.DataFrame({
        "first_seen": grouped["created_at"].min(),
        "last_seen": grouped["created_at"].max(),
        "n_posts": grouped["post_uid"].count().astype("int64"),
        "n_flagged": grouped["is_flagged"].sum().astype("int64"),
    })
    for label in LABELS:
        cases[f"score_{label}"] = case_scores[label].round(6)

    recent_distress = frame["flagged"].map(lambda labels: "distress" in labels) & (age_days <= DISTRESS_HOLD_DAYS)
    cases["distress"] = (
        recent_distress.groupby(frame["author_pseudo"], sort=True).any()
        | (cases["score_distress"] >= thresholds["distress"])
    )
    present = pd.DataFrame({
        label: cases["distress"] if label == "distress" else cases[f"score_{label}"] >= thresholds[label]
        for label in LABELS
    })
    cases["labels"] = [[label for label, on in zip(LABELS, row, strict=True) if on] for row in present.to_numpy()]

    _add_cues(cases, frame, now, age_days)
    flagged = frame.loc[frame["is_flagged"]].copy()
    flagged["top_score"] = flagged[list(LABELS)].max(axis=1)
    last_flagged = flagged.groupby("author_pseudo", sort=True)["created_at"].max()
    days_since_flag = (now - last_flagged).dt.total_seconds() / _SECONDS_PER_DAY
    cases["priority"] = _priority(cases, present, days_since_flag, half_life_days)
    cases["evidence"] = _evidence(flagged)
    cases["orientation"] = _orientations(cases)

    cases = cases.reset_index()
    cases["case_id"] = cases["author_pseudo"].map(case_id_for)
    cases["status"] = "open"
    cases["updated_at"] = now
    cases["retention_until"] = cases["last_seen"] + CASE_RETENTION
    return cases.sort_values("case_id", kind="mergesort").reset_index(drop=True)[list(CASE_COLUMNS)]


def _add_cues(cases: pd.DataFrame, frame: pd.DataFrame, now: pd.Timestamp, age_days: np.ndarray) -> None:
    """Case-level age band, place, département, duration (as of ``now``) and help-seeking."""
    for column in ("age_band", "place", "departement"):
        latest = _latest_non_null(frame, column)[column].reindex(cases.index).astype(object)
        cases[column] = latest.where(latest.notna(), None)
    stated = _latest_non_null(frame, "duration_days").reindex(cases.index)
    elapsed = (now - stated["created_at"]).dt.total_seconds() // _SECONDS_PER_DAY
    cases["duration_days"] = (stated["duration_days"].astype("Float64") + elapsed).astype("Int64")
    recent_help = frame["help_seeking"].fillna(False).astype(bool) & (age_days <= HELP_WINDOW_DAYS)
    cases["help_seeking"] = recent_help.groupby(frame["author_pseudo"], sort=True).any().reindex(cases.index)


def _orientations(cases: pd.DataFrame) -> list[str]:
    """Orientation JSON per case; many cases share labels and cues, so each distinct one is built once."""
    built: dict[tuple, str] = {}
    result = []
    for labels, band, help_seeking, departement in zip(
        cases["labels"], cases["age_band"], cases["help_seeking"], cases["departement"], strict=True
    ):
        key = (tuple(labels), band, bool(help_seeking), departement)
        if key not in built:
            suggestions = suggest(labels, age_band=band, help_seeking=bool(help_seeking), departement=departement)
            built[key] = json.dumps(suggestions, ensure_ascii=False)
        result.append(built[key])
    return result


def _priority(cases: pd.DataFrame, present: pd.DataFrame, days_since_flag: pd.Series, half_life_days: float) -> pd.Series:
    """Priority in [0, 100]; see the module docstring for the weights."""
    strength = cases[[f"score_{label}" for label in LABELS]].max(axis=1)
    breadth = present.sum(axis=1) / len(LABELS)
    recency = 0.5 ** (days_since_flag.reindex(cases.index).clip(lower=0.0) / half_life_days)
    youth = cases["age_band"].map(YOUTH_WEIGHT).fillna(UNKNOWN_AGE_WEIGHT).astype(float)
    priority = (
        40.0 * strength + 15.0 * breadth + 15.0 * recency + 15.0 * youth
        + 10.0 * cases["help_seeking"].astype(float) + 5.0 * cases["distress"].astype(float)
    )
    return priority.clip(0.0, 100.0).round(2)


def _empty_cases() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in CASE_COLUMNS})
