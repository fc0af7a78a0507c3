"""``maraude bench classify``: our inference path against a plain ``transformers`` pipeline.

Both run in one process on the same model folder and the same posts (the labelled corpus, test
split first, topped up from validation then train; repeated if the corpus is smaller than ``n``),
with the same batch size and thread count. The pipeline is the textbook call,
``pipeline("text-classification", model=..., top_k=None, function_to_apply="sigmoid")``, batched,
posts in arrival order, truncated to the same ``max_length``. Both are warmed up on a few posts,
then take turns on quarters of the posts (see :func:`_interleaved`). Figures printed: posts/s,
macro-F1 against the corpus labels at the model's thresholds, the resident memory each model
added when loaded, the process's peak RSS, how closely the two agree, and as the last line
``speedup: X.XX`` (our posts/s over the pipeline's).

``--levers`` first times our path with each lever added in turn (float32 in arrival order,
length-sorted, int8, one thread per batch, early exit), so that each lever's share of the speedup
shows. The early exit's recall cost is in the macro-F1 figures: exited posts are scored as
served, against the corpus labels.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from maraude import LABELS

CORPUS_PATH = Path(__file__).resolve().parent / "corpus" / "corpus.jsonl"
SPLIT_PRIORITY = ("test", "validation", "train")
WARMUP_POSTS = 8
ROUNDS = 4


class BenchInputError(ValueError):
    """The posts to benchmark on cannot be read."""


class PeakRss:
    """Samples this process's resident memory in a thread; ``peak_mib`` is the maximum seen."""

    def __init__(self, interval: float = 0.01) -> None:
        import psutil

        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRss:
        self.start = self._process.memory_info().rss
        self.peak = self.start
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def peak_mib(self) -> float:
        return self.peak / 2**20

    @property
    def growth_mib(self) -> float:
        """Peak minus the resident size on entry."""
        return (self.peak - self.start) / 2**20


def load_bench_posts(n: int, posts_path: Path | None = None) -> tuple[list[dict], str]:
    """``n`` posts with ``text`` and ``labels``, test split first; also a one-line description."""
    path = posts_path or CORPUS_PATH
    if not path.is_file():
        raise BenchInputError(
            f"{path} is missing: build the corpus (`python -m models.corpus.build`) or pass --posts FILE "
            "(JSONL with text and labels)"
        )
    from models.cli import iter_json_lines

    records = [
        record
        for _, record in iter_json_lines(path, BenchInputError)
        if isinstance(record, dict) and isinstance(record.get("text"), str) and isinstance(record.get("labels"), list)
    ]
    if not records:
        raise BenchInputError(f"{path} has no labelled posts (objects with text and a labels list)")
    rank = {split: index for index, split in enumerate(SPLIT_PRIORITY)}
    ordered = sorted(records, key=lambda record: rank.get(record.get("split"), len(rank)))
    chosen = [ordered[index % len(ordered)] for index in range(n)]
    counts: dict[str, int] = {}
    for record in chosen[: len(ordered)]:
        split = record.get("split") or "unsplit"
        counts[split] = counts.get(split, 0) + 1
    described = ", ".join(f"{split} {count}" for split, count in counts.items())
    repeats = f", {len(ordered)} distinct, repeated" if n > len(ordered) else ""
    return chosen, f"{n} posts ({described}{repeats}) from {path}"


def macro_f1(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str] = LABELS) -> float:
    """Mean over labels of F1 (a label with no gold and no predicted positive counts as 0)."""
    from sklearn.metrics import f1_score

    y_true = np.array([[label in row for label in labels] for row in gold], dtype=int)
    y_pred = np.array([[label in row for label in labels] for row in predicted], dtype=int)
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


LEVERS = (
    # (description, quantize, sort_by_length, one thread per batch, early exit)
    ("float32, arrival order", False, False, False, False),
    ("float32, length-sorted", False, True, False, False),
    ("int8, length-sorted", True, True, False, False),
    ("int8, length-sorted, one thread per batch", True, True, True, False),
    ("int8, length-sorted, one thread per batch, early exit", True, True, True, True),
)


def time_levers(model_dir: Path, texts: list[str], batch_size: int, out: Callable[[str], None]) -> dict[str, float]:
    """posts/s of our path with the levers of :data:`LEVERS` switched on one after another."""
    import torch

    from models.inference import Classifier

    figures: dict[str, float] = {}
    loaded: dict[tuple[bool, bool], Classifier] = {}
    for description, quantize, sort_by_length, per_batch_threads, early_exit in LEVERS:
        if (quantize, early_exit) not in loaded:
            loaded.clear()
            gc.collect()
            loaded[quantize, early_exit] = Classifier.load(model_dir, quantize=quantize, early_exit=early_exit)
        classifier = loaded[quantize, early_exit]
        if early_exit and classifier.exit_probe is None:
            out(f"lever {description}: skipped, the model folder has no exit probe")
            continue
        classifier.threads = torch.get_num_threads() if per_batch_threads else 1
        classifier.predict_proba(texts[:WARMUP_POSTS], batch_size=batch_size)
        started = time.perf_counter()
        classifier.predict_proba(texts, batch_size=batch_size, sort_by_length=sort_by_length)
        figures[description] = len(texts) / (time.perf_counter() - started)
        out(f"lever {description}: {figures[description]:.1f} posts/s")
    loaded.clear()
    gc.collect()
    return figures


