"""The held-out and forum selection parts: valid, never in the training corpus, scored by ``score_heldout``."""

from __future__ import annotations

import numpy as np
import pytest

from models.corpus.build import CORPUS_PATH, _near_duplicate_pairs, load_corpus, normalise, read_parts
from models.corpus.score_heldout import DEV_DIR, HELDOUT_DIR, main
from models.tiny import make_tiny_model_dir
from tests.models_train_fixtures import write_jsonl


def _crossing_near_duplicates(first: list[dict], second: list[dict]) -> list[tuple[str, str]]:
    texts = [normalise(r["text"]) for r in first] + [normalise(r["text"]) for r in second]
    return [(first[a]["id"], second[b - len(first)]["id"]) for a, b in _near_duplicate_pairs(texts, 0.9) if a < len(first) <= b]


def test_heldout_parts_are_valid_and_share_no_post_with_the_training_corpus():
    heldout = read_parts(HELDOUT_DIR)
    corpus = load_corpus(CORPUS_PATH)
    assert len(heldout) >= 600
    assert not {r["id"] for r in heldout} & {r["id"] for r in corpus}
    assert not {normalise(r["text"]) for r in heldout} & {normalise(r["text"]) for r in corpus}
    assert _crossing_near_duplicates(corpus, heldout) == [], "a held-out post nearly repeats a training post"


def test_forum_selection_set_is_valid_long_and_apart_from_corpus_and_heldout():
    dev = read_parts(DEV_DIR)
    corpus, heldout = load_corpus(CORPUS_PATH), read_parts(HELDOUT_DIR)
    assert len(dev) >= 500
    # It exists for long forum messages: a set of one-liners would not measure that failure.
    assert np.median([len(r["text"].split()) for r in dev]) >= 50
    assert sum(not r["labels"] for r in dev) / len(dev) >= 0.75
    for other in (corpus, heldout):
        assert not {r["id"] for r in dev} & {r["id"] for r in other}
        assert _crossing_near_duplicates(other, dev) == []


def _post(pid, text, labels=()):
    return {"id": pid, "text": text, "labels": list(labels), "style": "jvc_forum", "variety": "fr_FR", "hard": False, "note": ""}


@pytest.fixture
def parts(tmp_path):
    folder = tmp_path / "heldout"
    write_jsonl(folder / "m.jsonl", [
        _post("m-1", "j'ai arrêté la fac en octobre", ["no_school"]),
        _post("m-2", "le match d'hier était incroyable"),
        _post("m-3", "quelqu'un a testé le nouveau patch ?"),
    ])
    write_jsonl(folder / "n.jsonl", [_post("n-1", "bonne nuit tout le monde"), _post("n-2", "je cherche du taf depuis un an", ["no_job"])])
    return folder


def test_score_heldout_reports_flags_on_posts_without_a_label_per_part(tmp_path, parts, capsys):
    # Threshold 0 flags every post for no_school, 1 flags none: the figures follow exactly.
    model = make_tiny_model_dir(tmp_path / "tiny", thresholds={"no_school": 0.0, "no_job": 1.0, "isolation": 1.0, "distress": 1.0})
    assert main(["--model", str(model), "--parts", str(parts), "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "all: 5 posts" in out and "posts without a label flagged 100.0% (3/3" in out
    assert "m: 3 posts" in out and "(2/2" in out
    assert "n: 2 posts" in out and "(1/1" in out
    assert "no_school  support   1  precision 0.200  recall 1.000" in out


def test_score_heldout_names_the_invalid_line(tmp_path, capsys):
    write_jsonl(tmp_path / "heldout" / "m.jsonl", [{"id": "m-1", "text": "salut"}])
    assert main(["--parts", str(tmp_path / "heldout")]) == 1
    assert "m.jsonl:1" in capsys.readouterr().err
