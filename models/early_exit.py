"""Early exit: posts that are plainly ordinary stop after the bottom layers of the encoder.

Most posts in a feed carry no signal at all. After ``layer`` transformer blocks (4 of e5-small's
12 by default), a logistic regression on the mean-pooled hidden states estimates the probability
that the post carries *any* label. Below the exit threshold the post stops there, at a third of
the cost; otherwise the same hidden states go on through the top layers, so a post that continues
costs nothing extra. This is the "cheap high-recall prefilter" of the classifier issue, built so
that it shares its computation with the model instead of adding a second one (the idea of
DeeBERT, Xin et al. 2020, with a single exit).

Choosing the threshold (:func:`fit_exit_probe`): on validation, the posts that must never exit
are those with a gold label *or* flagged by the full model; the threshold is the highest value
that keeps at least ``keep`` (99.5 %) of them. Training then checks, through the served path,
that validation macro-F1 and distress recall do not drop beyond the allowed loss
(``models.train.choose_serving``), and switches the exit off otherwise.

What an exited post carries: for every label, the probe's probability that *any* label applies,
an upper bound of each label's probability. Flags come from the same thresholds as for every
other post, so ``flag = probability >= threshold`` stays true everywhere.

Only BERT-like classifiers (``encoder.layer``; a pooler + classifier head as BERT, or a
classifier over the sequence as RoBERTa / CamemBERT) can exit early; any other architecture runs
the plain forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_EXIT_LAYER = 4
"""Blocks computed before the exit decision: 4 of 12 costs a third of a full pass."""

PROBE_C = 0.03
"""Inverse L2 strength of the probe. Weaker regularisation makes over-confident scores, so the 99.5 %
keep rule pushes the threshold down and fewer posts exit: on the first e5 champion's validation
split, 29 % exited with C = 0.03 against 26 % with C = 1."""

DEFAULT_KEEP = 0.995
"""Share of validation posts with a gold label or a model flag that must stay above the exit threshold."""


def encoder_layers(model) -> list:
    """The transformer blocks of a BERT-like classifier, bottom first, or [] for other architectures."""
    encoder = getattr(model.base_model, "encoder", None)
    return list(getattr(encoder, "layer", []))


def supports_early_exit(model, layer: int) -> bool:
    """True when ``model`` can be split after ``layer`` blocks with at least one block left above."""
    base = model.base_model
    return (
        hasattr(base, "embeddings")
        and hasattr(model, "classifier")
        and 0 < layer < len(encoder_layers(model))
    )


def pad_ids(encoded: Sequence[Sequence[int]], pad_id: int):
    """``(input_ids, attention_mask)`` long tensors of token-id lists, right-padded to the longest."""
    import torch

    width = max(len(ids) for ids in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(encoded), width), dtype=torch.long)
    for row, ids in enumerate(encoded):
        input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        attention[row, : len(ids)] = 1
    return input_ids, attention


def _bidirectional_mask(model, hidden, attention_mask):
    from transformers.masking_utils import create_bidirectional_mask

    return create_bidirectional_mask(config=model.base_model.config, inputs_embeds=hidden, attention_mask=attention_mask)


def bottom(model, input_ids, attention_mask, layer: int):
    """Hidden states after the embeddings and the first ``layer`` blocks (batch, width, hidden)."""
    hidden = model.base_model.embeddings(input_ids=input_ids)
    mask = _bidirectional_mask(model, hidden, attention_mask)
    for block in encoder_layers(model)[:layer]:
        hidden = block(hidden, mask)
    return hidden


def top_logits(model, hidden, attention_mask, layer: int):
    """Logits from hidden states after ``layer`` blocks, through the remaining blocks and the head."""
    mask = _bidirectional_mask(model, hidden, attention_mask)
    for block in encoder_layers(model)[layer:]:
        hidden = block(hidden, mask)
    pooler = getattr(model.base_model, "pooler", None)
    if pooler is not None:
        # BERT: the head reads the pooled first token (dropout is inactive in eval mode)
        return model.classifier(model.dropout(pooler(hidden)))
    # RoBERTa / CamemBERT: the classification head pools the sequence itself
    return model.classifier(hidden)


def mean_pool(hidden, attention_mask) -> np.ndarray:
    """Mean of the hidden states over real tokens (special tokens included), as float32 numpy."""
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return ((hidden * weights).sum(1) / weights.sum(1).clamp(min=1)).float().numpy()


class ExitProbe:
    """The exit decision: ``p_any = sigmoid(pooled · coef + intercept)``; exit when ``p_any < threshold``."""

    def __init__(self, layer: int, coef: Sequence[float], intercept: float, threshold: float, validation: dict | None = None):
        self.layer = int(layer)
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = float(intercept)
        self.threshold = float(threshold)
        self.validation = dict(validation or {})

    @classmethod
    def from_info(cls, info: dict | None) -> ExitProbe | None:
        """The probe stored under ``"early_exit"`` in ``maraude.json``, or None."""
        if not info:
            return None
        return cls(info["layer"], info["coef"], info["intercept"], info["threshold"], info.get("validation"))

    def to_info(self) -> dict:
        """JSON-ready form for ``maraude.json``."""
        return {
            "layer": self.layer,
            "threshold": round(self.threshold, 6),
            "intercept": self.intercept,
            "coef": [round(float(value), 7) for value in self.coef],
            "validation": self.validation,
        }

    def any_probability(self, pooled: np.ndarray) -> np.ndarray:
        """Probability that a post carries any label, from its mean-pooled hidden states."""
        return 1.0 / (1.0 + np.exp(-(pooled @ self.coef + self.intercept)))


def pooled_features(model, encoded: Sequence[Sequence[int]], pad_id: int, layer: int, batch_size: int = 64) -> np.ndarray:
    """Mean-pooled hidden states after ``layer`` blocks for each token-id list, in input order."""
    import torch

    model.eval()
    order = np.argsort([len(ids) for ids in encoded], kind="stable")
    features = np.zeros((len(encoded), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            input_ids, attention = pad_ids([encoded[row] for row in rows], pad_id)
            features[rows] = mean_pool(bottom(model, input_ids, attention, layer), attention)
    return features


def fit_exit_probe(
    train_features: np.ndarray,
    train_any: np.ndarray,
    val_features: np.ndarray,
    val_must_stay: np.ndarray,
    *,
    layer: int,
    keep: float = DEFAULT_KEEP,
) -> ExitProbe:
    """Fit the probe on train posts (target: any gold label) and set the threshold on validation.

    ``val_must_stay`` marks the validation posts that should not exit (gold label or model flag);
    the threshold keeps at least ``keep`` of them. Features are standardised for the fit and the
    scaling is folded back into the coefficients, so serving needs only one dot product.
    """
    from sklearn.linear_model import LogisticRegression

    train_any = np.asarray(train_any, dtype=bool)
    val_must_stay = np.asarray(val_must_stay, dtype=bool)
    if train_any.all() or not train_any.any() or not val_must_stay.any():
        raise ValueError("the exit probe needs posts with and without labels in train, and posts to keep in validation")
    mean = train_features.mean(axis=0)
    scale = train_features.std(axis=0) + 1e-6
    regression = LogisticRegression(C=PROBE_C, max_iter=3000).fit((train_features - mean) / scale, train_any)
    coef = regression.coef_[0] / scale
    intercept = float(regression.intercept_[0] - np.sum(regression.coef_[0] * mean / scale))
    probe = ExitProbe(layer, coef, intercept, threshold=0.0)
    val_scores = probe.any_probability(val_features)
    kept_scores = np.sort(val_scores[val_must_stay])
    # the lowest score among the best-scored `keep` share of the posts that must stay
    allowed_losses = int(np.floor((1.0 - keep) * len(kept_scores)))
    probe.threshold = float(np.nextafter(kept_scores[allowed_losses], -np.inf))
    exits = val_scores < probe.threshold
    probe.validation = {
        "keep_target": keep,
        "exit_share": round(float(exits.mean()), 4),
        "must_stay_kept": round(float(1.0 - exits[val_must_stay].mean()), 4),
        "n": int(len(val_scores)),
    }
    return probe


__all__ = [
    "DEFAULT_EXIT_LAYER",
    "DEFAULT_KEEP",
    "ExitProbe",
    "bottom",
    "encoder_layers",
    "fit_exit_probe",
    "mean_pool",
    "pad_ids",
    "pooled_features",
    "supports_early_exit",
    "top_logits",
]
