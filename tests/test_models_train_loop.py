"""The fine-tuning loop on the tiny model: it learns, keeps the best epoch, and writes a servable folder."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from maraude import LABELS
from models.train import (
    TrainConfig,
    Trainer,
    best_f1_threshold,
    choose_thresholds,
    labels_matrix,
    make_version,
    positive_weights,
    train_model,
)
from tests.models_train_fixtures import HANDFUL, learnable_tiny_base, make_records

# The tiny model has 2 layers: freezing the bottom one exercises the cached path of ``freeze_layers=N``.
FAST = dict(warmup_ratio=0.0, time_budget_s=None, threads=1, calibrate=False, freeze_layers=1)


def test_training_overfits_a_handful_of_posts(tmp_path):
    base = learnable_tiny_base(tmp_path / "base")
    texts, y = [p["text"] for p in HANDFUL], labels_matrix(HANDFUL)
    trainer = Trainer(base, TrainConfig(epochs=120, batch_size=8, learning_rate=5e-3, head_learning_rate=5e-3, patience=1000, **FAST))
    losses = []
    trainer.fit(texts, y, texts, y, progress=False, on_step=lambda step, loss: losses.append(loss))
    assert len(losses) == 120
    assert np.mean(losses[-5:]) < 0.25 * np.mean(losses[:5])
    probs = 1 / (1 + np.exp(-trainer.logits(trainer.encode(texts))))
    thresholds = choose_thresholds(y, probs, distress_min_recall=1.0)
    flagged = probs >= np.array([thresholds[label] for label in LABELS])
    assert (flagged == y.astype(bool)).all()


def test_cached_frozen_layers_give_the_same_logits_as_the_full_forward(tmp_path):
    trainer = Trainer(learnable_tiny_base(tmp_path / "base"), TrainConfig(freeze_layers=1, threads=1))
    assert trainer.can_cache_frozen_layers()
    encoded = trainer.encode([p["text"] for p in HANDFUL])
    full = trainer.logits(encoded)
    cached = trainer._cached_logits(trainer.frozen_features(encoded))
    np.testing.assert_allclose(cached, full, atol=1e-5)


def test_frozen_layers_get_no_gradient_and_the_top_does(tmp_path):
    trainer = Trainer(learnable_tiny_base(tmp_path / "base"), TrainConfig(freeze_layers=1, threads=1))
    trainable = {name for name, p in trainer.model.named_parameters() if p.requires_grad}
    assert not any(name.startswith(("bert.embeddings", "bert.encoder.layer.0.")) for name in trainable)
    assert any(name.startswith("bert.encoder.layer.1.") for name in trainable)
    assert {"classifier.weight", "bert.pooler.dense.weight"} <= trainable


def test_uncached_training_path_also_learns(tmp_path):
    base = learnable_tiny_base(tmp_path / "base")
    texts, y = [p["text"] for p in HANDFUL], labels_matrix(HANDFUL)
    trainer = Trainer(base, TrainConfig(epochs=30, batch_size=8, learning_rate=5e-3, head_learning_rate=5e-3, patience=1000, **{**FAST, "freeze_layers": 0}))
    assert not trainer.can_cache_frozen_layers()
    losses = []
    fit = trainer.fit(texts, y, texts, y, progress=False, on_step=lambda step, loss: losses.append(loss))
    assert not fit["cached_frozen_layers"]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])


def test_early_stopping_keeps_the_best_epoch(tmp_path):
    base = learnable_tiny_base(tmp_path / "base")
    texts, y = [p["text"] for p in HANDFUL], labels_matrix(HANDFUL)
    # Validation labels are the training labels shuffled: validation cannot keep improving, so patience ends the run.
    val_y = y[::-1].copy()
    trainer = Trainer(base, TrainConfig(epochs=30, batch_size=8, learning_rate=1e-2, head_learning_rate=1e-2, patience=1, **FAST))
    fit = trainer.fit(texts, y, texts, val_y, progress=False)
    scores = [epoch["val_macro_f1"] for epoch in fit["history"]]
    assert fit["stopped_by"] == "early_stopping"
    assert len(scores) < 30
    assert scores[fit["best_epoch"] - 1] == max(scores)


def test_distress_threshold_keeps_the_recall_floor_even_when_f1_prefers_higher():
    # Positives 0.3, 0.35, 0.9, 0.95 among negatives from 0.32 to 0.7: best F1 alone cuts above 0.7 (recall 0.5).
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=float)
    scores = np.array([0.30, 0.35, 0.90, 0.95, 0.32, 0.40, 0.50, 0.60, 0.70, 0.10])
    unconstrained, _ = best_f1_threshold(y, scores)
    constrained, _ = best_f1_threshold(y, scores, min_recall=0.95)
    assert unconstrained > 0.7
    assert constrained <= 0.30
    assert ((scores >= constrained) & (y == 1)).sum() / y.sum() >= 0.95


def test_choose_thresholds_applies_the_floor_to_distress_only():
    rng = np.random.default_rng(0)
    y = (rng.random((400, 4)) < 0.3).astype(float)
    probs = np.clip(y * 0.35 + rng.random((400, 4)) * 0.65, 0, 1)
    thresholds = choose_thresholds(y, probs)
    distress = LABELS.index("distress")
    recall = ((probs[:, distress] >= thresholds["distress"]) & (y[:, distress] == 1)).sum() / y[:, distress].sum()
    assert recall >= 0.95
    for index, label in enumerate(LABELS):
        if label != "distress":
            assert thresholds[label] == best_f1_threshold(y[:, index], probs[:, index])[0]


def test_positive_weights_favour_rare_labels_within_the_cap():
    y = np.zeros((100, 4))
    y[:50, 0] = 1  # balanced
    y[:10, 1] = 1  # rare
    y[:1, 2] = 1  # very rare: capped
    weights = positive_weights(y, cap=3.0)
    assert weights[0] == pytest.approx(1.0)
    assert weights[1] == pytest.approx(3.0)
    assert weights[2] == pytest.approx(3.0)
    assert weights[3] == pytest.approx(3.0)  # no positive at all: capped, never infinite


def test_version_names_the_base_and_utc_time():
    assert make_version("multilingual-e5-small", datetime(2026, 3, 1, 10, 15, tzinfo=timezone.utc)) == "multilingual-e5-small-20260301T101500"
    assert make_version("org/some model").startswith("org-some-model-")


def test_train_model_writes_a_folder_the_classifier_serves(tmp_path):
    from models.inference import Classifier

    records = make_records(count_per_kind=10)
    base = learnable_tiny_base(tmp_path / "base")
    make_tokenizer_cased(base)
    config = TrainConfig(epochs=3, batch_size=16, learning_rate=5e-3, head_learning_rate=5e-3, warmup_ratio=0.0, time_budget_s=None, threads=1, freeze_layers=1)
    result = train_model(records, base, tmp_path / "models" / "v1", version="v1", corpus_hash="abc", config=config, progress=False)
    info = json.loads((tmp_path / "models" / "v1" / "maraude.json").read_text())
    assert info["version"] == "v1" and info["labels"] == list(LABELS) and info["corpus_hash"] == "abc"
    assert set(info["thresholds"]) == set(LABELS) and info["thresholds"] == result.thresholds
    assert isinstance(info["quantize"], bool)
    assert (tmp_path / "models" / "v1" / "int8_smoothing.safetensors").is_file()
    serving = info["params"]["serving"]
    assert serving in info["params"]["validation_macro_f1_by_serving"]
    # the exit probe is either served or kept aside with the reason in the figures
    assert ("early_exit" in info) == serving.endswith("+exit")
    assert "early_exit" in info or "early_exit_rejected" in info
    assert set(info["params"]["calibration"]) == set(LABELS)
    assert not (tmp_path / "models" / "v1.partial").exists()
    classifier = Classifier.load(tmp_path / "models" / "v1")
    validation = [r for r in records if r["split"] == "validation"]
    probs = classifier.predict_proba([r["text"] for r in validation])
    distress = labels_matrix(validation)[:, LABELS.index("distress")]
    caught = ((probs[:, LABELS.index("distress")] >= classifier.thresholds["distress"]) & (distress == 1)).sum()
    assert caught / distress.sum() >= 0.95
    # the base tokenizer is cased; training made the model's own tokenizer lowercase, and serving follows it
    assert info["params"]["lowercase"] is True
    np.testing.assert_array_equal(classifier.predict_proba([r["text"].upper() for r in validation]), probs)


def make_tokenizer_cased(base):
    """Drop the tiny tokenizer's lowercasing, so upper-case words become unknown, as in a cased vocabulary."""
    from tokenizers import normalizers
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base))
    tokenizer.backend_tokenizer.normalizer = normalizers.NFC()
    tokenizer.save_pretrained(str(base))
    assert tokenizer("ENCORE")["input_ids"] != tokenizer("encore")["input_ids"]


def test_train_model_refuses_to_overwrite_a_model(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "config.json").write_text("{}")
    with pytest.raises(FileExistsError):
        train_model(make_records(2), tmp_path / "no-base", tmp_path / "taken", version="v", corpus_hash="h")
