"""Corpus assembly: validation, duplicates, a split that does not move when parts grow, the data card."""

from __future__ import annotations

import pytest

from models.corpus.build import (
    CORPUS_PATH,
    DATA_CARD_PATH,
    CorpusError,
    build,
    corpus_hash,
    load_corpus,
    normalise,
    read_parts,
    requirement_checks,
    split_of,
)
from tests.models_train_fixtures import write_jsonl


def _post(pid: str, text: str, labels=(), style="twitter", variety="fr_FR", hard=False, note=""):
    return {"id": pid, "text": text, "labels": list(labels), "style": style, "variety": variety, "hard": hard, "note": note}


def test_invalid_records_are_reported_with_file_and_line(tmp_path):
    write_jsonl(
        tmp_path / "parts" / "a.jsonl",
        [
            _post("a-1", "ok post"),
            _post("a-2", "bad label", labels=["sadness"]),
            _post("a-3", "hard without note", hard=True),
            {"id": "a-4", "text": "missing fields"},
            _post("a-1", "same id again"),
        ],
    )
    with pytest.raises(CorpusError) as raised:
        read_parts(tmp_path / "parts")
    message = str(raised.value)
    assert "a.jsonl:2: unknown labels ['sadness']" in message
    assert "a.jsonl:3: hard=true needs a note" in message
    assert "a.jsonl:4: missing field 'labels'" in message
    assert "a.jsonl:5: id 'a-1' already used at a.jsonl:1" in message


def test_labels_are_put_in_canonical_order(tmp_path):
    write_jsonl(tmp_path / "parts" / "a.jsonl", [_post("a-1", "text", labels=["distress", "no_school"])])
    assert read_parts(tmp_path / "parts")[0]["labels"] == ["no_school", "distress"]


def test_normalise_ignores_case_accents_and_punctuation():
    assert normalise("J'ai ARRÊTÉ le lycée !!! 😢") == normalise("j ai arrete le lycee")


def test_duplicates_are_dropped_and_minimal_pairs_kept(tmp_path):
    write_jsonl(
        tmp_path / "parts" / "a.jsonl",
        [
            _post("a-1", "ça fait six mois que j'ai arrêté le lycée et je fais rien", ["no_school", "no_job"]),
            _post("a-2", "Ça fait six mois que j'ai arrêté le lycée, et je fais rien !!", ["no_school", "no_job"]),
            _post("a-3", "ça fait six mois que j'ai arrêté le lycée et je fais rien.. ", ["no_school", "no_job"]),
            _post("a-4", "ça fait six mois que mon frère a arrêté le lycée et il fait rien", []),
            _post("a-5", "le bus est encore en retard ce matin", []),
            _post("a-6", "le bus est encore en retard ce matin", ["isolation"]),
        ],
    )
    write_jsonl(tmp_path / "parts" / "b.jsonl", [_post("b-1", "ça fait six mois que j'ai arrêté le lycée et je fais rien mdr", ["no_school", "no_job"])])
    report = build(tmp_path / "parts", tmp_path / "corpus.jsonl", tmp_path / "DATA_CARD.md")
    kept = {record["id"] for record in report.records}
    assert kept == {"a-1", "a-4"}
    assert report.exact_duplicates == 2
    assert report.near_duplicates == 1
    assert report.contradictions == 2


def test_near_duplicates_with_different_labels_are_both_kept(tmp_path):
    write_jsonl(
        tmp_path / "parts" / "a.jsonl",
        [
            _post("a-1", "ma sœur est toute seule depuis des mois et parle plus à personne", []),
            _post("a-2", "ma sœur est toute seule depuis des mois et parle plus à personne frr", ["isolation"]),
        ],
    )
    report = build(tmp_path / "parts", tmp_path / "corpus.jsonl", None)
    assert {record["id"] for record in report.records} == {"a-1", "a-2"}
    assert report.minimal_pairs == 1


def test_split_of_a_post_does_not_change_when_parts_grow(tmp_path):
    first = [_post(f"a-{i:04d}", f"post numéro {i} sur le foot et la pluie {i * 7}") for i in range(200)]
    write_jsonl(tmp_path / "parts" / "a.jsonl", first)
    before = {r["id"]: r["split"] for r in build(tmp_path / "parts", tmp_path / "c.jsonl", None).records}
    grown = first + [_post(f"a-{i:04d}", f"autre post {i} sur la musique et les séries {i * 11}") for i in range(200, 400)]
    write_jsonl(tmp_path / "parts" / "a.jsonl", grown)
    write_jsonl(tmp_path / "parts" / "b.jsonl", [_post(f"b-{i:04d}", f"encore un post {i} sur le train {i * 13}") for i in range(100)])
    after = {r["id"]: r["split"] for r in build(tmp_path / "parts", tmp_path / "c.jsonl", None).records}
    assert all(after[post_id] == split for post_id, split in before.items())


def test_hash_split_is_close_to_70_15_15():
    splits = [split_of(f"x-{i:05d}") for i in range(6000)]
    shares = {name: splits.count(name) / len(splits) for name in ("train", "validation", "test")}
    assert abs(shares["train"] - 0.70) < 0.03
    assert abs(shares["validation"] - 0.15) < 0.03
    assert abs(shares["test"] - 0.15) < 0.03


def test_data_card_reports_real_counts_and_unmet_requirements(tmp_path):
    write_jsonl(
        tmp_path / "parts" / "a.jsonl",
        [
            _post("a-1", "viré du bahut et je cherche rien", ["no_school"], style="sms", variety="belgium"),
            _post("a-2", "mon cousin a quitté son taf, grave inquiet pour lui", [], hard=True, note="about someone else"),
            _post("a-3", "match nul hier soir, on se refait samedi", []),
        ],
    )
    build(tmp_path / "parts", tmp_path / "corpus.jsonl", tmp_path / "DATA_CARD.md")
    card = (tmp_path / "DATA_CARD.md").read_text(encoding="utf-8")
    assert "| >= 3000 posts | 3 | **no** |" in card
    assert "| at least half of those are hard negatives | 50.0% (1) | yes |" in card
    assert "| belgium |" in card and "| sms |" in card
    assert "hand-written by the Maraude team" in card


def test_committed_corpus_is_the_build_of_the_committed_parts_and_meets_every_requirement(tmp_path):
    # Training reads corpus.jsonl, writers edit parts/: a part added without a rebuild would be
    # silently left out of training, and a hand edit of corpus.jsonl would not match its data card.
    report = build(out_path=tmp_path / "corpus.jsonl", card_path=None)
    committed = load_corpus(CORPUS_PATH)
    assert committed == load_corpus(tmp_path / "corpus.jsonl"), "run `python -m models.corpus.build`"
    assert f"content hash `{corpus_hash(report.records)[:16]}`" in DATA_CARD_PATH.read_text(encoding="utf-8")
    assert [name for name, _, met in requirement_checks(committed) if not met] == []
