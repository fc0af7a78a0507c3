"""Score a model folder on the held-out hand-written posts (``models/corpus/heldout``), never trained on.

Run as ``python -m models.corpus.score_heldout [--model DIR]`` (default: the champion). It prints,
through the served path and the model's own thresholds, per-label precision / recall / F1, macro-F1
and the share of posts without a label that get a flag, overall and per part, with 95 % intervals.
The figures are for reading only: choosing a model or a threshold on them would spend the held-out
set (see ``heldout/README.md``). ``--parts models/corpus/dev`` scores the forum selection set the same
way; that set is meant for choosing between training settings (see ``dev/README.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from maraude import LABELS
from models.corpus.build import CORPUS_DIR, CorpusError, read_parts

HELDOUT_DIR = CORPUS_DIR / "heldout"
DEV_DIR = CORPUS_DIR / "dev"
"""The forum selection set: scored the same way, used to choose between training settings (see its README)."""


def score_heldout(classifier, records: list[dict], n_boot: int = 1000) -> dict:
    """Figures of ``classifier`` (``predict_proba`` and ``thresholds``) on ``records``: all posts and per part."""
    from models.evaluate import compute_metrics, flag_rates

    probs = classifier.predict_proba([record["text"] for record in records])
    y = np.array([[label in record["labels"] for label in LABELS] for record in records], dtype=int)
    parts = np.array([record["part"] for record in records])
    without_label = y.sum(axis=1) == 0
    # The false-alarm figure of the realdata evaluation, on the posts without a label, per part.
    rates = flag_rates(probs[without_label], classifier.thresholds, parts[without_label])
    report = {}
    for name in ["all", *sorted(set(parts.tolist()))]:
        mask = np.ones(len(records), bool) if name == "all" else parts == name
        figures = compute_metrics(y[mask], probs[mask], classifier.thresholds, n_boot=n_boot, curves=False)
        rate = rates["all" if name == "all" else f"source={name}"]
        figures["no_label_flagged"] = {**rate["any"], "n": rate["n"]}
        report[name] = figures
    return report


def report_lines(report: dict) -> list[str]:
    """Readable lines of :func:`score_heldout` output."""
    lines = []
    for name, figures in report.items():
        macro = figures["macro"]
        low, high = macro.get("ci", {}).get("f1", [float("nan")] * 2)
        flagged = figures["no_label_flagged"]
        lines.append(
            f"{name}: {figures['n']} posts, macro-F1 {macro['f1']:.3f} [{low:.3f}-{high:.3f}], "
            f"posts without a label flagged {flagged['rate']:.1%} ({flagged['flagged']}/{flagged['n']}, "
            f"CI {flagged['ci'][0]:.1%}-{flagged['ci'][1]:.1%})"
        )
        for label in LABELS:
            entry = figures["labels"][label]
            lines.append(
                f"  {label:<10} support {entry['support']:>3}  precision {entry['precision']:.3f}  "
                f"recall {entry['recall']:.3f}  F1 {entry['f1']:.3f}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line: load the model, score the parts of ``--parts`` (default: held-out), print the figures."""
    parser = argparse.ArgumentParser(prog="python -m models.corpus.score_heldout", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder (default: the champion)")
    parser.add_argument(
        "--parts", type=Path, default=HELDOUT_DIR,
        help=f"folder of the *.jsonl parts to score (default: the held-out set; the forum selection set is {DEV_DIR.relative_to(CORPUS_DIR.parent.parent)})",
    )
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals (0: none)")
    args = parser.parse_args(argv)
    from models.inference import Classifier, load_champion

    try:
        records = read_parts(args.parts)
    except CorpusError as error:
        print(error, file=sys.stderr)
        return 1
    classifier = Classifier.load(args.model) if args.model else load_champion()
    print("\n".join(report_lines(score_heldout(classifier, records, n_boot=args.bootstrap))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
