"""Fast CPU inference of a Maraude model folder: the path that scores every collected post.

Levers, each measured by ``maraude bench classify --levers``:

* **Length-sorted batches with dynamic padding.** Posts are sorted by token count, batched, and
  each batch is padded only to its longest post, so short posts stop paying for long ones.
  Results are put back in input order.
* **int8 dynamic quantisation** of the encoder's linear layers (weights int8 per output channel,
  activations quantised on the fly; see :func:`int8_layer_names`): about 1.25x on an AVX2 CPU
  (more with AVX-512 VNNI). Folders that hold activation maxima (:data:`SMOOTHING_FILE`) are
  smoothed first (SmoothQuant) and quantise every encoder layer, FFN down-projections included;
  others leave the down-projections in float32. A model folder
  can opt out with ``"quantize": false`` in ``maraude.json`` (``models.train`` writes it when
  int8 costs validation macro-F1); ``Classifier.load(..., quantize=...)`` overrides both.
* **One thread per batch.** With ``threads`` > 1, that many batches run at once, each on a
  single torch thread, instead of every matrix product being split across the cores.
* ``torch.inference_mode`` (no autograd bookkeeping).
* **Early exit** (:mod:`models.early_exit`): plainly ordinary posts stop after the bottom 4
  blocks when the model folder holds an exit probe (``"early_exit"`` in ``maraude.json``, written by
  ``models.train`` when it costs at most ``int8_max_f1_loss`` of validation macro-F1).
  ``Classifier.load(..., early_exit=False)`` runs every post through every layer.

Long posts: a post longer than ``max_length`` tokens keeps its first quarter and its last three
quarters of the budget (head + tail truncation, the best plain strategy in Sun et al. 2019, "How
to Fine-Tune BERT for Text Classification?"): the author often states their situation up front
and their state of mind at the end, and one window keeps the cost of a post bounded.

Empty or non-text input is the caller's business (``maraude classify`` reports it per line).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from models.early_exit import ExitProbe, bottom, mean_pool, pad_ids, supports_early_exit, top_logits

DEFAULT_QUANTIZE = True
"""Used when neither the caller nor ``maraude.json`` says whether to quantise."""

HEAD_SHARE = 0.25
"""Share of the token budget kept from the start of an over-long post; the rest comes from its end."""

CHAMPION_FILE = "CHAMPION"

TOKENS_PER_BATCH_POST = 64
"""Length-sorted batches hold at most ``batch_size * TOKENS_PER_BATCH_POST`` padded tokens, so a
batch of long posts holds fewer of them: with 192-token inputs, a full batch of 32 led by one long
forum message padded 31 shorter posts to its length. On 2 cores, the bench's 1,000 test posts scored
in four calls of 250 (as ``maraude bench classify`` does) went from 80 to 104 posts/s."""


class NoChampionError(FileNotFoundError):
    """No champion model has been promoted yet."""


def read_model_info(model_dir: str | Path) -> dict:
    """The ``maraude.json`` of a model folder, with a message saying how to get one when absent."""
    path = Path(model_dir) / "maraude.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: {model_dir} is not a Maraude model folder "
            "(train one with `maraude train`, or build a test one with models.tiny.make_tiny_model_dir)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def special_token_wrap(backend_tokenizer) -> tuple[list[int], list[int]]:
    """Ids the tokenizer's post-processor puts before and after one text (e.g. ``[<s>]``, ``[</s>]``)."""
    probe = backend_tokenizer.encode("a", add_special_tokens=True)
    special = probe.special_tokens_mask
    first = special.index(0)
    last = len(special) - 1 - special[::-1].index(0)
    return probe.ids[:first], probe.ids[last + 1 :]


