"""The evaluators' audit notebook executes end to end on a small warehouse (so it cannot rot)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from maraude import LABELS

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "model_audit.ipynb"


@pytest.fixture
def audit_warehouse(warehouse_path):
    """A warehouse with one champion, its metrics beside two baselines (test, slices, realdata) and three weeks of predictions."""
    from maraude.warehouse import connect
    from models.evaluate import compute_metrics, flag_rates, metric_rows, realdata_rows, sliced_metrics, store_metrics

    rng = np.random.default_rng(1)
    y = (rng.random((120, 4)) < 0.3).astype(int)
    thresholds = dict.fromkeys(LABELS, 0.5)
    records = [{"style": ["reddit", "sms"][i % 2], "variety": "fr_FR"} for i in range(120)]
    rows = []
    for system, noise in (("model", 0.5), ("keywords", 0.9), ("tfidf_logreg", 0.7)):
        probs = np.clip(y * (1 - noise) + rng.random((120, 4)) * noise, 0, 1)
        rows += metric_rows("v-audit", system, "test", "all", compute_metrics(y, probs, thresholds, n_boot=50))
        for name, figures in sliced_metrics(y, probs, thresholds, records, n_boot=50).items():
            rows += metric_rows("v-audit", system, "test", name, figures)
        rows += realdata_rows("v-audit", system, flag_rates(probs[:60] * 0.3, thresholds, ["mlma"] * 60))
    store_metrics(warehouse_path, rows, "v-audit")
    start = datetime(2026, 1, 5, tzinfo=timezone.utc)
    with connect(warehouse_path) as con:
        con.execute(
            "INSERT INTO models VALUES ('v-audit', ?, 'tiny', 'h', ?, ?, 'champion', '/nowhere', 12.5, '{}')",
            [start, list(LABELS), json.dumps(thresholds)],
        )
        for i in range(30):
            scores = rng.random(4).round(3).tolist()
            con.execute(
                "INSERT INTO predictions VALUES (?, 'v-audit', ?, ?, ?, ?, ?, NULL, ?)",
                [f"post-{i}", *scores, [l for l, s in zip(LABELS, scores) if s >= 0.5], start + timedelta(days=i / 2)],
            )
    return warehouse_path


def test_audit_notebook_executes_on_a_small_warehouse(audit_warehouse, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # A kernel spec for this interpreter (the venv's), found first through JUPYTER_PATH: nothing is installed globally.
    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(
        json.dumps({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("MARAUDE_WAREHOUSE", str(audit_warehouse))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend renders the figures
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]
    text = json.dumps(outputs)
    assert "v-audit" in text
    assert text.count("image/png") >= 5  # PR curves, calibration, confusions, slices, drift
    assert "tfidf_logreg" in text and "style=sms" in text
