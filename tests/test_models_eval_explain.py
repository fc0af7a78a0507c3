"""Occlusion explanations: the word that drives a flag comes first, unflagged posts cost nothing."""

from __future__ import annotations

import numpy as np
import pytest

from models.explain import explain


class PlantedWordClassifier:
    """Scores ``distress`` 0.9 when the planted word is present, else 0.1; ``isolation`` rises a little with "seul"."""

    labels = ("no_school", "no_job", "isolation", "distress")

    def __init__(self):
        self.calls = []

    def predict_proba(self, texts, batch_size=32):
        self.calls.append(list(texts))
        rows = []
        for text in texts:
            words = text.split()
            rows.append([0.0, 0.0, 0.2 + 0.5 * ("seul" in words), 0.9 if "pont" in [w.strip(",.!") for w in words] else 0.1])
        return np.array(rows, dtype=np.float32)


def test_the_planted_word_is_the_top_explanation():
    classifier = PlantedWordClassifier()
    [result] = explain(classifier, ["ce soir je regarde le pont, seul"], [["isolation", "distress"]], top_k=2)
    assert result["distress"][0] == ["pont", pytest.approx(0.8)]
    assert len(result["distress"]) == 1  # no other word raises the score
    assert result["isolation"][0][0] == "seul"


def test_posts_without_flags_get_no_explanation_and_no_scoring():
    classifier = PlantedWordClassifier()
    results = explain(classifier, ["rien à signaler", "le pont est beau"], [[], ["distress"]])
    assert results[0] == {}
    assert results[1]["distress"][0][0] == "pont"
    # One batch: the second post and one variant per content word ("le" and "est" are function words,
    # never occluded); the unflagged post is never scored.
    assert classifier.calls == [["le pont est beau", "le est beau", "le pont est"]]


def test_a_real_tiny_model_gives_explanations_for_flagged_labels(tmp_path):
    from models.inference import Classifier
    from models.tiny import make_tiny_model_dir

    classifier = Classifier.load(make_tiny_model_dir(tmp_path / "tiny", thresholds={"distress": 0.0}), quantize=False)
    [result] = explain(classifier, ["je suis seul depuis des mois et plus rien"], [["distress"]], top_k=3)
    assert set(result) == {"distress"}
    assert len(result["distress"]) <= 3
    assert all(isinstance(word, str) and weight > 0 for word, weight in result["distress"])


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="texts"):
        explain(PlantedWordClassifier(), ["a", "b"], [["distress"]])
    with pytest.raises(ValueError, match="unknown labels"):
        explain(PlantedWordClassifier(), ["a"], [["sadness"]])


def test_a_long_post_is_explained_on_its_head_and_tail_like_the_model_reads_it():
    filler = " ".join(f"mot{i}" for i in range(300))
    # The signal sits near the end, where head-and-tail truncation keeps it; a head-only cut would lose it.
    text = f"début {filler} le pont ce soir"
    classifier = PlantedWordClassifier()
    [result] = explain(classifier, [text], [["distress"]], top_k=1)
    assert result["distress"][0][0] == "pont"
    scored = classifier.calls[0][0].split()
    assert len(scored) == 128 and scored[0] == "début" and scored[-1] == "soir"
