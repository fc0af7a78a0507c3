"""Registry: rows in `models`, the promotion gate, audited promotions, CHAMPION, ensure_champion."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maraude.settings import get_settings
from models.evaluate import compute_metrics
from models.registry import (
    DISTRESS_RECALL_TOLERANCE,
    champion_version,
    ensure_champion,
    gate,
    promote,
    promote_if_better,
    read_champion_file,
    register,
    train_evaluate_register,
)
from tests.models_train_fixtures import learnable_tiny_base, make_records, write_jsonl


def _figures(macro_f1: float, distress_recall: float) -> dict:
    return {"macro_f1": macro_f1, "distress_recall": distress_recall}


def test_first_model_is_promoted():
    assert gate(_figures(0.5, 0.5), None).promote


def test_challenger_not_worse_on_both_gate_metrics_is_promoted():
    assert gate(_figures(0.82, 0.93), _figures(0.82, 0.93)).promote
    assert gate(_figures(0.85, 0.93 - DISTRESS_RECALL_TOLERANCE / 2), _figures(0.82, 0.93)).promote


def test_lower_macro_f1_is_rejected_even_with_better_distress_recall():
    decision = gate(_figures(0.819, 0.99), _figures(0.82, 0.93))
    assert not decision.promote
    assert "macro-F1" in decision.reason


def test_distress_recall_drop_beyond_tolerance_is_rejected():
    decision = gate(_figures(0.90, 0.93 - DISTRESS_RECALL_TOLERANCE - 0.001), _figures(0.82, 0.93))
    assert not decision.promote
    assert "distress recall" in decision.reason


def _model_folder(settings, version: str, *, macro_f1: float, distress_recall: float, corpus_hash: str = "h1"):
    """A registered-looking model folder: tiny weights, maraude.json and a metrics.json with the gate figures."""
    from models.tiny import make_tiny_model_dir

    folder = make_tiny_model_dir(settings.models_dir / version, version=version)
    info = json.loads((folder / "maraude.json").read_text())
    info["corpus_hash"] = corpus_hash
    (folder / "maraude.json").write_text(json.dumps(info))
    rng = np.random.default_rng(0)
    figures = compute_metrics((rng.random((40, 4)) < 0.3).astype(int), rng.random((40, 4)), info["thresholds"], n_boot=0)
    figures["macro"]["f1"] = macro_f1
    figures["labels"]["distress"]["recall"] = distress_recall
    report = {"corpus_hash": corpus_hash, "systems": {"model": {"test": figures, "test_slices": {}}}}
    (folder / "metrics.json").write_text(json.dumps(report))
    return folder


@pytest.fixture
def settings(tmp_path):
    settings = get_settings(tmp_path / "home")
    settings.ensure_dirs()
    return settings


def test_promotion_retires_the_old_champion_audits_and_writes_champion_file(settings, warehouse_path):
    from maraude.warehouse import connect

    register(_model_folder(settings, "m1", macro_f1=0.80, distress_recall=0.92), warehouse_path=warehouse_path)
    assert promote_if_better("m1", settings=settings, warehouse_path=warehouse_path).promote
    register(_model_folder(settings, "m2", macro_f1=0.83, distress_recall=0.92), warehouse_path=warehouse_path)
    decision = promote_if_better("m2", settings=settings, warehouse_path=warehouse_path)
    assert decision.promote and decision.champion_version == "m1"
    assert champion_version(warehouse_path) == "m2"
    assert read_champion_file(settings) == "m2"
    with connect(warehouse_path) as con:
        statuses = dict(con.execute("SELECT model_version, status FROM models").fetchall())
        audits = con.execute("SELECT action, target, details FROM audit_log ORDER BY audit_id").fetchall()
    assert statuses == {"m1": "retired", "m2": "champion"}
    assert [(action, target) for action, target, _ in audits] == [("model_promoted", "m1"), ("model_promoted", "m2")]
    assert json.loads(audits[1][2])["previous_champion"] == ["m1"]


def test_worse_challenger_stays_challenger_and_the_refusal_is_audited(settings, warehouse_path):
    from maraude.warehouse import connect

    register(_model_folder(settings, "m1", macro_f1=0.85, distress_recall=0.95), warehouse_path=warehouse_path)
    promote_if_better("m1", settings=settings, warehouse_path=warehouse_path)
    register(_model_folder(settings, "m2", macro_f1=0.84, distress_recall=0.99), warehouse_path=warehouse_path)
    decision = promote_if_better("m2", settings=settings, warehouse_path=warehouse_path)
    assert not decision.promote
    assert read_champion_file(settings) == "m1"
    with connect(warehouse_path) as con:
        status = con.execute("SELECT status FROM models WHERE model_version = 'm2'").fetchone()[0]
        refusal = con.execute("SELECT reason FROM audit_log WHERE action = 'model_not_promoted' AND target = 'm2'").fetchone()
    assert status == "challenger"
    assert "macro-F1" in refusal[0]


def test_champion_from_another_corpus_is_rescored_on_the_challengers_test_split(settings, warehouse_path):
    register(_model_folder(settings, "m1", macro_f1=0.99, distress_recall=0.99, corpus_hash="old"), warehouse_path=warehouse_path)
    promote("m1", settings=settings, warehouse_path=warehouse_path, reason="test setup")
    register(_model_folder(settings, "m2", macro_f1=0.60, distress_recall=1.0, corpus_hash="new"), warehouse_path=warehouse_path)
    with pytest.raises(ValueError, match="re-scored"):
        promote_if_better("m2", settings=settings, warehouse_path=warehouse_path)
    decision = promote_if_better("m2", settings=settings, warehouse_path=warehouse_path, records=make_records(10))
    # The random tiny champion scores far below its stored 0.99 once re-scored on the same posts.
    assert decision.champion["macro_f1"] < 0.9
    assert decision.promote


def test_ensure_champion_registers_an_existing_champion_folder_in_a_fresh_warehouse(settings, tmp_path):
    from maraude.warehouse import connect

    _model_folder(settings, "m1", macro_f1=0.8, distress_recall=0.9)
    (settings.models_dir / "CHAMPION").write_text("m1\n")
    fresh = tmp_path / "fresh.duckdb"
    assert ensure_champion(settings, fresh, progress=False) == "m1"
    with connect(fresh) as con:
        assert con.execute("SELECT status FROM models WHERE model_version = 'm1'").fetchone()[0] == "champion"
        stored = con.execute("SELECT value FROM model_metrics WHERE model_version = 'm1' AND label = 'macro' AND metric = 'f1'").fetchone()
    assert stored[0] == pytest.approx(0.8)


def test_train_evaluate_register_promotes_the_first_model(settings, warehouse_path, tmp_path, monkeypatch):
    from maraude.warehouse import connect
    from models.inference import load_champion

    monkeypatch.setenv("MARAUDE_BASE_MODEL", str(learnable_tiny_base(tmp_path / "tiny-base")))
    monkeypatch.setenv("MARAUDE_REALDATA", str(tmp_path / "no-realdata"))
    corpus = write_jsonl(tmp_path / "corpus.jsonl", make_records(6))
    version, decision = train_evaluate_register(settings=settings, warehouse_path=warehouse_path, corpus_path=corpus, epochs=1, progress=False)
    assert decision.promote
    folder = settings.models_dir / version
    assert {"maraude.json", "metrics.json", "MODEL_CARD.md", "config.json"} <= {p.name for p in folder.iterdir()}
    assert load_champion(settings).version == version
    with connect(warehouse_path) as con:
        systems = {row[0] for row in con.execute("SELECT DISTINCT system FROM model_metrics WHERE model_version = ?", [version]).fetchall()}
        train_seconds = con.execute("SELECT train_seconds FROM models WHERE model_version = ?", [version]).fetchone()[0]
    assert systems == {"model", "keywords", "tfidf_logreg"}
    assert train_seconds > 0
