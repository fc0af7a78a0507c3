"""Evaluation figures against sklearn on a small synthetic set, baselines, realdata rates and stored rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from maraude import LABELS
from models.baselines import KeywordBaseline, TfidfLogRegBaseline
from models.evaluate import (
    compute_metrics,
    flag_rates,
    load_realdata_ordinary,
    metric_rows,
    realdata_rows,
    reliability,
    sliced_metrics,
    store_metrics,
    wilson_interval,
)
from models.train import labels_matrix
from tests.models_train_fixtures import make_records

THRESHOLDS = {"no_school": 0.5, "no_job": 0.3, "isolation": 0.6, "distress": 0.2}


@pytest.fixture
def synthetic():
    rng = np.random.default_rng(7)
    y = (rng.random((300, 4)) < [0.3, 0.25, 0.2, 0.15]).astype(int)
    probs = np.clip(0.45 * y + 0.6 * rng.random((300, 4)), 0, 1)
    return y, probs


def test_per_label_and_macro_figures_match_sklearn(synthetic):
    y, probs = synthetic
    figures = compute_metrics(y, probs, THRESHOLDS, n_boot=0)
    predicted = (probs >= np.array([THRESHOLDS[l] for l in LABELS])).astype(int)
    for j, label in enumerate(LABELS):
        entry = figures["labels"][label]
        assert entry["precision"] == pytest.approx(precision_score(y[:, j], predicted[:, j]))
        assert entry["recall"] == pytest.approx(recall_score(y[:, j], predicted[:, j]))
        assert entry["f1"] == pytest.approx(f1_score(y[:, j], predicted[:, j]))
        assert entry["pr_auc"] == pytest.approx(average_precision_score(y[:, j], probs[:, j]))
        assert entry["support"] == y[:, j].sum()
    assert figures["macro"]["f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert "ci" not in figures["macro"]


def test_undefined_precision_counts_as_zero_like_sklearn():
    y = np.array([[1, 0, 0, 0], [0, 0, 0, 0]])
    probs = np.zeros((2, 4))
    figures = compute_metrics(y, probs, THRESHOLDS, n_boot=0)
    assert figures["labels"]["no_school"]["precision"] == 0.0
    assert figures["labels"]["no_job"]["recall"] == 0.0
    assert figures["labels"]["no_job"]["pr_auc"] is None  # a label without positives has no PR curve


def test_bootstrap_intervals_surround_the_point_estimate_and_are_seeded(synthetic):
    y, probs = synthetic
    first = compute_metrics(y, probs, THRESHOLDS, n_boot=300, seed=3)
    again = compute_metrics(y, probs, THRESHOLDS, n_boot=300, seed=3)
    assert first["macro"]["ci"] == again["macro"]["ci"]
    low, high = first["macro"]["ci"]["f1"]
    assert low < first["macro"]["f1"] < high
    assert high - low < 0.2
    for label in LABELS:
        entry = first["labels"][label]
        for metric in ("precision", "recall", "f1"):
            assert entry["ci"][metric][0] <= entry[metric] <= entry["ci"][metric][1]


def test_reliability_and_ece_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    scores = np.array([0.05, 0.15, 0.15, 0.95, 0.85])
    ece, bins = reliability(y, scores)
    # bin 0: score 0.05, positive share 0; bin 1: mean 0.15, share 0.5; bin 8: 0.85 vs 1; bin 9: 0.95 vs 1.
    expected = (1 * 0.05 + 2 * abs(0.15 - 0.5) + 1 * 0.15 + 1 * 0.05) / 5
    assert ece == pytest.approx(expected)
    assert [b["n"] for b in bins] == [1, 2, 0, 0, 0, 0, 0, 0, 1, 1]
    assert bins[1]["positive_share"] == pytest.approx(0.5)


def test_confusions_count_wrong_flags_not_co_occurring_labels():
    y = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [1, 1, 0, 0]])
    probs = np.array([[0.9, 0.9, 0, 0], [0.9, 0, 0, 0], [0, 0, 0.9, 0.9], [0, 0, 0, 0.9], [0.9, 0.9, 0, 0]])
    confusions = compute_metrics(y, probs, THRESHOLDS, n_boot=0)["confusions"]
    assert confusions["no_school"]["n"] == 3
    # The last post is no_school AND no_job: flagging no_job there is right, so it is not counted.
    assert confusions["no_school"]["flagged_as:no_job"] == pytest.approx(0.5)
    assert confusions["no_school"]["flagged_as:no_school"] == pytest.approx(1.0)  # diagonal: recall
    assert confusions["distress"]["flagged_as:isolation"] == pytest.approx(1.0)
    assert confusions["none"]["flagged_as:distress"] == pytest.approx(1.0)
    assert confusions["none"]["flagged_as:nothing"] == pytest.approx(0.0)
    assert confusions["isolation"]["n"] == 0 and confusions["isolation"]["flagged_as:isolation"] is None


def test_slices_cover_each_style_with_enough_posts(synthetic):
    y, probs = synthetic
    records = [{"style": "reddit" if i % 3 else "sms", "variety": "fr_FR" if i < 295 else "dom"} for i in range(300)]
    slices = sliced_metrics(y, probs, THRESHOLDS, records, n_boot=50)
    assert set(slices) == {"style=reddit", "style=sms", "variety=fr_FR"}  # 5 DOM posts: below the minimum
    mask = np.array([r["style"] == "sms" for r in records])
    assert slices["style=sms"]["macro"]["f1"] == pytest.approx(compute_metrics(y[mask], probs[mask], THRESHOLDS, n_boot=0)["macro"]["f1"])


def test_flag_rates_per_source_with_wilson_interval():
    probs = np.array([[0.9, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0.5], [0, 0, 0, 0]])
    rates = flag_rates(probs, THRESHOLDS, ["a", "a", "b", "b"])
    assert rates["all"]["any"]["rate"] == pytest.approx(0.5)
    assert rates["source=a"]["no_school"]["flagged"] == 1
    assert rates["source=b"]["distress"]["rate"] == pytest.approx(0.5)
    low, high = wilson_interval(0, 100)
    assert low == 0.0 and 0.03 < high < 0.05


def test_realdata_keeps_only_ordinary_posts(shared_dir):
    posts = load_realdata_ordinary(shared_dir / "realdata" / "text")
    sources = {post["source"] for post in posts}
    assert sources == {"mlma", "toxifrench"}
    assert sum(post["source"] == "mlma" for post in posts) == 821  # rows labelled only "normal" (SOURCES.md)
    assert sum(post["source"] == "toxifrench" for post in posts) == 694  # non-toxic rows


def test_realdata_absent_gives_no_posts(tmp_path):
    assert load_realdata_ordinary(tmp_path) == []


def test_keyword_baseline_follows_its_rules():
    keywords = KeywordBaseline()
    probs = keywords.predict_proba(["Je suis DÉSCOLARISÉE depuis mars", "inscrit à france travail", "bon match hier"])
    assert probs.shape == (3, 4)
    assert probs[0].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert probs[1].tolist() == [0.0, 1.0, 0.0, 0.0]
    assert probs[2].sum() == 0.0


def test_tfidf_baseline_learns_the_train_split():
    records = make_records(count_per_kind=12)
    train = [r for r in records if r["split"] == "train"]
    test = [r for r in records if r["split"] != "train"]
    model = TfidfLogRegBaseline().fit([r["text"] for r in train], labels_matrix(train))
    figures = compute_metrics(labels_matrix(test), model.predict_proba([r["text"] for r in test]), model.thresholds, n_boot=0)
    assert figures["macro"]["f1"] > 0.9


def test_metric_rows_are_stored_and_replaced_per_model(synthetic, warehouse_path):
    from maraude.warehouse import connect

    y, probs = synthetic
    figures = compute_metrics(y, probs, THRESHOLDS, n_boot=50)
    rows = metric_rows("v1", "model", "test", "all", figures) + realdata_rows("v1", "model", flag_rates(probs, THRESHOLDS, ["a"] * 300))
    store_metrics(warehouse_path, rows, "v1")
    store_metrics(warehouse_path, rows, "v1")  # re-evaluating the same model replaces, never duplicates
    with connect(warehouse_path) as con:
        count = con.execute("SELECT count(*) FROM model_metrics WHERE model_version = 'v1'").fetchone()[0]
        macro = con.execute(
            "SELECT value, ci_low, ci_high, n FROM model_metrics WHERE label = 'macro' AND metric = 'f1' AND split = 'test'"
        ).fetchone()
        curve = con.execute("SELECT count(*) FROM model_metrics WHERE metric LIKE 'pr_precision@%' AND label = 'distress'").fetchone()[0]
        any_rate = con.execute("SELECT value FROM model_metrics WHERE split = 'realdata' AND slice = 'all' AND label = 'any'").fetchone()[0]
    assert count == len(rows)
    assert macro[0] == pytest.approx(figures["macro"]["f1"]) and macro[1] < macro[0] < macro[2] and macro[3] == 300
    assert curve == 49
    assert any_rate == pytest.approx((probs >= np.array([THRESHOLDS[l] for l in LABELS])).any(axis=1).mean())
