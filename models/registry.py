"""Model registry: folders under ``var/models/<version>/``, rows in ``models``, the champion and its promotion gate.

Statuses: a newly trained model is a ``challenger``; exactly one model is the ``champion`` (its
version is also in ``var/models/CHAMPION``, which ``models.inference.load_champion`` reads); a
champion that gets replaced becomes ``retired``. Challengers that fail the gate stay ``challenger``.

Promotion gate (:func:`gate`), on the **same test split** for both models (the champion is
re-scored on the challenger's test split when it was evaluated on another corpus):

- test macro-F1 of the challenger >= the champion's (no tolerance: a new model must not be worse
  on the overall figure);
- test ``distress`` recall of the challenger >= the champion's - :data:`DISTRESS_RECALL_TOLERANCE`.
  The tolerance is one post in a hundred: distress recall moves in steps of 1/positives (about
  0.01 on our test split), so an exact rule would reject a model for one post in either direction
  while it is better overall.

Every decision, promotion or not, is written to ``audit_log`` with both models' figures.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from maraude.settings import Settings, get_settings

MACRO_F1_TOLERANCE = 0.0
DISTRESS_RECALL_TOLERANCE = 0.01


@dataclass(frozen=True)
class GateDecision:
    """The outcome of the promotion gate, with both models' figures (``champion`` is None for the first model)."""

    promote: bool
    reason: str
    challenger: dict
    champion: dict | None
    champion_version: str | None = None


def gate(challenger: dict, champion: dict | None) -> GateDecision:
    """Decide from ``{"macro_f1", "distress_recall"}`` figures on the same test split (see the module docstring)."""
    if champion is None:
        return GateDecision(True, "no champion yet: the first evaluated model becomes champion", challenger, None)
    failures = []
    if challenger["macro_f1"] < champion["macro_f1"] - MACRO_F1_TOLERANCE:
        failures.append(f"macro-F1 {challenger['macro_f1']:.4f} < champion's {champion['macro_f1']:.4f}")
    if challenger["distress_recall"] < champion["distress_recall"] - DISTRESS_RECALL_TOLERANCE:
        failures.append(
            f"distress recall {challenger['distress_recall']:.4f} < champion's {champion['distress_recall']:.4f}"
            f" - {DISTRESS_RECALL_TOLERANCE}"
        )
    if failures:
        return GateDecision(False, "; ".join(failures), challenger, champion)
    return GateDecision(
        True,
        f"macro-F1 {challenger['macro_f1']:.4f} >= {champion['macro_f1']:.4f} and distress recall "
        f"{challenger['distress_recall']:.4f} >= {champion['distress_recall']:.4f} - {DISTRESS_RECALL_TOLERANCE}",
        challenger,
        champion,
    )


def champion_file(settings: Settings | None = None) -> Path:
    """``var/models/CHAMPION``: one line, the champion's version."""
    return (settings or get_settings()).models_dir / "CHAMPION"


def read_champion_file(settings: Settings | None = None) -> str | None:
    """The version in ``CHAMPION``, or None when there is none yet."""
    path = champion_file(settings)
    if not path.exists():
        return None
    version = path.read_text(encoding="utf-8").strip()
    return version or None


def _write_champion_file(settings: Settings, version: str) -> None:
    path = champion_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(version + "\n", encoding="utf-8")
    # Atomic: a scoring task reading CHAMPION during a promotion sees the old or the new version, never half a line.
    os.replace(tmp, path)


def register(
    model_dir: str | Path,
    *,
    warehouse_path: str | Path | None = None,
    status: str = "challenger",
) -> str:
    """Upsert the ``models`` row of a model folder (from its ``maraude.json``); returns its version.

    Re-registering keeps the current status of a known version (a champion stays champion).
    """
    from maraude.warehouse import connect, migrate
    from models.inference import read_model_info

    model_dir = Path(model_dir).resolve()
    info = read_model_info(model_dir)
    migrate(warehouse_path)
    params = {key: value for key, value in info.get("params", {}).items()}
    with connect(warehouse_path) as con:
        known = con.execute("SELECT status FROM models WHERE model_version = ?", [info["version"]]).fetchone()
        con.execute(
            "INSERT OR REPLACE INTO models (model_version, created_at, base_model, corpus_hash, labels, thresholds,"
            " status, path, train_seconds, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                info["version"],
                datetime.fromisoformat(info["created_at"]),
                info["base_model"],
                info["corpus_hash"],
                list(info["labels"]),
                json.dumps(info["thresholds"]),
                known[0] if known else status,
                str(model_dir),
                info.get("train_seconds"),
                json.dumps(params, default=str),
            ],
        )
    return info["version"]


