"""Early exit (models.early_exit) on tiny random models: exactness of the split forward, exit bookkeeping, probe fitting."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maraude import LABELS
from models.early_exit import ExitProbe, bottom, fit_exit_probe, pooled_features, supports_early_exit, top_logits
from models.inference import Classifier
from models.tiny import make_tiny_model_dir

POSTS = [
    "salut",
    "je suis seul depuis des mois et personne me parle",
    "mdr",
    "j'ai arrêté le lycée en janvier et depuis je fais rien de mes journées, je dors le jour",
    "on joue ce soir ?",
    "je veux disparaître",
    "trois mois de chômage",
]


def with_probe(folder, threshold: float, seed: int = 0):
    """Give a tiny model folder an exit probe after its first block, with random coefficients."""
    info = json.loads((folder / "maraude.json").read_text())
    coef = np.random.default_rng(seed).normal(size=32).tolist()
    info["early_exit"] = ExitProbe(1, coef, 0.0, threshold).to_info()
    (folder / "maraude.json").write_text(json.dumps(info))
    return folder


@pytest.fixture
def tiny_dir(tmp_path):
    return make_tiny_model_dir(tmp_path / "tiny", seed=5)


def test_split_forward_is_the_plain_forward_for_bert_and_roberta():
    import torch
    from transformers import BertConfig, BertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

    shape = dict(vocab_size=60, hidden_size=32, num_hidden_layers=3, num_attention_heads=2, intermediate_size=64, num_labels=4)
    input_ids = torch.tensor([[2, 10, 11, 12, 13, 3], [2, 14, 15, 3, 1, 1]])
    attention = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    torch.manual_seed(0)
    for model in (
        BertForSequenceClassification(BertConfig(**shape, pad_token_id=1)),
        RobertaForSequenceClassification(RobertaConfig(**shape, pad_token_id=1, max_position_embeddings=40)),
    ):
        model.eval()
        assert supports_early_exit(model, 2) and not supports_early_exit(model, 3)
        with torch.inference_mode():
            plain = model(input_ids=input_ids, attention_mask=attention).logits
            split = top_logits(model, bottom(model, input_ids, attention, 2), attention, 2)
        assert torch.allclose(plain, split, atol=1e-5), type(model).__name__


def test_a_probe_nobody_passes_changes_nothing(tiny_dir):
    plain = Classifier.load(tiny_dir, quantize=False, threads=1).predict_proba(POSTS)
    classifier = Classifier.load(with_probe(tiny_dir, threshold=0.0), quantize=False, threads=1)
    assert classifier.exit_probe is not None
    np.testing.assert_allclose(classifier.predict_proba(POSTS, batch_size=4), plain, atol=1e-5)
    assert classifier.posts_exited == 0 and classifier.posts_scored == len(POSTS)


def test_exited_posts_carry_the_probability_of_any_label_and_the_others_are_untouched(tiny_dir):
    plain = Classifier.load(tiny_dir, quantize=False, threads=1).predict_proba(POSTS)
    classifier = Classifier.load(with_probe(tiny_dir, threshold=0.5), quantize=False, threads=2)
    probabilities = classifier.predict_proba(POSTS, batch_size=3)
    # the probe's own view of each post, computed independently
    encoded = classifier.encode(POSTS)
    features = pooled_features(classifier._model, encoded, classifier._pad_id, layer=1)
    any_label = classifier.exit_probe.any_probability(features)
    exited = any_label < 0.5
    assert 0 < exited.sum() < len(POSTS), "the seed should give a mix of exits and stays"
    assert classifier.posts_exited == exited.sum()
    np.testing.assert_allclose(probabilities[exited], np.repeat(any_label[exited, None], len(LABELS), axis=1), atol=1e-5)
    np.testing.assert_allclose(probabilities[~exited], plain[~exited], atol=1e-5)


def test_early_exit_false_ignores_the_probe(tiny_dir):
    classifier = Classifier.load(with_probe(tiny_dir, threshold=1.1), quantize=False, early_exit=False)
    assert classifier.exit_probe is None
    classifier.predict_proba(POSTS)
    assert classifier.posts_exited == 0


def test_everyone_exits_below_every_threshold_when_the_probe_is_strict(tiny_dir):
    classifier = Classifier.load(with_probe(tiny_dir, threshold=1.1), quantize=True)
    probabilities = classifier.predict_proba(POSTS)
    assert classifier.posts_exited == len(POSTS)
    assert (probabilities == probabilities[:, :1]).all()  # one number per post, P(any label)


def test_a_probe_deeper_than_the_model_is_refused(tiny_dir):
    info = json.loads((tiny_dir / "maraude.json").read_text())
    info["early_exit"] = ExitProbe(2, np.zeros(32), 0.0, 0.5).to_info()  # the tiny model has 2 blocks
    (tiny_dir / "maraude.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="exit after layer 2"):
        Classifier.load(tiny_dir)


def test_fit_exit_probe_keeps_the_required_share_of_posts_that_must_stay():
    rng = np.random.default_rng(1)
    direction = rng.normal(size=16)
    train_any = rng.random(600) < 0.5
    train = rng.normal(size=(600, 16)) + np.outer(train_any * 2.0 - 1.0, direction) * 0.6
    val_any = rng.random(400) < 0.5
    val = rng.normal(size=(400, 16)) + np.outer(val_any * 2.0 - 1.0, direction) * 0.6
    probe = fit_exit_probe(train, train_any, val, val_any, layer=3, keep=0.99)
    scores = probe.any_probability(val)
    kept = (scores[val_any] >= probe.threshold).mean()
    assert kept >= 0.99
    assert probe.validation["must_stay_kept"] == pytest.approx(kept, abs=1e-4)
    # a useful probe: a good share of the posts with no label exit
    assert (scores[~val_any] < probe.threshold).mean() > 0.3
    restored = ExitProbe.from_info(json.loads(json.dumps(probe.to_info())))
    np.testing.assert_allclose(restored.any_probability(val), scores, atol=1e-5)


def test_fit_exit_probe_refuses_degenerate_data():
    features = np.zeros((10, 4))
    with pytest.raises(ValueError, match="with and without labels"):
        fit_exit_probe(features, np.ones(10, bool), features, np.ones(10, bool), layer=1)
