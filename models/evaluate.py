"""Evaluate a model folder and the two baselines on the test split, in one run.

Figures per system (``model``, ``keywords``, ``tfidf_logreg``), computed by :func:`compute_metrics`:
precision, recall, F1, PR-AUC (average precision) per label and their macro mean; bootstrap 95 %
intervals (posts resampled with replacement) for precision, recall, F1 and macro-F1; calibration
(expected calibration error over 10 equal-width bins, and the reliability bins themselves); PR-curve
points on a fixed threshold grid; confusions between labels; the same per style and per variety.
On real ordinary French posts (``../shared/realdata/text``, evaluation only, never training or
tuning), the share of posts flagged by any label and by each label: the false-alarm estimate.

Where the figures go:

- ``metrics.json`` in the model folder (everything, nested) and ``MODEL_CARD.md`` beside it;
- rows of ``model_metrics`` (one value per model_version, system, split, slice, label, metric).
  ``label`` is a label, ``macro`` (mean over labels) or ``any`` (realdata: flagged by at least one
  label). Curves are stored as rows too, so the audit notebook needs only the warehouse:
  ``pr_precision@0.35`` / ``pr_recall@0.35`` (precision and recall at threshold 0.35),
  ``reliability_score@bin03`` / ``reliability_positive@bin03`` (mean score and observed share of
  positives in bin 3, ``n`` = posts in the bin), ``flagged_as:<B>`` on label ``A`` (share of the posts
  labelled A but not B — or with no label, ``none`` — flagged B; on the diagonal, A's recall;
  ``flagged_as:nothing`` for no flag at all).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from maraude import LABELS
from maraude.settings import REPO_ROOT

SYSTEMS = ("model", "keywords", "tfidf_logreg")
CURVE_GRID = np.round(np.arange(0.02, 1.0, 0.02), 2)
N_BINS = 10
N_BOOTSTRAP = 1000
MIN_SLICE_POSTS = 10


def default_realdata_dir() -> Path:
    """``$MARAUDE_REALDATA``, else ``../shared/realdata/text`` beside the repository."""
    return Path(os.environ.get("MARAUDE_REALDATA") or REPO_ROOT.parent / "shared" / "realdata" / "text")


def _safe_div(numerator: np.ndarray | float, denominator: np.ndarray | float) -> np.ndarray:
    numerator, denominator = np.asarray(numerator, dtype=np.float64), np.asarray(denominator, dtype=np.float64)
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


def _prf(y_true: np.ndarray, predicted: np.ndarray, axis: int = -2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 per label from boolean arrays (..., n, labels); 0 where undefined (sklearn's zero_division=0)."""
    true_positive = np.sum(predicted & y_true, axis=axis)
    predicted_positive = np.sum(predicted, axis=axis)
    actual_positive = np.sum(y_true, axis=axis)
    precision = _safe_div(true_positive, predicted_positive)
    recall = _safe_div(true_positive, actual_positive)
    f1 = _safe_div(2 * true_positive, predicted_positive + actual_positive)
    return precision, recall, f1


def bootstrap_intervals(
    y_true: np.ndarray, predicted: np.ndarray, n_boot: int = N_BOOTSTRAP, seed: int = 0
) -> dict[str, np.ndarray]:
    """95 % percentile intervals of precision, recall, F1 (per label, shape (2, labels)) and macro-F1 (shape (2,))."""
    rng = np.random.default_rng(seed)
    n = len(y_true)
    intervals: dict[str, list] = {"precision": [], "recall": [], "f1": [], "macro_f1": []}
    # Chunks keep memory small (chunk x n x labels booleans).
    for start in range(0, n_boot, 200):
        size = min(200, n_boot - start)
        index = rng.integers(0, n, size=(size, n))
        precision, recall, f1 = _prf(y_true[index], predicted[index], axis=1)
        intervals["precision"].append(precision)
        intervals["recall"].append(recall)
        intervals["f1"].append(f1)
        intervals["macro_f1"].append(f1.mean(axis=1))
    return {name: np.percentile(np.concatenate(values), [2.5, 97.5], axis=0) for name, values in intervals.items()}