def encode_texts(tokenizer, texts: Sequence[str], max_length: int, text_prefix: str = "") -> list[list[int]]:
    """Token ids of each text, special tokens included, at most ``max_length`` long, unpadded.

    ``tokenizer`` is a ``transformers`` fast tokenizer. Over-long texts keep a head and a tail
    (see the module docstring); ``text_prefix`` (e.g. e5's ``"query: "``) is prepended to every
    text. Training can call this too, so that it truncates exactly as serving does. The backend
    tokenizer's own truncation and padding settings are switched off.
    """
    backend = tokenizer.backend_tokenizer
    # A tokenizer.json saved after a call with truncation=True or padding=True keeps those
    # settings; they would cut head-only and pad every text here. transformers sets them again
    # on each of its own calls, so switching them off does not change the tokenizer's behaviour.
    backend.no_truncation()
    backend.no_padding()
    before, after = special_token_wrap(backend)
    budget = max_length - len(before) - len(after)
    if budget < 2:
        raise ValueError(f"max_length {max_length} leaves no room for text between the special tokens")
    encodings = backend.encode_batch([text_prefix + text for text in texts], add_special_tokens=False)
    return [before + head_and_tail(encoding.ids, budget) + after for encoding in encodings]


def head_and_tail(items: list, budget: int) -> list:
    """``items`` when they fit in ``budget``, else their first quarter (:data:`HEAD_SHARE`) and last
    three quarters of ``budget``: how the model truncates tokens and how explanations pick words."""
    if len(items) <= budget:
        return items
    head = max(1, int(budget * HEAD_SHARE))
    return items[:head] + items[len(items) - (budget - head) :]


SMOOTHING_FILE = "int8_smoothing.safetensors"
"""Per-channel activation maxima of the encoder's linear layers, written by training (see :func:`activation_maxima`)."""

SMOOTHING_ALPHA = 0.75
"""SmoothQuant migration strength. On the second e5 champion's validation split (855 posts), int8
with alpha 0.75 moved probabilities by 0.0038 on average (0.0129 without smoothing) and cost 0.002
macro-F1; alpha 0.5 moved them by 0.0052."""


def int8_layer_names(model, *, smoothed: bool = False) -> list[str]:
    """The linear layers int8 quantisation applies to: the encoder's, but its FFN down-projections unless ``smoothed``.

    Those down-projections read the GELU output, whose few very large values per-tensor int8
    activations cannot hold alongside the rest (on the first e5 champion: mean probability shift
    0.045 quantising every layer, 0.014 without them). With SmoothQuant scales (``smoothed``) the
    outliers move into the weights and every encoder layer can be quantised. The pooler and
    classification head run on one token per post: quantising them would add error and save nothing.
    """
    import torch

    encoder = getattr(model.base_model, "encoder", None) or model.base_model
    in_encoder = {id(module) for module in encoder.modules()}
    intermediate = getattr(model.config, "intermediate_size", None)
    return [
        name
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear) and id(module) in in_encoder and (smoothed or module.in_features != intermediate)
    ]


def activation_maxima(model, encoded: Sequence[Sequence[int]], pad_id: int, batch_size: int = 32) -> dict:
    """Largest absolute input of every int8-eligible linear layer, per input channel, over ``encoded`` posts.

    Training stores them in :data:`SMOOTHING_FILE` so that serving can smooth the layers before
    quantising them, without needing any post at load time.
    """
    import torch

    names = int8_layer_names(model, smoothed=True)
    maxima: dict = {}

    def record(name):
        def hook(module, inputs, output):
            flat = inputs[0].detach().abs().reshape(-1, inputs[0].shape[-1]).amax(dim=0)
            maxima[name] = torch.maximum(maxima[name], flat) if name in maxima else flat

        return hook

    hooks = [model.get_submodule(name).register_forward_hook(record(name)) for name in names]
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(encoded), batch_size):
                input_ids, attention = pad_ids(encoded[start : start + batch_size], pad_id)
                model(input_ids=input_ids, attention_mask=attention)
    finally:
        for hook in hooks:
            hook.remove()
    return {name: value.float().contiguous() for name, value in maxima.items()}