def pipeline_probabilities(classifier_pipeline, texts: list[str], labels: Sequence[str], batch_size: int, max_length: int) -> np.ndarray:
    """The pipeline's sigmoid scores as an ``(n, labels)`` matrix in our label order."""
    outputs = classifier_pipeline(texts, batch_size=batch_size, truncation=True, max_length=max_length)
    column = {label: index for index, label in enumerate(labels)}
    matrix = np.zeros((len(texts), len(labels)), dtype=np.float32)
    for row, scores in enumerate(outputs):
        for item in scores:
            matrix[row, column[item["label"]]] = item["score"]
    return matrix


def bench_classify(
    model_dir: str | Path,
    *,
    n: int = 1000,
    posts_path: Path | None = None,
    batch_size: int = 32,
    threads: int | None = None,
    levers: bool = False,
    out: Callable[[str], None] = print,
) -> dict:
    """Run both paths, print the report (last line ``speedup: X.XX``) and return the figures."""
    import torch
    from transformers import pipeline

    from models.inference import Classifier

    model_dir = Path(model_dir)
    if threads is not None:
        torch.set_num_threads(max(1, threads))
    posts, described = load_bench_posts(n, posts_path)
    gold = [post["labels"] for post in posts]
    texts = [post["text"] for post in posts]
    out(described)
    lever_figures = time_levers(model_dir, texts, batch_size, out) if levers else {}

    with PeakRss() as whole_run:
        with PeakRss() as ours_load:
            classifier = Classifier.load(model_dir)
        with PeakRss() as pipeline_load:
            plain = pipeline("text-classification", model=str(model_dir), top_k=None, function_to_apply="sigmoid", device=-1)
        exit_probe = classifier.exit_probe
        out(
            f"model {classifier.version} from {model_dir}: max_length {classifier.max_length}, "
            f"{'int8 dynamic quantisation' if classifier.quantized else 'float32'}, batch {batch_size}, "
            f"{torch.get_num_threads()} torch threads, {classifier.threads} batch(es) at once, "
            + (f"early exit after layer {exit_probe.layer}" if exit_probe else "no early exit")
        )
        paths = {
            "maraude inference": lambda chunk: classifier.predict_proba(chunk, batch_size=batch_size),
            "transformers pipeline": lambda chunk: pipeline_probabilities(
                plain, [classifier.text_prefix + text for text in chunk], classifier.labels, batch_size, classifier.max_length
            ),
        }
        seconds, probabilities = _interleaved(paths, texts)
    exit_share = classifier.posts_exited / classifier.posts_scored if classifier.posts_scored else 0.0
    if exit_probe:
        out(f"early exit: {exit_share:.1%} of the posts stopped after layer {exit_probe.layer} (warm-up included)")

    results = {}
    for name, load_memory in zip(paths, (ours_load, pipeline_load)):
        results[name] = macro_f1(gold, classifier.flag(probabilities[name]))
        out(
            f"{name}: {len(texts) / seconds[name]:.1f} posts/s ({seconds[name]:.2f} s), "
            f"macro-F1 {results[name]:.3f}, model resident size {load_memory.growth_mib:.0f} MiB"
        )
    ours, theirs = (probabilities[name] for name in paths)
    same_flags = float(np.mean([a == b for a, b in zip(classifier.flag(ours), classifier.flag(theirs))]))
    gap = float(np.abs(ours - theirs).max())
    f1_change = results["maraude inference"] - results["transformers pipeline"]
    out(
        f"macro-F1 change: {f1_change:+.3f}; same flags on {same_flags:.1%} of posts; "
        f"largest probability gap {gap:.3f}; peak RSS of the process {whole_run.peak_mib:.0f} MiB"
    )
    speedup = seconds["transformers pipeline"] / seconds["maraude inference"]
    out(f"speedup: {speedup:.2f}")
    return {
        "posts_per_second": {name: len(texts) / seconds[name] for name in paths},
        "macro_f1": results,
        "speedup": speedup,
        "same_flags": same_flags,
        "max_gap": gap,
        "peak_rss_mib": whole_run.peak_mib,
        "exit_share": exit_share,
        "levers": lever_figures,
    }


def _interleaved(
    paths: dict[str, Callable[[list[str]], np.ndarray]], texts: list[str]
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Seconds and probabilities of each path over ``texts``, run in alternating rounds.

    On a shared machine the load drifts over minutes; giving each path a slice in turn, in
    alternating order, spreads that drift evenly instead of handing it to whichever ran second.
    """
    for predict in paths.values():
        predict(texts[:WARMUP_POSTS])
    size = -(-len(texts) // ROUNDS)
    chunks = [texts[start : start + size] for start in range(0, len(texts), size)]
    seconds = dict.fromkeys(paths, 0.0)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in paths}
    for index, chunk in enumerate(chunks):
        names = list(paths) if index % 2 == 0 else list(reversed(paths))
        for name in names:
            started = time.perf_counter()
            parts[name].append(paths[name](chunk))
            seconds[name] += time.perf_counter() - started
    return seconds, {name: np.concatenate(chunks_of_path) for name, chunks_of_path in parts.items()}