def reliability(y_true: np.ndarray, scores: np.ndarray, n_bins: int = N_BINS) -> tuple[float, list[dict]]:
    """(ECE, bins) of one label: equal-width score bins with mean score, share of positives and count."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        inside = which == b
        count = int(inside.sum())
        if count:
            mean_score = float(scores[inside].mean())
            positive_share = float(y_true[inside].mean())
            ece += count / len(scores) * abs(mean_score - positive_share)
        else:
            mean_score = positive_share = None
        bins.append({"bin": b, "low": float(edges[b]), "high": float(edges[b + 1]), "mean_score": mean_score, "positive_share": positive_share, "n": count})
    return float(ece), bins


def confusions(y_true: np.ndarray, predicted: np.ndarray, labels: Sequence[str]) -> dict[str, dict]:
    """Which labels the posts of each true label (and of ``none``) get flagged with, wrongly.

    Row ``A``, column ``flagged_as:B`` (B != A): among posts labelled A but *not* B, the share flagged
    B — a confusion, not a co-occurrence (many posts carry both A and B). The diagonal is A's recall;
    ``flagged_as:nothing`` is the share with no flag at all. ``n`` is the number of posts labelled A.
    """
    table = {}
    rows = [(label, y_true[:, j]) for j, label in enumerate(labels)] + [("none", ~y_true.any(axis=1))]
    for name, mask in rows:
        entry: dict = {"n": int(mask.sum())}
        for j, label in enumerate(labels):
            among = mask if label == name else mask & ~y_true[:, j]
            entry[f"flagged_as:{label}"] = float(predicted[among, j].mean()) if among.any() else None
        entry["flagged_as:nothing"] = float((~predicted[mask].any(axis=1)).mean()) if mask.any() else None
        table[name] = entry
    return table


def compute_metrics(
    y_true: np.ndarray,
    probs: np.ndarray,
    thresholds: dict[str, float],
    labels: Sequence[str] = LABELS,
    *,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
    curves: bool = True,
) -> dict:
    """All the figures of one system on one set of posts (see the module docstring).

    ``y_true`` is a 0/1 matrix (n, labels), ``probs`` the scores; a post is flagged for a label when
    its score is >= the label's threshold. ``n_boot=0`` skips the intervals.
    """
    from sklearn.metrics import average_precision_score

    labels = list(labels)
    y = np.asarray(y_true).astype(bool)
    probs = np.asarray(probs, dtype=np.float64)
    cut = np.array([thresholds[label] for label in labels])
    predicted = probs >= cut
    precision, recall, f1 = _prf(y, predicted)
    intervals = bootstrap_intervals(y, predicted, n_boot, seed) if n_boot and len(y) else None
    result = {"n": int(len(y)), "labels": {}, "macro": {}}
    for j, label in enumerate(labels):
        has_both = 0 < y[:, j].sum() < len(y)
        ece, bins = reliability(y[:, j], probs[:, j])
        entry = {
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
            "pr_auc": float(average_precision_score(y[:, j], probs[:, j])) if has_both else None,
            "support": int(y[:, j].sum()),
            "flagged": int(predicted[:, j].sum()),
            "threshold": float(cut[j]),
            "ece": ece,
        }
        if intervals is not None:
            entry["ci"] = {name: [float(intervals[name][0, j]), float(intervals[name][1, j])] for name in ("precision", "recall", "f1")}
        if curves:
            entry["reliability"] = bins
            entry["pr_curve"] = [
                {
                    "threshold": float(t),
                    "precision": float(_safe_div(np.sum((probs[:, j] >= t) & y[:, j]), np.sum(probs[:, j] >= t))),
                    "recall": float(_safe_div(np.sum((probs[:, j] >= t) & y[:, j]), y[:, j].sum())),
                }
                for t in CURVE_GRID
            ]
        result["labels"][label] = entry
    pr_aucs = [result["labels"][label]["pr_auc"] for label in labels if result["labels"][label]["pr_auc"] is not None]
    result["macro"] = {
        "precision": float(precision.mean()),
        "recall": float(recall.mean()),
        "f1": float(f1.mean()),
        "pr_auc": float(np.mean(pr_aucs)) if pr_aucs else None,
        "ece": float(np.mean([result["labels"][label]["ece"] for label in labels])),
    }
    if intervals is not None:
        result["macro"]["ci"] = {"f1": [float(intervals["macro_f1"][0]), float(intervals["macro_f1"][1])]}
    result["confusions"] = confusions(y, predicted, labels)
    return result


def sliced_metrics(
    y_true: np.ndarray, probs: np.ndarray, thresholds: dict[str, float], records: Sequence[dict], keys: Sequence[str] = ("style", "variety"), *, n_boot: int = N_BOOTSTRAP, seed: int = 0
) -> dict[str, dict]:
    """:func:`compute_metrics` (without curves) for each ``key=value`` slice with at least :data:`MIN_SLICE_POSTS` posts."""
    slices = {}
    for key in keys:
        values = sorted({record.get(key) for record in records if record.get(key)})
        for value in values:
            mask = np.array([record.get(key) == value for record in records])
            if mask.sum() < MIN_SLICE_POSTS:
                continue
            slices[f"{key}={value}"] = compute_metrics(y_true[mask], probs[mask], thresholds, n_boot=n_boot, seed=seed, curves=False)
    return slices


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (good for rates near 0, like false alarms)."""
    if n == 0:
        return (0.0, 0.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def load_realdata_ordinary(realdata_dir: str | Path | None = None) -> list[dict]:
    """Real ordinary French posts (see SOURCES.md there): MLMA tweets labelled only ``normal``, ToxiFrench label 0.

    For measuring false alarms only: never train or tune on them. Returns ``[{"source", "text"}]``,
    empty when the folder is absent (a clone without the shared data).
    """
    folder = Path(realdata_dir) if realdata_dir else default_realdata_dir()
    posts = []
    csv.field_size_limit(sys.maxsize)
    mlma = folder / "mlma_hate_speech" / "fr_dataset.csv"
    if mlma.exists():
        with mlma.open(encoding="utf-8", newline="") as handle:
            posts += [{"source": "mlma", "text": row["tweet"]} for row in csv.DictReader(handle) if row["sentiment"].strip() == "normal" and row["tweet"].strip()]
    toxifrench = folder / "toxifrench" / "ToxiFrenchBalanced.csv"
    if toxifrench.exists():
        with toxifrench.open(encoding="utf-8", newline="") as handle:
            posts += [{"source": "toxifrench", "text": row["content"]} for row in csv.DictReader(handle) if row["label"].strip() == "0" and row["content"].strip()]
    return posts


def flag_rates(probs: np.ndarray, thresholds: dict[str, float], sources: Sequence[str], labels: Sequence[str] = LABELS) -> dict[str, dict]:
    """Share of posts flagged (any label and per label), overall (``all``) and per ``source=...``, with Wilson intervals."""
    predicted = np.asarray(probs) >= np.array([thresholds[label] for label in labels])
    sources = np.asarray(sources)
    result = {}
    for name in ["all", *(f"source={s}" for s in sorted(set(sources.tolist())))]:
        mask = np.ones(len(sources), bool) if name == "all" else sources == name.split("=", 1)[1]
        chosen = predicted[mask]
        entry = {"n": int(mask.sum())}
        for label, column in [("any", chosen.any(axis=1)), *((label, chosen[:, j]) for j, label in enumerate(labels))]:
            count = int(column.sum())
            entry[label] = {"flagged": count, "rate": count / max(int(mask.sum()), 1), "ci": list(wilson_interval(count, int(mask.sum())))}
        result[name] = entry
    return result


def metric_rows(model_version: str, system: str, split: str, slice_name: str, figures: dict, labels: Sequence[str] = LABELS) -> list[tuple]:
    """Flatten :func:`compute_metrics` output into ``model_metrics`` rows (without computed_at)."""
    rows = []

    def add(label, metric, value, ci=None, n=None):
        low, high = (ci or (None, None))
        rows.append((model_version, system, split, slice_name, label, metric, value, low, high, n))

    for label in labels:
        entry = figures["labels"][label]
        ci = entry.get("ci", {})
        for metric in ("precision", "recall", "f1"):
            add(label, metric, entry[metric], ci.get(metric), figures["n"])
        add(label, "pr_auc", entry["pr_auc"], None, figures["n"])
        add(label, "ece", entry["ece"], None, figures["n"])
        add(label, "threshold", entry["threshold"])
        add(label, "support", float(entry["support"]), None, figures["n"])
        for point in entry.get("pr_curve", []):
            add(label, f"pr_precision@{point['threshold']:.2f}", point["precision"], None, figures["n"])
            add(label, f"pr_recall@{point['threshold']:.2f}", point["recall"], None, figures["n"])
        for bin_ in entry.get("reliability", []):
            add(label, f"reliability_score@bin{bin_['bin']:02d}", bin_["mean_score"], None, bin_["n"])
            add(label, f"reliability_positive@bin{bin_['bin']:02d}", bin_["positive_share"], None, bin_["n"])
    macro = figures["macro"]
    for metric in ("precision", "recall", "f1", "pr_auc", "ece"):
        add("macro", metric, macro[metric], macro.get("ci", {}).get(metric), figures["n"])
    for true_label, entry in figures.get("confusions", {}).items():
        for metric, value in entry.items():
            if metric != "n":
                add(true_label, metric, value, None, entry["n"])
    return rows


def realdata_rows(model_version: str, system: str, rates: dict, labels: Sequence[str] = LABELS) -> list[tuple]:
    """``model_metrics`` rows (split ``realdata``, metric ``flag_rate``) of :func:`flag_rates` output."""
    rows = []
    for slice_name, entry in rates.items():
        for label in ("any", *labels):
            figure = entry[label]
            rows.append((model_version, system, "realdata", slice_name, label, "flag_rate", figure["rate"], figure["ci"][0], figure["ci"][1], entry["n"]))
    return rows


def store_metrics(warehouse_path: str | Path | None, rows: Sequence[tuple], model_version: str) -> int:
    """Replace the ``model_metrics`` rows of ``model_version`` with ``rows`` (one transaction); returns the count."""
    from maraude.warehouse import connect, migrate

    migrate(warehouse_path)
    computed_at = datetime.now(timezone.utc)
    with connect(warehouse_path) as con:
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM model_metrics WHERE model_version = ?", [model_version])
        con.executemany(
            "INSERT INTO model_metrics (model_version, system, split, slice, label, metric, value, ci_low, ci_high, n, computed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(*row, computed_at) for row in rows],
        )
        con.execute("COMMIT")
    return len(rows)


def _strip_curves(figures: dict) -> dict:
    return {**figures, "labels": {k: {m: v for m, v in e.items() if m not in ("pr_curve", "reliability")} for k, e in figures["labels"].items()}}


def evaluate_systems(
    systems: dict[str, object],
    records: Sequence[dict],
    *,
    realdata: Sequence[dict] = (),
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
) -> dict:
    """Figures of each system (``name -> object with thresholds and predict_proba``) on test and validation, plus realdata rates."""
    from models.train import labels_matrix

    splits = {name: [r for r in records if r["split"] == name] for name in ("test", "validation")}
    report: dict = {"n": {name: len(rows) for name, rows in splits.items()}, "systems": {}}
    report["n"]["realdata"] = len(realdata)
    for name, system in systems.items():
        entry: dict = {"thresholds": dict(system.thresholds)}
        test = splits["test"]
        y_test = labels_matrix(test)
        exits_before = getattr(system, "posts_exited", None)
        test_probs = system.predict_proba([r["text"] for r in test])
        if exits_before is not None and getattr(system, "exit_probe", None) is not None and test:
            # how much of the test split the early exit stopped: part of what the test figures measure
            entry["test_exit_share"] = round((system.posts_exited - exits_before) / len(test), 4)
        entry["test"] = compute_metrics(y_test, test_probs, system.thresholds, n_boot=n_boot, seed=seed)
        entry["test_slices"] = sliced_metrics(y_test, test_probs, system.thresholds, test, n_boot=n_boot, seed=seed)
        validation = splits["validation"]
        if validation:
            val_probs = system.predict_proba([r["text"] for r in validation])
            entry["validation"] = compute_metrics(labels_matrix(validation), val_probs, system.thresholds, n_boot=0, curves=False)
        if realdata:
            exits_before = getattr(system, "posts_exited", None)
            real_probs = system.predict_proba([post["text"] for post in realdata])
            if exits_before is not None and getattr(system, "exit_probe", None) is not None:
                entry["realdata_exit_share"] = round((system.posts_exited - exits_before) / len(realdata), 4)
            entry["realdata"] = flag_rates(real_probs, system.thresholds, [post["source"] for post in realdata])
        report["systems"][name] = entry
    return report


def report_rows(model_version: str, report: dict) -> list[tuple]:
    """All ``model_metrics`` rows of an :func:`evaluate_systems` report."""
    rows = []
    for system, entry in report["systems"].items():
        rows += metric_rows(model_version, system, "test", "all", entry["test"])
        for slice_name, figures in entry["test_slices"].items():
            rows += metric_rows(model_version, system, "test", slice_name, figures)
        if "validation" in entry:
            rows += metric_rows(model_version, system, "validation", "all", entry["validation"])
        if "realdata" in entry:
            rows += realdata_rows(model_version, system, entry["realdata"])
    return rows


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _ci(entry: dict, metric: str) -> str:
    low_high = entry.get("ci", {}).get(metric)
    return f"{_fmt(entry[metric])} [{_fmt(low_high[0], 2)}–{_fmt(low_high[1], 2)}]" if low_high else _fmt(entry[metric])


def serving_lines(info: dict) -> list[str]:
    """The model card's paragraph on how the model is served: int8 or not, early exit, and why."""
    params = info.get("params", {})
    figures = params.get("validation_macro_f1_by_serving") or {}
    lines = ["## Serving", f"Served {'with int8 dynamic quantisation (SmoothQuant-smoothed where the folder has activation maxima)' if info.get('quantize') else 'in float32'}"]
    probe = info.get("early_exit")
    if probe:
        validation = probe.get("validation", {})
        lines[-1] += (
            f", with an **early exit** after layer {probe['layer']}: a post whose probe probability of carrying any label is below "
            f"{probe['threshold']:.4f} stops there and carries that probability for every label. On validation "
            f"{_fmt(validation.get('exit_share'), 3)} of the posts exited, and {_fmt(validation.get('must_stay_kept'), 4)} of the posts "
            "with a gold label or a full-model flag went on (target "
            f"{validation.get('keep_target', '?')})."
        )
    elif info.get("early_exit_rejected"):
        lines[-1] += ", without early exit (it cost too much validation macro-F1)."
    else:
        lines[-1] += ", without early exit."
    if figures:
        lines.append(
            "Validation macro-F1 of each serving option (the fastest within "
            f"{params.get('int8_max_f1_loss', 0.01)} of float32 is served): "
            + ", ".join(f"{name} {value:.3f}" for name, value in figures.items())
            + "."
        )
    return lines


def model_card(info: dict, report: dict) -> str:
    """MODEL_CARD.md: intended use and users, data, metrics vs baselines, calibration, slices, false alarms, limits, ethics."""
    systems = report["systems"]
    model = systems["model"]
    lines = [
        f"# Model card — `{info['version']}`",
        "",
        "## What it is",
        f"A multi-label classifier of French social-media posts for four signals about the author's own situation "
        f"(`{'`, `'.join(info['labels'])}`; definitions in `../shared/LABELS.md`). Fine-tuned from `{info['base_model']}` "
        f"on the Maraude hand-written corpus (hash `{(info.get('corpus_hash') or 'unknown')[:16]}`), inputs truncated to {info['max_length']} tokens"
        f"{' and lowercased by the tokenizer (case is not a cue)' if info.get('params', {}).get('lowercase') else ''}. "
        f"Training took {_fmt(info.get('train_seconds'), 0)} s on CPU ({info.get('params', {}).get('torch_threads', '?')} threads), "
        f"best epoch {info.get('params', {}).get('best_epoch', '?')}, stopped by {info.get('params', {}).get('stopped_by', '?')}.",
        "",
        *serving_lines(info),
        "",
        "## Intended use and users",
        "Ranking, for **trained youth workers** doing digital street outreach, public posts that may come from a young person "
        "out of school, out of work, isolated or in distress, so that a person reads them and decides whether to reach out. "
        "The model never contacts anyone and never decides: every flag is a suggestion for a human review. "
        "`distress` flags are shown first with the 3114 (French suicide prevention line).",
        "",
        "Out of scope: diagnosing anyone, decisions about benefits, schooling, employment or policing, profiling groups, "
        "any language other than French, private messages.",
        "",
        "## Data",
        f"Train / validation / test splits of the hand-written fictional corpus (`models/corpus/DATA_CARD.md`); test n = {report['n']['test']}, "
        f"validation n = {report['n']['validation']}. Thresholds were chosen on validation: best F1 per label, with `distress` "
        f"recall >= {info.get('distress_min_recall', 0.95)} on validation. Scores are calibrated on validation (per-label Platt "
        "scaling folded into the last layer), so they read as probabilities *at the corpus's label frequencies*, which are far "
        "higher than in a real feed.",
        "",
        "## Test metrics vs baselines",
        "Bootstrap 95 % intervals in brackets (1,000 resamples of test posts). `keywords`: regular expressions written from the "
        "label definitions; `tfidf_logreg`: TF-IDF + logistic regression trained on the same train split.",
        "",
        "| system | label | precision | recall | F1 | PR-AUC | threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in systems.items():
        for label in info["labels"]:
            figures = entry["test"]["labels"][label]
            lines.append(
                f"| {name} | {label} | {_ci(figures, 'precision')} | {_ci(figures, 'recall')} | {_ci(figures, 'f1')} "
                f"| {_fmt(figures['pr_auc'])} | {_fmt(figures['threshold'], 2)} |"
            )
        macro = entry["test"]["macro"]
        lines.append(f"| {name} | **macro** | {_fmt(macro['precision'])} | {_fmt(macro['recall'])} | **{_ci(macro, 'f1')}** | {_fmt(macro['pr_auc'])} | |")
    lines += ["", "## Calibration (test)", "Expected calibration error over 10 equal-width bins (0 is perfect).", "",
              "| system | " + " | ".join(info["labels"]) + " | mean |", "|---|" + "---|" * (len(info["labels"]) + 1)]
    for name, entry in systems.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(entry["test"]["labels"][l]["ece"]) for l in info["labels"]) + f" | {_fmt(entry['test']['macro']['ece'])} |")
    lines += ["", "## Confusions between labels (model, test)", "Row A, column B: share of the posts labelled A but not B that are flagged B (diagonal: recall of A; `none`: posts without any label).", "",
              "| true label | n | " + " | ".join(info["labels"]) + " | nothing |", "|---|---|" + "---|" * (len(info["labels"]) + 1)]
    for true_label, entry in model["test"]["confusions"].items():
        cells = " | ".join(_fmt(entry[f"flagged_as:{l}"], 2) for l in info["labels"])
        lines.append(f"| {true_label} | {entry['n']} | {cells} | {_fmt(entry['flagged_as:nothing'], 2)} |")
    lines += ["", "## Slices (test, macro-F1)", f"Slices with at least {MIN_SLICE_POSTS} test posts; small slices have wide intervals.", "",
              "| slice | n | " + " | ".join(systems) + " |", "|---|---|" + "---|" * len(systems)]
    for slice_name, figures in model["test_slices"].items():
        cells = " | ".join(_ci(systems[s]["test_slices"][slice_name]["macro"], "f1") for s in systems)
        lines.append(f"| {slice_name} | {figures['n']} | {cells} |")
    lines += ["", "## False alarms on real ordinary French posts"]
    if model.get("realdata"):
        rates = model["realdata"]
        lines += [
            f"Real posts from public research datasets (`../shared/realdata/text/SOURCES.md`: MLMA tweets labelled `normal`, "
            f"ToxiFrench non-toxic forum messages; n = {rates['all']['n']}), used only here, never for training or tuning. "
            "Almost none of them is about the author's schooling, work, loneliness or distress, so the share flagged estimates "
            "the false-alarm rate (upper bound: a few may be true signals). Counts only: the posts are not reproduced here.",
            "",
            "| system | slice | n | any label | " + " | ".join(info["labels"]) + " |",
            "|---|---|---|---|" + "---|" * len(info["labels"]),
        ]
        for name, entry in systems.items():
            for slice_name, figures in entry["realdata"].items():
                cells = " | ".join(f"{figures[l]['rate']:.1%} ({figures[l]['flagged']})" for l in info["labels"])
                any_ = figures["any"]
                lines.append(f"| {name} | {slice_name} | {figures['n']} | **{any_['rate']:.1%}** [{any_['ci'][0]:.1%}–{any_['ci'][1]:.1%}] | {cells} |")
        if "realdata_exit_share" in model:
            lines += ["", f"The early exit stopped {model['realdata_exit_share']:.1%} of these real posts after layer "
                      f"{info['early_exit']['layer']} (test split: {model.get('test_exit_share', 0):.1%})."]
    else:
        lines.append("Not measured: the real-data folder was not available when this model was evaluated.")
    lines += [
        "",
        "## Limits",
        "- The corpus is hand-written and fictional: test figures are optimistic for real feeds, whose posts are messier and mostly about nothing.",
        "- Slices for regional varieties (DOM, Belgium, Québec) and some styles rest on few posts.",
        "- Irony, sarcasm, very long posts (truncated) and posts that need the thread's context are weak spots; a post about someone else "
        "written in the first person by mistake will be flagged.",
        "- The model sees one post at a time; cases aggregate posts per author downstream.",
        "",
        "## Ethics",
        "- A false alarm costs a worker's time and can lead to an unwanted contact; a miss can leave a young person without help. "
        "Thresholds favour recall for `distress` only; the review queue keeps a human between every flag and any action.",
        "- Posts are redacted and authors pseudonymised before scoring; explanations (occlusion of words) show reviewers why a post was flagged, "
        "so they can overrule it.",
        "- Do not use the scores to rank or judge people outside outreach, and do not show them to the people concerned without context.",
        "",
    ]
    return "\n".join(lines)