def _smoothed_linear_class():
    import torch

    class SmoothedLinear(torch.nn.Module):
        """``linear(x / s)`` with ``s`` folded into the weights: the same function, easier to quantise (SmoothQuant)."""

        def __init__(self, linear, scale) -> None:
            super().__init__()
            self.register_buffer("inverse_scale", (1.0 / scale).to(linear.weight.dtype))
            with torch.no_grad():
                linear.weight.mul_(scale[None, :])
            self.linear = linear

        def forward(self, hidden):
            return self.linear(hidden * self.inverse_scale)

    return SmoothedLinear


def smooth_linear_layers(model, maxima: dict, alpha: float = SMOOTHING_ALPHA) -> list[str]:
    """Wrap each layer of ``maxima`` in a ``SmoothedLinear`` (Xiao et al. 2023); returns the inner linears' names.

    Per input channel ``s = max|x|^alpha / max|w|^(1 - alpha)``: activations are divided by ``s``
    and weights multiplied by it, so the product is unchanged in float32 while the activation
    outliers that per-tensor int8 cannot hold shrink.
    """
    smoothed_linear = _smoothed_linear_class()
    inner = []
    for name, activation_max in maxima.items():
        linear = model.get_submodule(name)
        weight_max = linear.weight.detach().abs().amax(dim=0).clamp(min=1e-5)
        scale = activation_max.clamp(min=1e-5) ** alpha / weight_max ** (1 - alpha)
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name), child, smoothed_linear(linear, scale))
        inner.append(f"{name}.linear")
    return inner