def champion_version(warehouse_path: str | Path | None = None) -> str | None:
    """The version whose row has status ``champion``, or None."""
    from maraude.warehouse import connect, migrate

    migrate(warehouse_path)
    with connect(warehouse_path) as con:
        row = con.execute("SELECT model_version FROM models WHERE status = 'champion'").fetchone()
    return row[0] if row else None


def _model_path(version: str, warehouse_path: str | Path | None) -> Path:
    from maraude.warehouse import connect

    with connect(warehouse_path) as con:
        row = con.execute("SELECT path FROM models WHERE model_version = ?", [version]).fetchone()
    if row is None:
        raise LookupError(f"model {version!r} is not registered in the warehouse; register it with models.registry.register")
    return Path(row[0])


def _read_report(model_dir: Path) -> dict:
    path = model_dir / "metrics.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: evaluate the model first (`maraude evaluate --model {model_dir}`)")
    return json.loads(path.read_text(encoding="utf-8"))


def champion_figures_on(champion_dir: Path, records: Sequence[dict]) -> dict:
    """The champion's gate figures re-computed on the test split of ``records`` (through the serving path)."""
    from models.evaluate import compute_metrics
    from models.inference import Classifier
    from models.train import labels_matrix

    test = [r for r in records if r["split"] == "test"]
    classifier = Classifier.load(champion_dir)
    figures = compute_metrics(labels_matrix(test), classifier.predict_proba([r["text"] for r in test]), classifier.thresholds, n_boot=0, curves=False)
    return {"macro_f1": figures["macro"]["f1"], "distress_recall": figures["labels"]["distress"]["recall"]}


def promote(
    version: str,
    *,
    settings: Settings | None = None,
    warehouse_path: str | Path | None = None,
    reason: str,
    details: dict | None = None,
) -> None:
    """Make ``version`` the champion (the previous one retires), audit it, then write ``CHAMPION``."""
    from maraude.warehouse import audit, connect

    settings = settings or get_settings()
    with connect(warehouse_path) as con:
        con.execute("BEGIN TRANSACTION")
        previous = con.execute("SELECT model_version FROM models WHERE status = 'champion'").fetchall()
        con.execute("UPDATE models SET status = 'retired' WHERE status = 'champion' AND model_version <> ?", [version])
        updated = con.execute("UPDATE models SET status = 'champion' WHERE model_version = ? RETURNING model_version", [version]).fetchall()
        if not updated:
            con.execute("ROLLBACK")
            raise LookupError(f"model {version!r} is not registered in the warehouse; register it before promoting it")
        audit(
            con,
            action="model_promoted",
            target=version,
            reason=reason,
            details={**(details or {}), "previous_champion": [row[0] for row in previous if row[0] != version]},
        )
        con.execute("COMMIT")
    _write_champion_file(settings, version)


def promote_if_better(
    version: str,
    *,
    settings: Settings | None = None,
    warehouse_path: str | Path | None = None,
    records: Sequence[dict] | None = None,
) -> GateDecision:
    """Apply :func:`gate` to a registered, evaluated challenger and promote it when it passes.

    The champion's figures come from its own ``metrics.json`` when it was evaluated on the same
    corpus (same hash), else it is re-scored on the test split of ``records`` (the challenger's
    corpus; required in that case). The decision is audited either way.
    """
    from maraude.warehouse import audit, connect
    from models.evaluate import gate_figures

    settings = settings or get_settings()
    challenger_dir = _model_path(version, warehouse_path)
    challenger_report = _read_report(challenger_dir)
    challenger = gate_figures(challenger_report)
    current = champion_version(warehouse_path)
    champion = None
    if current is not None and current != version:
        champion_dir = _model_path(current, warehouse_path)
        champion_report = _read_report(champion_dir) if (champion_dir / "metrics.json").exists() else {}
        if champion_report.get("corpus_hash") == challenger_report.get("corpus_hash"):
            champion = gate_figures(champion_report)
        elif records is None:
            raise ValueError(
                f"champion {current} was evaluated on another corpus than {version}: pass the challenger's corpus records "
                "so the champion is re-scored on the same test split"
            )
        else:
            champion = champion_figures_on(champion_dir, records)
    elif current == version:
        return GateDecision(False, f"{version} is already the champion", challenger, challenger, current)
    decision = gate(challenger, champion)
    decision = GateDecision(decision.promote, decision.reason, challenger, champion, current)
    details = {"challenger": challenger, "champion": champion, "champion_version": current}
    if decision.promote:
        promote(version, settings=settings, warehouse_path=warehouse_path, reason=decision.reason, details=details)
    else:
        with connect(warehouse_path) as con:
            audit(con, action="model_not_promoted", target=version, reason=decision.reason, details=details)
    return decision


