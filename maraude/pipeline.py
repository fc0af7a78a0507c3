"""The work of each DAG task, as plain functions (the DAG files only wire them).

Every function takes the run's logical time (``run_at``) instead of reading the clock, writes in short
transactions, and returns a small summary of counts and ids: that summary is what travels in XCom.
Raw posts exist only in memory inside :func:`collect_source`; what leaves it is redacted and pseudonymised.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from maraude import LABELS
from maraude.settings import get_settings
from maraude import quality, warehouse

log = logging.getLogger(__name__)

SCORE_CHUNK = 256
QUARANTINE_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class Paths:
    """The warehouse a run writes to and the identity vault beside it."""

    warehouse: Path
    vault: Path

    @classmethod
    def resolve(cls, warehouse_path: str | Path | None = None) -> "Paths":
        """``warehouse_path`` if given, else the default one; the vault always sits beside the warehouse."""
        target = Path(warehouse_path) if warehouse_path else get_settings().warehouse_path
        return cls(warehouse=target, vault=target.with_name("vault.duckdb"))


def _quarantine_rows(stage, source, platform, batch_id, items, run_at):
    """Rows for ``quarantine`` from (record_ref, reason, detail) triples."""
    until = run_at + QUARANTINE_RETENTION
    return [[stage, source, platform, batch_id, ref, reason, detail, run_at, until] for ref, reason, detail in items]


def _insert_quarantine(con, rows) -> None:
    if rows:
        con.executemany(
            "INSERT INTO quarantine (stage, source, platform, batch_id, record_ref, reason, detail,"
            " quarantined_at, retention_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            rows,
        )


def _record_quality(con, outcome: quality.QualityOutcome, run_at: datetime) -> None:
    con.execute("INSERT INTO quality_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outcome.as_row(run_at))


def _gate_failed(paths: Paths, outcome: quality.QualityOutcome, run_at: datetime, quarantine_rows) -> None:
    """Record a failed gate and its quarantined rows in their own transaction, then stop the task."""
    with warehouse.connect(paths.warehouse) as con:
        con.execute("BEGIN TRANSACTION")
        _record_quality(con, outcome, run_at)
        _insert_quarantine(con, quarantine_rows)
        con.execute("COMMIT")
    raise quality.QualityGateError(outcome.error_message())


def load_sources_file(sources_file: str | Path) -> list:
    """The validated source configurations of a sources YAML file."""
    from extractors.sources import load_sources

    return load_sources(Path(sources_file))


def collect_source(source_name: str, *, sources_file: str | Path, run_at: datetime,
                   warehouse_path: str | Path | None = None) -> dict:
    """Extract what is new for one source, protect it and land it with the source's cursor, atomically.

    Order inside memory: extract → language filter (on the raw text, so English posts are never even
    redacted or stored) → pseudonymise, redact, vault (privacy.protect) → cues → quality gate → one
    transaction that upserts ``posts``, ``quarantine``, ``quality_runs`` and advances ``ingest_state``.
    A crash anywhere before that commit leaves the cursor where it was: the rerun fetches the same
    posts again and the upsert absorbs them.
    """
    import extractors
    from extractors.language import counts_as_french, detect
    from features.cues import cues_frame
    from privacy.keys import load_keys
    from privacy.optout import load_denylist
    from privacy.protect import protect
    from privacy.pseudonym import Pseudonymizer
    from privacy.retention import load_policy

    paths = Paths.resolve(warehouse_path)
    source = next((s for s in load_sources_file(sources_file) if s.name == source_name), None)
    if source is None:
        raise KeyError(f"source {source_name!r} is not configured in {sources_file}")
    batch_id = f"{source.name}@{run_at.isoformat()}"

    with warehouse.connect(paths.warehouse) as con:
        row = con.execute("SELECT cursor FROM ingest_state WHERE source = ?", [source.name]).fetchone()
        denylist = load_denylist(con)
    cursor = row[0] if row else None

    result = extractors.collect(source, cursor, limit=source.limit)
    keys = load_keys()
    pseudonymizer = Pseudonymizer(keys)

    def uid(ref):
        return pseudonymizer.post_uid(source.platform, ref) if ref else None

    rejects = [(uid(r.ref), r.reason, r.detail) for r in result.rejects]

    raw_by_uid = {uid(p.post_id): p for p in result.posts}
    collected = pd.DataFrame(
        {
            "post_uid": list(raw_by_uid),
            "created_at": [p.created_at for p in raw_by_uid.values()],
            "has_author": [bool(p.author_id) for p in raw_by_uid.values()],
            "text_chars": [len(p.text or "") for p in raw_by_uid.values()],
        }
    )
    gate = quality.validate("collected_batch", collected, batch_id=batch_id)
    for key, failed in gate.failing_keys.items():
        rejects.append((key, "quality:collected_batch", "; ".join(failed)))
        raw_by_uid.pop(key, None)
    if not gate.success:
        _gate_failed(paths, gate, run_at, _quarantine_rows("collect", source.name, source.platform, batch_id, rejects, run_at))

    languages = detect([p.text for p in raw_by_uid.values()])
    confidence = {key: found[1] for key, found in zip(raw_by_uid, languages) if counts_as_french(found)}
    non_french = len(raw_by_uid) - len(confidence)

    protected = protect([raw_by_uid[key] for key in confidence], keys=keys, vault=paths.vault, denylist=denylist)

    clean = protected.posts
    retention_until = load_policy().post_retention_until(run_at)
    posts = pd.DataFrame(
        {
            "post_uid": [c.post_uid for c in clean],
            "platform": [c.platform for c in clean],
            "source": [c.source for c in clean],
            "author_pseudo": [c.author_pseudo for c in clean],
            "created_at": [c.created_at for c in clean],
            "collected_at": [run_at] * len(clean),
            "lang": ["fr"] * len(clean),
            "lang_confidence": [confidence.get(c.post_uid) for c in clean],
            "platform_lang": [c.lang_tag for c in clean],
            "text_redacted": [c.text_redacted for c in clean],
            "thread_uid": [c.thread_uid for c in clean],
            "reply_to_uid": [c.reply_to_uid for c in clean],
        }
    )
    empty = posts["text_redacted"].map(lambda text: not (text or "").strip()).astype(bool)
    for key in posts.loc[empty, "post_uid"]:
        rejects.append((key, "empty_text", "text is empty once normalised and redacted"))
    posts = posts.loc[~empty].reset_index(drop=True)
    cues = cues_frame(posts["text_redacted"].tolist(), posts["created_at"].tolist())
    posts = pd.concat([posts, cues.reset_index(drop=True)], axis=1)
    posts["batch_id"] = batch_id
    posts["retention_until"] = retention_until

    gate2 = quality.validate("redacted_posts", posts, batch_id=batch_id)
    for key, failed in gate2.failing_keys.items():
        rejects.append((key, "quality:redacted_posts", "; ".join(failed)))
    posts = posts.loc[~posts["post_uid"].isin(gate2.failing_keys)]
    quarantine_rows = _quarantine_rows("collect", source.name, source.platform, batch_id, rejects, run_at)
    if not gate2.success:
        _gate_failed(paths, gate2, run_at, quarantine_rows)

    with warehouse.connect(paths.warehouse) as con:
        con.execute("BEGIN TRANSACTION")
        con.register("incoming_posts", posts)
        before = con.execute("SELECT count(*) FROM posts").fetchone()[0]
        con.execute(
            "INSERT INTO posts BY NAME SELECT * FROM incoming_posts ON CONFLICT (post_uid) DO NOTHING"
        )
        landed = con.execute("SELECT count(*) FROM posts").fetchone()[0] - before
        _insert_quarantine(con, quarantine_rows)
        _record_quality(con, gate, run_at)
        _record_quality(con, gate2, run_at)
        con.execute(
            "INSERT INTO ingest_state VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET"
            " cursor = excluded.cursor, last_batch_id = excluded.last_batch_id,"
            " last_count = excluded.last_count, updated_at = excluded.updated_at",
            [source.name, source.platform, result.new_cursor or cursor, batch_id, landed, run_at],
        )
        con.execute("COMMIT")

    summary = {
        "source": source.name,
        "batch_id": batch_id,
        "fetched": len(result.posts),
        "landed": int(landed),
        "already_known": int(len(posts) - landed),
        "quarantined": len(quarantine_rows),
        "non_french": non_french,
        "denylisted": protected.dropped_denylisted,
        **{f"extract_{k}": v for k, v in result.stats.items() if isinstance(v, int)},
    }
    log.info("collected %s", json.dumps(summary))
    return summary


def score_posts(*, run_at: datetime, warehouse_path: str | Path | None = None, model_dir: str | Path | None = None) -> dict:
    """Classify the posts the champion has not scored yet, explain the flagged ones, land ``predictions``."""
    from models.explain import explain
    from models.inference import Classifier

    paths = Paths.resolve(warehouse_path)
    classifier = Classifier.load(_model_dir(model_dir))
    with warehouse.connect(paths.warehouse, read_only=True) as con:
        todo = con.execute(
            "SELECT post_uid, text_redacted FROM posts p WHERE text_redacted IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM predictions r WHERE r.post_uid = p.post_uid AND r.model_version = ?)"
            " ORDER BY post_uid",
            [classifier.version],
        ).fetchall()
    scored = flagged_total = 0
    per_label = dict.fromkeys(LABELS, 0)
    for start in range(0, len(todo), SCORE_CHUNK):
        chunk = todo[start:start + SCORE_CHUNK]
        texts = [text for _, text in chunk]
        probs = classifier.predict_proba(texts)
        flags = classifier.flag(probs)
        flagged_idx = [i for i, f in enumerate(flags) if f]
        explanations = [None] * len(chunk)
        if flagged_idx:
            found = explain(classifier, [texts[i] for i in flagged_idx], [flags[i] for i in flagged_idx])
            for i, expl in zip(flagged_idx, found):
                explanations[i] = json.dumps(expl, ensure_ascii=False)
        frame = pd.DataFrame(probs, columns=list(classifier.labels))
        frame.insert(0, "post_uid", [uid for uid, _ in chunk])
        frame["model_version"] = classifier.version
        frame["flagged_labels"] = flags
        frame["explanation"] = explanations
        frame["scored_at"] = run_at
        frame["flags_known"] = [set(f) <= set(LABELS) for f in flags]
        gate = quality.validate("predictions", frame, batch_id=f"score@{run_at.isoformat()}#{start}")
        if not gate.success:
            _gate_failed(paths, gate, run_at, _quarantine_rows(
                "score", None, None, gate.batch_id,
                [(k, "quality:predictions", "; ".join(v)) for k, v in gate.failing_keys.items()], run_at))
        with warehouse.connect(paths.warehouse) as con:
            con.execute("BEGIN TRANSACTION")
            con.register("incoming_predictions", frame.drop(columns=["flags_known"]))
            con.execute(
                "INSERT INTO predictions BY NAME SELECT * FROM incoming_predictions"
                " ON CONFLICT (post_uid, model_version) DO NOTHING"
            )
            _record_quality(con, gate, run_at)
            con.execute("COMMIT")
        scored += len(chunk)
        flagged_total += len(flagged_idx)
        for f in flags:
            for label in f:
                per_label[label] += 1
    summary = {"model_version": classifier.version, "scored": scored, "flagged": flagged_total, **per_label}
    log.info("scored %s", json.dumps(summary))
    return summary


CLOSING_DECISIONS = ("already_supported", "not_concerned", "false_alarm", "closed")


def _model_dir(model_dir: str | Path | None) -> Path:
    """The given model folder, else the champion's."""
    if model_dir:
        return Path(model_dir)
    from models.inference import champion_version

    settings = get_settings()
    return settings.models_dir / champion_version(settings)