def evaluate_model_dir(
    model_dir: str | Path,
    records: Sequence[dict],
    *,
    warehouse_path: str | Path | None = None,
    realdata_dir: str | Path | None = None,
    n_boot: int = N_BOOTSTRAP,
    store: bool = True,
) -> dict:
    """Evaluate a model folder and the baselines; write ``metrics.json`` and ``MODEL_CARD.md``; store rows if ``store``.

    ``realdata_dir`` defaults to :func:`default_realdata_dir`; without real posts there, the
    false-alarm figures are left out. Returns the report (``evaluate_systems`` output plus the
    model's version, corpus hash and evaluation time).
    """
    from models.baselines import KeywordBaseline, TfidfLogRegBaseline
    from models.inference import Classifier, read_model_info
    from models.train import choose_thresholds, labels_matrix

    model_dir = Path(model_dir)
    info = read_model_info(model_dir)
    classifier = Classifier.load(model_dir)
    train = [r for r in records if r["split"] == "train"]
    validation = [r for r in records if r["split"] == "validation"]
    tfidf = TfidfLogRegBaseline().fit([r["text"] for r in train], labels_matrix(train))
    tfidf.thresholds = choose_thresholds(labels_matrix(validation), tfidf.predict_proba([r["text"] for r in validation]))
    realdata = load_realdata_ordinary(realdata_dir)
    report = evaluate_systems(
        {"model": classifier, "keywords": KeywordBaseline(), "tfidf_logreg": tfidf}, records, realdata=realdata, n_boot=n_boot
    )
    report["model_version"] = info["version"]
    report["evaluated_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    report["corpus_hash"] = info.get("corpus_hash")
    (model_dir / "metrics.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (model_dir / "MODEL_CARD.md").write_text(model_card(info, report), encoding="utf-8")
    if store:
        store_metrics(warehouse_path, report_rows(info["version"], report), info["version"])
    return report


def gate_figures(report: dict) -> dict[str, float]:
    """The promotion gate's figures of the model in a report: test macro-F1 and distress recall."""
    test = report["systems"]["model"]["test"]
    return {"macro_f1": test["macro"]["f1"], "distress_recall": test["labels"]["distress"]["recall"]}


def summary_lines(report: dict) -> list[str]:
    """A few lines for the command line: macro-F1 and distress recall per system, realdata flag rate."""
    lines = []
    for name, entry in report["systems"].items():
        test = entry["test"]
        line = (
            f"{name:>13}: macro-F1 {test['macro']['f1']:.3f} [{test['macro'].get('ci', {}).get('f1', [0, 0])[0]:.3f}–"
            f"{test['macro'].get('ci', {}).get('f1', [0, 0])[1]:.3f}], distress recall {test['labels']['distress']['recall']:.3f}, "
            + ", ".join(f"{label} F1 {test['labels'][label]['f1']:.3f}" for label in test["labels"])
        )
        if entry.get("realdata"):
            line += f"; realdata flagged {entry['realdata']['all']['any']['rate']:.1%} of {entry['realdata']['all']['n']}"
        lines.append(line)
    return lines
