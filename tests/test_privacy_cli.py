"""`maraude redact` and `maraude bench redact` from the command line."""

from __future__ import annotations

import json

from privacy_fixtures import redactor  # noqa: F401 - loads the models once for this module

from maraude.cli import main


def test_redact_command_writes_id_and_text_as_stored(tmp_path, redactor):
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": 1, "text": "je m'appelle Chloé Moreau, 06 39 98 12 34, j'ai quitté le lycée"}) + "\n"
        + json.dumps({"id": "b", "text": "seul à Lille", "extra": True}) + "\n",
        encoding="utf-8",
    )
    assert main(["redact", str(source), "-o", str(tmp_path / "out.jsonl")]) == 0
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"id": 1, "text": "je m'appelle <PERSONNE>, <TEL>, j'ai quitté le lycée"},
        {"id": "b", "text": "seul à Lille"},
    ]


def test_redact_command_names_the_bad_line_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "text": "ok"}\n{"id": 2, "text": "appelle le 06 39 98 12 34"\n', encoding="utf-8")
    assert main(["redact", str(source), "-o", str(tmp_path / "out.jsonl")]) != 0
    error = capsys.readouterr().err
    assert "line 2" in error and "06 39" not in error
    assert list(tmp_path.iterdir()) == [source]


def test_redact_command_rejects_a_line_without_text(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1}\n', encoding="utf-8")
    assert main(["redact", str(source), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert "line 1" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()


def test_bench_redact_prints_throughput_and_peak_memory(redactor, capsys):
    assert main(["bench", "redact", "--posts", "40"]) == 0
    out = capsys.readouterr().out
    assert "posts/s:" in out and "peak memory (RSS):" in out