def train_evaluate_register(
    *,
    settings: Settings | None = None,
    warehouse_path: str | Path | None = None,
    corpus_path: str | Path | None = None,
    base: str | None = None,
    epochs: int | None = None,
    time_budget_s: float | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    promote_when_better: bool = True,
) -> tuple[str, GateDecision | None]:
    """Train a challenger on the corpus, evaluate it with the baselines, register it, and apply the gate.

    ``epochs`` and ``time_budget_s`` override the defaults of :class:`models.train.TrainConfig` when
    given. Models written outside ``var/models`` (``out``) are registered but never promoted, since
    the serving side finds the champion under ``var/models/<version>``.
    """
    from models.corpus.build import CORPUS_PATH, load_corpus
    from models.evaluate import evaluate_model_dir
    from models.train import TrainConfig, copy_config, train_from_corpus

    settings = settings or get_settings()
    settings.ensure_dirs()
    corpus_path = Path(corpus_path or CORPUS_PATH)
    records = load_corpus(corpus_path)
    result = train_from_corpus(
        records, settings=settings, base=base, out=out, config=copy_config(TrainConfig(), epochs=epochs, time_budget_s=time_budget_s), progress=progress
    )
    evaluate_model_dir(result.model_dir, records, warehouse_path=warehouse_path)
    register(result.model_dir, warehouse_path=warehouse_path)
    in_models_dir = result.model_dir.resolve().parent == settings.models_dir.resolve()
    if not (promote_when_better and in_models_dir):
        return result.version, None
    return result.version, promote_if_better(result.version, settings=settings, warehouse_path=warehouse_path, records=records)


def ensure_champion(settings: Settings | None = None, warehouse_path: str | Path | None = None, progress: bool = True) -> str:
    """The champion's version; trains, evaluates and registers the default model first when there is none.

    Used by ``maraude demo`` on its first run. When ``CHAMPION`` names an existing folder that this
    warehouse does not know yet (a fresh warehouse), the folder is registered as champion and its
    stored metrics are loaded, without retraining.
    """
    from maraude.warehouse import connect, migrate
    from models.evaluate import report_rows, store_metrics

    settings = settings or get_settings()
    settings.ensure_dirs()
    migrate(warehouse_path)
    version = read_champion_file(settings)
    if version and (settings.models_dir / version / "maraude.json").exists():
        if champion_version(warehouse_path) != version:
            model_dir = settings.models_dir / version
            register(model_dir, warehouse_path=warehouse_path)
            if (model_dir / "metrics.json").exists():
                with connect(warehouse_path) as con:
                    has_metrics = con.execute("SELECT count(*) FROM model_metrics WHERE model_version = ?", [version]).fetchone()[0]
                if not has_metrics:
                    store_metrics(warehouse_path, report_rows(version, _read_report(model_dir)), version)
            promote(version, settings=settings, warehouse_path=warehouse_path, reason="champion folder registered in this warehouse",
                    details={"source": "CHAMPION file"})
        return version
    version, decision = train_evaluate_register(settings=settings, warehouse_path=warehouse_path, progress=progress)
    if decision is None or not decision.promote:
        # Only reachable when another champion appeared meanwhile; keep whichever the gate chose.
        return read_champion_file(settings) or version
    return version


def decision_dict(decision: GateDecision) -> dict:
    """JSON-friendly form of a decision (for XCom and command output)."""
    return asdict(decision)

