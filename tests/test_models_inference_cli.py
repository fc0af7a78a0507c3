"""``maraude classify``, ``maraude build-base`` and ``maraude bench classify`` on the tiny model."""

from __future__ import annotations

import json
import re

import pytest

from maraude import LABELS
from maraude.cli import main
from models.tiny import make_tiny_model_dir


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    return make_tiny_model_dir(
        tmp_path_factory.mktemp("tiny") / "tiny-cli",
        version="tiny-cli",
        thresholds={"no_school": 0.0, "no_job": 1.0, "isolation": 0.0, "distress": 1.0},
    )


def write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_classify_writes_scores_and_flags_for_every_line_in_order(tiny_dir, tmp_path):
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            json.dumps({"id": "p1", "text": "je suis seul depuis des mois"}),
            json.dumps({"id": 2, "text": "j'ai arrêté le lycée", "extra": "ignored"}),
            "",
            json.dumps({"id": "p3", "text": "mdr " * 500}),
        ],
    )
    target = tmp_path / "out.jsonl"
    assert main(["classify", str(source), "-o", str(target), "--model", str(tiny_dir)]) == 0
    rows = read_jsonl(target)
    assert [row["id"] for row in rows] == ["p1", 2, "p3"]
    for row in rows:
        assert set(row["scores"]) == set(LABELS)
        assert all(0.0 <= value <= 1.0 for value in row["scores"].values())
        # thresholds 0 and 1: scores of a sigmoid always reach 0 and never reach 1
        assert row["labels"] == ["no_school", "isolation"]


def test_classify_reports_unusable_text_per_line_and_scores_the_rest(tiny_dir, tmp_path):
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            json.dumps({"id": "empty", "text": ""}),
            json.dumps({"id": "blank", "text": "   \n"}),
            json.dumps({"id": "number", "text": 12}),
            json.dumps({"id": "missing"}),
            json.dumps({"id": "fine", "text": "personne me parle"}),
        ],
    )
    target = tmp_path / "out.jsonl"
    assert main(["classify", str(source), "-o", str(target), "--model", str(tiny_dir)]) == 0
    rows = {row["id"]: row for row in read_jsonl(target)}
    assert rows["empty"]["error"] == "empty text" and rows["empty"]["scores"] is None
    assert rows["blank"]["error"] == "empty text"
    assert "expected a string" in rows["number"]["error"]
    assert rows["missing"]["error"] == "no text"
    assert "error" not in rows["fine"] and set(rows["fine"]["scores"]) == set(LABELS)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"id": "x", "text": "coupé', "line 2: not valid JSON"),
        ('["id", "text"]', "line 2: expected a JSON object"),
        ('{"text": "sans identifiant"}', "line 2: the object has no id"),
    ],
)
def test_classify_stops_on_a_malformed_line_without_touching_the_output(tiny_dir, tmp_path, capsys, bad_line, message):
    source = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": "ok", "text": "salut"}), bad_line])
    target = tmp_path / "out.jsonl"
    target.write_text("previous results\n")
    assert main(["classify", str(source), "-o", str(target), "--model", str(tiny_dir)]) == 2
    assert message in capsys.readouterr().err
    assert target.read_text() == "previous results\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_classify_uses_the_champion_by_default(tmp_path, monkeypatch, capsys):
    from maraude.settings import get_settings

    monkeypatch.setenv("MARAUDE_HOME", str(tmp_path / "home"))
    settings = get_settings()
    source = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": 1, "text": "salut"})])
    target = tmp_path / "out.jsonl"
    assert main(["classify", str(source), "-o", str(target)]) == 1
    assert "make demo" in capsys.readouterr().err
    assert not target.exists()

    make_tiny_model_dir(settings.models_dir / "tiny-champion", version="tiny-champion")
    (settings.models_dir / "CHAMPION").write_text("tiny-champion\n")
    assert main(["classify", str(source), "-o", str(target)]) == 0
    assert "tiny-champion" in capsys.readouterr().out
    assert [row["id"] for row in read_jsonl(target)] == [1]


def test_build_base_accepts_a_local_model_folder(tiny_dir, capsys):
    assert main(["build-base", "--name", str(tiny_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(tiny_dir.resolve())


def test_build_base_follows_maraude_base_model(tiny_dir, monkeypatch, capsys):
    monkeypatch.setenv("MARAUDE_BASE_MODEL", str(tiny_dir))
    assert main(["build-base"]) == 0
    assert capsys.readouterr().out.strip() == str(tiny_dir.resolve())


def test_build_base_names_a_missing_folder_instead_of_asking_the_hub(tmp_path, capsys):
    assert main(["build-base", "--name", str(tmp_path / "absent")]) == 1
    assert "no model folder at" in capsys.readouterr().err


def test_build_base_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert main(["build-base", "--name", str(tmp_path)]) == 1
    assert "not a transformers model folder" in capsys.readouterr().err


def test_bench_classify_compares_both_paths_and_ends_with_the_speedup(tiny_dir, tmp_path, capsys):
    posts = [
        {"text": "j'ai arrêté le lycée", "labels": ["no_school"], "split": "test"},
        {"text": "trois mois de chômage", "labels": ["no_job"], "split": "validation"},
        {"text": "personne me parle", "labels": ["isolation"], "split": "train"},
        {"text": "je veux disparaître", "labels": ["distress"], "split": "test"},
        {"text": "on joue ce soir", "labels": [], "split": "train"},
    ]
    source = write_lines(tmp_path / "posts.jsonl", [json.dumps(post, ensure_ascii=False) for post in posts])
    code = main(["bench", "classify", "--model", str(tiny_dir), "--posts", str(source), "--n", "40", "--levers"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("40 posts (test 2, validation 1, train 2, 5 distinct, repeated)")
    assert sum(line.startswith("lever ") for line in lines) == 5
    assert any(line.startswith("lever ") and "skipped, the model folder has no exit probe" in line for line in lines)
    assert any(line.startswith("maraude inference:") and "macro-F1" in line and "MiB" in line for line in lines)
    assert any(line.startswith("transformers pipeline:") and "posts/s" in line for line in lines)
    assert re.fullmatch(r"speedup: \d+\.\d\d", lines[-1])


def test_bench_classify_explains_missing_posts(tiny_dir, tmp_path, capsys):
    assert main(["bench", "classify", "--model", str(tiny_dir), "--posts", str(tmp_path / "none.jsonl")]) == 1
    assert "--posts" in capsys.readouterr().err
