"""`maraude evaluate` on a model folder: figures printed, files written, rows stored."""

from __future__ import annotations

from maraude.cli import main
from tests.models_train_fixtures import make_records, write_jsonl


def test_evaluate_command_writes_metrics_card_and_rows(tmp_path, warehouse_path, monkeypatch, capsys):
    from maraude.warehouse import connect
    from models.tiny import make_tiny_model_dir

    monkeypatch.setenv("MARAUDE_REALDATA", str(tmp_path / "no-realdata"))
    model = make_tiny_model_dir(tmp_path / "model", version="tiny-eval")
    corpus = write_jsonl(tmp_path / "corpus.jsonl", make_records(6))
    code = main(["evaluate", "--model", str(model), "--warehouse", str(warehouse_path), "--corpus", str(corpus)])
    out = capsys.readouterr().out
    assert code == 0
    assert "evaluated tiny-eval" in out and "tfidf_logreg: macro-F1" in out
    card = (model / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Intended use and users" in card and "| keywords | **macro** |" in card
    with connect(warehouse_path) as con:
        splits = {row[0] for row in con.execute("SELECT DISTINCT split FROM model_metrics WHERE model_version = 'tiny-eval'").fetchall()}
    assert splits == {"test", "validation"}


def test_evaluate_without_champion_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MARAUDE_HOME", str(tmp_path / "empty-home"))
    assert main(["evaluate"]) == 1
    assert "maraude train" in capsys.readouterr().err
