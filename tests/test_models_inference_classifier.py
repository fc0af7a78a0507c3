"""The fast inference path (models.inference) on the tiny random model: no download, seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maraude import LABELS
from models.inference import Classifier, NoChampionError, encode_texts, load_champion
from models.tiny import FRENCH_WORDS, make_tiny_model_dir

POSTS = [
    "je suis seul depuis des mois",
    "salut",
    "j'ai arrêté le lycée en janvier et depuis je fais rien de mes journées",
    "personne me parle",
    "mission locale demain, entretien pour un cdi",
    "je veux disparaître",
    "mdr",
    "ma mère pleure tous les soirs, moi je dors pas",
    "trois mois de chômage",
    "fatigué",
    "on joue ce soir ?",
    "je reste dans ma chambre depuis des semaines, je parle plus à personne à part sur discord",
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return make_tiny_model_dir(tmp_path_factory.mktemp("tiny") / "tiny-test", seed=3)


@pytest.fixture(scope="module")
def classifier(tiny_dir):
    return Classifier.load(tiny_dir, quantize=False, threads=1)


def test_load_reads_the_folder_contract(classifier, tiny_dir):
    assert classifier.labels == LABELS
    assert classifier.version == "tiny-test"
    assert classifier.thresholds == {label: 0.5 for label in LABELS}
    assert classifier.max_length == 64
    assert classifier.model_dir == tiny_dir
    assert classifier.quantized is False


def test_predict_proba_returns_float32_probabilities_per_post_and_label(classifier):
    probabilities = classifier.predict_proba(POSTS)
    assert probabilities.shape == (len(POSTS), len(LABELS))
    assert probabilities.dtype == np.float32
    assert ((probabilities > 0) & (probabilities < 1)).all()
    assert classifier.predict_proba([]).shape == (0, len(LABELS))


def test_predict_proba_keeps_input_order_whatever_the_batching(classifier):
    reference = classifier.predict_proba(POSTS, batch_size=1)
    permutation = np.random.default_rng(0).permutation(len(POSTS))
    shuffled = classifier.predict_proba([POSTS[i] for i in permutation], batch_size=4)
    np.testing.assert_allclose(shuffled, reference[permutation], atol=1e-5)
    arrival = classifier.predict_proba(POSTS, batch_size=4, sort_by_length=False)
    np.testing.assert_allclose(arrival, reference, atol=1e-5)


def test_batches_on_parallel_threads_give_the_same_probabilities(tiny_dir, classifier):
    parallel = Classifier.load(tiny_dir, quantize=False, threads=2)
    np.testing.assert_allclose(
        parallel.predict_proba(POSTS, batch_size=3), classifier.predict_proba(POSTS, batch_size=3), atol=1e-6
    )


def test_predict_proba_rejects_non_text(classifier):
    with pytest.raises(TypeError, match="text #1 is int"):
        classifier.predict_proba(["ok", 3])


def test_long_posts_keep_their_head_and_tail(classifier):
    long_post = " ".join(FRENCH_WORDS[:200])
    encoded = classifier.encode([long_post])[0]
    full = classifier._tokenizer(long_post)["input_ids"]
    assert len(full) > classifier.max_length
    assert len(encoded) == classifier.max_length
    budget = classifier.max_length - 2
    head = int(budget * 0.25)
    assert encoded[: 1 + head] == full[: 1 + head]
    assert encoded[1 + head :] == full[len(full) - (budget - head) - 1 :]
    assert classifier.predict_proba([long_post]).shape == (1, len(LABELS))


def test_encode_ignores_truncation_and_padding_left_in_the_tokenizer(tiny_dir, tmp_path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_dir))
    # a call like this one leaves its settings in the backend, and save_pretrained keeps them
    tokenizer(POSTS, truncation=True, max_length=4, padding=True)
    tokenizer.save_pretrained(str(tmp_path))
    reloaded = AutoTokenizer.from_pretrained(str(tmp_path))
    encoded = encode_texts(reloaded, POSTS, max_length=64)
    assert [len(ids) for ids in encoded] == [len(tokenizer(post)["input_ids"]) for post in POSTS]


def test_flag_uses_each_labels_threshold(tiny_dir):
    thresholds = {"no_school": 0.2, "no_job": 0.9, "isolation": 0.5, "distress": 0.05}
    folder = make_tiny_model_dir(tiny_dir.parent / "thresholds", thresholds=thresholds)
    classifier = Classifier.load(folder, quantize=False)
    probabilities = np.array([[0.2, 0.89, 0.5, 0.04], [0.1, 0.95, 0.49, 0.9]], dtype=np.float32)
    assert classifier.flag(probabilities) == [["no_school", "isolation"], ["no_job", "distress"]]
    with pytest.raises(ValueError, match="shape"):
        classifier.flag(np.zeros((2, 3)))


def test_load_refuses_a_folder_whose_labels_disagree_with_the_model(tmp_path):
    folder = make_tiny_model_dir(tmp_path / "swapped")
    info = json.loads((folder / "maraude.json").read_text())
    info["labels"] = ["no_job", "no_school", "isolation", "distress"]
    (folder / "maraude.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="id2label"):
        Classifier.load(folder)


def test_load_explains_a_folder_without_maraude_json(tmp_path):
    with pytest.raises(FileNotFoundError, match="maraude.json"):
        Classifier.load(tmp_path)


def test_load_champion_without_champion_says_how_to_get_one(tmp_path):
    from maraude.settings import get_settings

    with pytest.raises(NoChampionError, match="make demo"):
        load_champion(get_settings(tmp_path))


def test_load_champion_loads_the_version_named_in_champion(tmp_path):
    from maraude.settings import get_settings

    settings = get_settings(tmp_path)
    make_tiny_model_dir(settings.models_dir / "tiny-champion", version="tiny-champion")
    (settings.models_dir / "CHAMPION").write_text("tiny-champion\n")
    assert load_champion(settings).version == "tiny-champion"


def test_tiny_folder_trains_reloads_and_quantises_close_to_float32(tmp_path):
    """Overfit a handful of posts, save, reload through the serving path: the flags come back."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = make_tiny_model_dir(tmp_path / "overfit", seed=1)
    examples = {
        "j'ai arrêté le lycée": ["no_school"],
        "trois mois de chômage": ["no_job"],
        "personne me parle": ["isolation"],
        "je veux disparaître": ["distress"],
        "on joue ce soir": [],
        "seul et plus de taf": ["no_job", "isolation"],
    }
    texts = list(examples)
    targets = torch.tensor([[float(label in examples[text]) for label in LABELS] for text in texts])
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    # no dropout: a handful of examples must be learnt exactly, quickly
    model = AutoModelForSequenceClassification.from_pretrained(
        str(folder), hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    # One thread: matrices this small gain nothing from two, and on a busy machine the threads'
    # barriers make training ~50x slower.
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(300):
            optimizer.zero_grad()
            model(**batch, labels=targets).loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(previous_threads)
    model.save_pretrained(str(folder))

    exact = Classifier.load(folder, quantize=False)
    probabilities = exact.predict_proba(texts)
    assert exact.flag(probabilities) == [examples[text] for text in texts]

    quantised = Classifier.load(folder, quantize=True)
    assert quantised.quantized is True
    quantised_probabilities = quantised.predict_proba(texts)
    assert np.abs(quantised_probabilities - probabilities).max() < 0.05
    assert quantised.flag(quantised_probabilities) == [examples[text] for text in texts]


def test_quantisation_follows_maraude_json_unless_the_caller_decides(tmp_path):
    folder = make_tiny_model_dir(tmp_path / "no-int8")
    info = json.loads((folder / "maraude.json").read_text())
    info["quantize"] = False
    (folder / "maraude.json").write_text(json.dumps(info))
    assert Classifier.load(folder).quantized is False
    assert Classifier.load(folder, quantize=True).quantized is True


def test_int8_leaves_ffn_down_projections_pooler_and_head_in_float32(tiny_dir):
    from transformers import AutoModelForSequenceClassification

    from models.inference import int8_layer_names

    names = int8_layer_names(AutoModelForSequenceClassification.from_pretrained(str(tiny_dir)))
    per_layer = {
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
    }
    assert set(names) == {f"bert.encoder.layer.{layer}.{module}" for layer in range(2) for module in per_layer}


def test_smoothing_keeps_the_float32_function_and_lets_int8_cover_every_encoder_layer(tmp_path):
    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForSequenceClassification

    from models.early_exit import pad_ids
    from models.inference import SMOOTHING_FILE, activation_maxima, int8_layer_names, smooth_linear_layers

    folder = make_tiny_model_dir(tmp_path / "smooth", seed=4)
    exact = Classifier.load(folder, quantize=False, threads=1)
    reference = exact.predict_proba(POSTS)
    model = AutoModelForSequenceClassification.from_pretrained(str(folder)).eval()
    maxima = activation_maxima(model, exact.encode(POSTS), exact._pad_id)
    assert set(maxima) == set(int8_layer_names(model, smoothed=True))
    assert len(maxima) > len(int8_layer_names(model))  # FFN down-projections included
    inner = smooth_linear_layers(model, maxima)
    assert all(isinstance(model.get_submodule(name), torch.nn.Linear) for name in inner)
    input_ids, attention = pad_ids(exact.encode(POSTS), exact._pad_id)
    with torch.inference_mode():
        smoothed = torch.sigmoid(model(input_ids=input_ids, attention_mask=attention).logits).numpy()
    np.testing.assert_allclose(smoothed, reference, atol=1e-5)

    save_file(maxima, str(folder / SMOOTHING_FILE))
    quantised = Classifier.load(folder, quantize=True)
    quantised_names = {name for name, module in quantised._model.named_modules() if type(module).__name__ == "Linear" and "quantized" in type(module).__module__}
    assert {name for name in inner} <= quantised_names
    probabilities = quantised.predict_proba(POSTS)
    assert ((probabilities > 0) & (probabilities < 1)).all()
    assert np.abs(probabilities - reference).max() < 0.1


def test_length_sorted_batches_of_long_posts_are_smaller_and_cover_every_post_once():
    from models.inference import TOKENS_PER_BATCH_POST, _token_capped_batches

    lengths = [190] * 5 + [40] * 60
    order = np.argsort([-length for length in lengths], kind="stable")
    batches = _token_capped_batches(order, lengths, batch_size=32)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert all(len(batch) * lengths[batch[0]] <= 32 * TOKENS_PER_BATCH_POST for batch in batches)
    assert len(batches[0]) == 32 * TOKENS_PER_BATCH_POST // 190  # the long posts make the first batch smaller
    assert max(len(batch) for batch in batches) == 32