def refresh_cases(*, run_at: datetime, warehouse_path: str | Path | None = None,
                  model_dir: str | Path | None = None) -> dict:
    """Rebuild one case per author from the model's predictions (default: the champion), keep review status.

    Status follows the latest review: a closing decision closes the case, reach_out/watch put it in
    review; new evidence posted after a closing review reopens it, so nobody is dropped for good.
    """
    from features.cases import build_cases
    from models.inference import read_model_info

    paths = Paths.resolve(warehouse_path)
    info = read_model_info(_model_dir(model_dir))
    version, thresholds = info["version"], info["thresholds"]
    with warehouse.connect(paths.warehouse, read_only=True) as con:
        posts = con.execute("SELECT * FROM posts").df()
        predictions = con.execute("SELECT * FROM predictions WHERE model_version = ?", [version]).df()
        reviews = con.execute(
            "SELECT case_id, decision, reviewed_at FROM reviews"
            " QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY reviewed_at DESC, review_id DESC) = 1"
        ).df()
    cases = build_cases(posts, predictions, as_of=run_at, thresholds=thresholds)
    if not cases.empty and not reviews.empty:
        merged = cases[["case_id", "last_seen"]].merge(reviews, on="case_id", how="left")
        closing = merged["decision"].isin(CLOSING_DECISIONS)
        new_evidence = pd.to_datetime(merged["last_seen"], utc=True) > pd.to_datetime(merged["reviewed_at"], utc=True)
        status = pd.Series("open", index=merged.index)
        status[merged["decision"].notna() & ~closing] = "in_review"
        status[closing & ~new_evidence] = "closed"
        cases["status"] = status.values
    checks = cases.assign(
        flagged_within_posts=cases["n_flagged"] <= cases["n_posts"],
        distress_labelled=~cases["distress"].astype(bool) | (cases["score_distress"] > 0),
    )
    gate = quality.validate("cases", checks, batch_id=f"cases@{run_at.isoformat()}")
    if not gate.success:
        _gate_failed(paths, gate, run_at, _quarantine_rows(
            "cases", None, None, gate.batch_id,
            [(k, "quality:cases", "; ".join(v)) for k, v in gate.failing_keys.items()], run_at))
    with warehouse.connect(paths.warehouse) as con:
        con.execute("BEGIN TRANSACTION")
        con.register("incoming_cases", cases)
        con.execute("DELETE FROM cases")
        con.execute("INSERT INTO cases BY NAME SELECT * FROM incoming_cases")
        _record_quality(con, gate, run_at)
        con.execute("COMMIT")
    summary = {
        "cases": int(len(cases)),
        "open": int((cases["status"] == "open").sum()) if len(cases) else 0,
        "distress": int(cases["distress"].sum()) if len(cases) else 0,
    }
    log.info("cases %s", json.dumps(summary))
    return summary