def _quantize_linear_layers(model, maxima: dict | None = None):
    """int8 dynamic quantisation (per-channel weights) of :func:`int8_layer_names`, smoothed first when ``maxima`` is given."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig

    names = smooth_linear_layers(model, maxima) if maxima else int8_layer_names(model)
    with warnings.catch_warnings():
        # torch.ao.quantization (and the quantized tensor types behind it) are deprecated in favour
        # of torchao, which is not a dependency here; quantize_dynamic still ships with torch 2.13
        # and is what we measured, so these two known warnings are silenced on purpose.
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        specification = {name: per_channel_dynamic_qconfig for name in names}
        # in place: a copy would hold the float32 and int8 weights in memory at once
        return torch.ao.quantization.quantize_dynamic(model, specification, dtype=torch.qint8, inplace=True)


def read_smoothing(model_dir: Path) -> dict | None:
    """The activation maxima stored in a model folder, or None (folders trained before smoothing existed)."""
    path = Path(model_dir) / SMOOTHING_FILE
    if not path.is_file():
        return None
    from safetensors.torch import load_file

    return load_file(str(path))


class Classifier:
    """A loaded model folder that turns post texts into per-label probabilities and flags.

    Build one with :meth:`load` or :func:`load_champion`. Attributes: ``labels`` (tuple, the
    canonical order), ``thresholds`` (label → float, flag when probability >= threshold),
    ``version``, ``max_length``, ``model_dir``, ``quantized``, ``threads``, ``text_prefix``,
    ``exit_probe`` (None when every post runs through every layer) and the running counts
    ``posts_scored`` / ``posts_exited``.
    """

    def __init__(
        self, model, tokenizer, info: dict, model_dir: Path, quantized: bool, threads: int, exit_probe: ExitProbe | None = None
    ) -> None:
        self._model = model
        self.exit_probe = exit_probe
        self.posts_scored = 0
        self.posts_exited = 0
        self.threads = max(1, int(threads))
        self._tokenizer = tokenizer
        self.model_dir = model_dir
        self.quantized = quantized
        self.labels: tuple[str, ...] = tuple(info["labels"])
        self.thresholds: dict[str, float] = {label: float(info["thresholds"][label]) for label in self.labels}
        self.version: str = str(info["version"])
        positions = getattr(model.config, "max_position_embeddings", None) or info["max_length"]
        self.max_length: int = min(int(info["max_length"]), int(positions))
        self.text_prefix: str = info.get("text_prefix", "")
        pad_id = tokenizer.pad_token_id
        self._pad_id = int(pad_id if pad_id is not None else model.config.pad_token_id or 0)

    @classmethod
    def load(
        cls, model_dir: str | Path, *, quantize: bool | None = None, threads: int | None = None, early_exit: bool | None = None
    ) -> Classifier:
        """Load ``model_dir`` (a folder in the format of docs/architecture.md).

        ``quantize``: int8 dynamic quantisation of the linear layers; ``None`` follows
        ``maraude.json``'s ``"quantize"`` (default :data:`DEFAULT_QUANTIZE`). ``threads``: how many
        batches run at once, one torch thread each (``None``: torch's thread count, one per
        core); with 1, batches run one after another on torch's own intra-op threads.
        ``early_exit``: use the folder's exit probe; ``None`` follows ``maraude.json`` (on when the
        folder has one), ``False`` scores every post with the whole network.
        """
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        model_dir = Path(model_dir)
        info = read_model_info(model_dir)
        if threads is None:
            threads = torch.get_num_threads()
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        if not getattr(tokenizer, "is_fast", False):
            raise ValueError(f"{model_dir}: the classifier needs a fast tokenizer (tokenizer.json)")
        model = AutoModelForSequenceClassification.from_pretrained(str(model_dir), dtype=torch.float32)
        model.eval()
        model_labels = [model.config.id2label[index] for index in range(model.config.num_labels)]
        if model_labels != list(info["labels"]):
            raise ValueError(
                f"{model_dir}: maraude.json lists labels {info['labels']} but the model's id2label is "
                f"{model_labels}; retrain or fix the folder"
            )
        if quantize is None:
            quantize = bool(info.get("quantize", DEFAULT_QUANTIZE))
        if quantize:
            model = _quantize_linear_layers(model, read_smoothing(model_dir))
        exit_probe = ExitProbe.from_info(info.get("early_exit")) if early_exit is not False else None
        if exit_probe is not None and not supports_early_exit(model, exit_probe.layer):
            raise ValueError(f"{model_dir}: maraude.json has an exit after layer {exit_probe.layer}, which this model cannot do")
        return cls(model, tokenizer, info, model_dir, quantized=quantize, threads=threads, exit_probe=exit_probe)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text as the model sees them (prefix, head + tail truncation, specials)."""
        return encode_texts(self._tokenizer, texts, self.max_length, self.text_prefix)

    def predict_proba(self, texts: Sequence[str], batch_size: int = 32, *, sort_by_length: bool = True) -> np.ndarray:
        """Sigmoid probabilities, float32 of shape ``(len(texts), len(labels))``, in input order.

        ``sort_by_length=False`` batches posts in arrival order; it exists to measure what sorting
        buys (``maraude bench classify --levers``).
        """
        import torch

        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text #{index} is {type(text).__name__}, expected str")
        probabilities = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        if not texts:
            return probabilities
        encoded = self.encode(texts)
        if sort_by_length:
            # Longest first: each batch's padding (wasted compute) is minimal, and the short batches
            # at the end even out the workers' loads.
            order = np.argsort([-len(ids) for ids in encoded], kind="stable")
            batches = _token_capped_batches(order, [len(ids) for ids in encoded], batch_size)
        else:
            batches = [np.arange(start, min(start + batch_size, len(texts))) for start in range(0, len(texts), batch_size)]

        def score(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
            # inference_mode is thread-local: each worker enters it itself
            with torch.inference_mode():
                input_ids, attention_mask = pad_ids([encoded[row] for row in rows], self._pad_id)
                if self.exit_probe is not None:
                    return (rows, *self._score_with_exit(input_ids, attention_mask))
                logits = self._model(input_ids=input_ids, attention_mask=attention_mask).logits
                return rows, torch.sigmoid(logits.float()).numpy(), 0

        if self.threads > 1 and len(batches) > 1:
            # One single-threaded batch per core beats splitting each (small) matrix product over
            # the cores: no barrier between threads at every operator, and a descheduled thread
            # on a busy machine no longer stalls the others.
            previous_threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                with ThreadPoolExecutor(max_workers=self.threads) as pool:
                    results = list(pool.map(score, batches))
            finally:
                torch.set_num_threads(previous_threads)
        else:
            results = [score(rows) for rows in batches]
        for rows, batch_probabilities, exited in results:
            probabilities[rows] = batch_probabilities
            self.posts_exited += exited
        self.posts_scored += len(texts)
        return probabilities

    def _score_with_exit(self, input_ids, attention_mask) -> tuple[np.ndarray, int]:
        """Probabilities of one padded batch with the early exit, and how many of its posts exited."""
        import torch

        probe = self.exit_probe
        hidden = bottom(self._model, input_ids, attention_mask, probe.layer)
        any_probability = probe.any_probability(mean_pool(hidden, attention_mask)).astype(np.float32)
        # an exited post carries P(any label) for every label: an upper bound of each label's probability
        probabilities = np.repeat(any_probability[:, None], len(self.labels), axis=1)
        stay = np.flatnonzero(any_probability >= probe.threshold)
        if stay.size:
            index = torch.from_numpy(stay)
            mask = attention_mask[index]
            width = int(mask.sum(dim=1).max())  # the posts that stay may be shorter than the batch's longest
            logits = top_logits(self._model, hidden[index, :width], mask[:, :width], probe.layer)
            probabilities[stay] = torch.sigmoid(logits.float()).numpy()
        return probabilities, len(any_probability) - stay.size

    def flag(self, probs: np.ndarray) -> list[list[str]]:
        """For each row of ``probs``, the labels whose probability reaches their threshold, in label order."""
        probs = np.asarray(probs)
        if probs.ndim != 2 or probs.shape[1] != len(self.labels):
            raise ValueError(f"expected probabilities of shape (n, {len(self.labels)}), got {probs.shape}")
        limits = np.array([self.thresholds[label] for label in self.labels], dtype=np.float64)
        flagged = probs >= limits
        return [[label for label, on in zip(self.labels, row) if on] for row in flagged]


def _token_capped_batches(order: np.ndarray, lengths: Sequence[int], batch_size: int) -> list[np.ndarray]:
    """Consecutive slices of ``order`` (longest first) of at most ``batch_size`` posts and
    ``batch_size * TOKENS_PER_BATCH_POST`` padded tokens (a batch's first post sets its width)."""
    budget = batch_size * TOKENS_PER_BATCH_POST
    batches, start = [], 0
    while start < len(order):
        size = max(1, min(batch_size, budget // max(1, lengths[order[start]])))
        batches.append(order[start : start + size])
        start += size
    return batches


def champion_version(settings=None) -> str:
    """The version named in ``var/models/CHAMPION``; :class:`NoChampionError` when there is none."""
    from maraude.settings import get_settings

    settings = settings or get_settings()
    marker = settings.models_dir / CHAMPION_FILE
    version = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
    if not version:
        raise NoChampionError(
            f"no champion model in {settings.models_dir}: run `make demo` or `maraude train` to train and promote one"
        )
    return version


def load_champion(settings=None, *, quantize: bool | None = None, threads: int | None = None) -> Classifier:
    """The champion model (``var/models/CHAMPION``) as a :class:`Classifier`."""
    from maraude.settings import get_settings

    settings = settings or get_settings()
    version = champion_version(settings)
    model_dir = settings.models_dir / version
    if not model_dir.is_dir():
        raise NoChampionError(
            f"{settings.models_dir / CHAMPION_FILE} names {version!r} but {model_dir} does not exist: "
            "run `maraude train` to train and promote a new champion"
        )
    return Classifier.load(model_dir, quantize=quantize, threads=threads)


__all__ = ["Classifier", "NoChampionError", "champion_version", "encode_texts", "load_champion", "read_model_info"]
