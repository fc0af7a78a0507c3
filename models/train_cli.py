"""``maraude train`` and ``maraude evaluate``: train a challenger, evaluate a model folder against the baselines."""

from __future__ import annotations

import argparse
import sys


def register(commands, bench_commands) -> None:
    """Add ``train`` and ``evaluate``."""
    train = commands.add_parser(
        "train",
        help="fine-tune a challenger on the corpus, evaluate it, register it, promote it if it passes the gate",
        description=(
            "Fine-tunes the classifier on CPU from the converted base model, chooses thresholds on validation, "
            "evaluates it and the baselines on the test split (metrics.json, MODEL_CARD.md, model_metrics), registers "
            "it in `models` and promotes it to champion when it is not worse than the current one."
        ),
    )
    train.add_argument("--base", help="base model: a folder or a name under var/base (default: multilingual-e5-small)")
    train.add_argument("--epochs", type=int, help="maximum epochs (default 3; early stopping may end sooner)")
    train.add_argument(
        "--max-minutes",
        type=float,
        help="stop the epochs after this many minutes, keeping the best epoch so far (default 28; 0: no limit)",
    )
    train.add_argument("--out", help="write the model folder here instead of var/models/<version> (then it is never promoted)")
    train.add_argument("--warehouse", help="warehouse file (default var/warehouse.duckdb)")
    train.add_argument("--corpus", help="corpus file (default models/corpus/corpus.jsonl)")
    train.add_argument("--no-promote", action="store_true", help="register the model as challenger without applying the gate")
    train.set_defaults(func=run_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate a model folder and the baselines on the test split and real ordinary posts",
        description="Writes metrics.json and MODEL_CARD.md into the model folder and the figures into model_metrics.",
    )
    evaluate.add_argument("--model", help="model folder (default: the champion, var/models/<CHAMPION>)")
    evaluate.add_argument("--warehouse", help="warehouse file (default var/warehouse.duckdb)")
    evaluate.add_argument("--corpus", help="corpus file (default models/corpus/corpus.jsonl)")
    evaluate.set_defaults(func=run_evaluate)


def run_train(args: argparse.Namespace) -> int:
    """Train, evaluate, register and (unless --no-promote or --out) gate a challenger."""
    import json
    from pathlib import Path

    from maraude.settings import get_settings
    from models.evaluate import summary_lines
    from models.registry import train_evaluate_register

    settings = get_settings()
    version, decision = train_evaluate_register(
        settings=settings,
        warehouse_path=args.warehouse,
        corpus_path=args.corpus,
        base=args.base,
        epochs=args.epochs,
        time_budget_s=None if args.max_minutes is None else args.max_minutes * 60,
        out=args.out,
        promote_when_better=not args.no_promote,
    )
    model_dir = Path(args.out) if args.out else settings.models_dir / version
    info = json.loads((model_dir / "maraude.json").read_text(encoding="utf-8"))
    report = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    print(f"trained {version} in {info['train_seconds']:.0f} s -> {model_dir}")
    print("\n".join(summary_lines(report)))
    if decision is None:
        print("registered as challenger (not gated)")
    else:
        print(("promoted to champion: " if decision.promote else "not promoted: ") + decision.reason)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate ``--model`` (default: the champion) and print the summary."""
    from pathlib import Path

    from maraude.settings import get_settings
    from models.corpus.build import CORPUS_PATH, load_corpus
    from models.evaluate import evaluate_model_dir, summary_lines
    from models.inference import NoChampionError, champion_version

    settings = get_settings()
    if args.model:
        model_dir = Path(args.model)
    else:
        try:
            model_dir = settings.models_dir / champion_version(settings)
        except NoChampionError as error:
            print(error, file=sys.stderr)
            return 1
    records = load_corpus(args.corpus or CORPUS_PATH)
    report = evaluate_model_dir(model_dir, records, warehouse_path=args.warehouse)
    print(f"evaluated {report['model_version']} on {report['n']['test']} test posts ({model_dir})")
    print("\n".join(summary_lines(report)))
    return 0
