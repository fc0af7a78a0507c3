"""
### maraude_train — corpus + reviewed feedback → challenger → evaluation → promotion if not worse

Manual by default (trigger it from the UI or `airflow dags trigger maraude_train`); set the
environment variable `MARAUDE_TRAIN_SCHEDULE` (e.g. `@weekly`) where the scheduler runs to make it
periodic. Training takes about 28 minutes on 2 CPU cores.

1. **build_corpus** — merges the hand-written parts (`models/corpus/parts`) and adds reviewed
   feedback: posts of cases whose latest review set `labels_confirmed`, labelled with the flagged
   labels the reviewer confirmed (see `models/corpus/feedback.py`). Feedback joins the train split
   only. The training file is written under `var/training/<run>/` (redacted text only).
2. **train_challenger** — fine-tunes the converted base model (`models/train.py`), thresholds on validation.
3. **evaluate_challenger** — test split, slices, baselines and false alarms on real ordinary posts;
   `metrics.json`, `MODEL_CARD.md`, `model_metrics`; registers the model as `challenger`.
4. **promote_if_better** — the gate of `models/registry.py` (macro-F1 not lower, distress recall not
   lower than the champion's minus 0.01, on the same test split); audited either way; refreshes the read copy.

XCom carries versions, paths and figures only, never posts.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import dag, get_current_context, task

from maraude.dag_support import DEFAULT_ARGS, run_time, runtime_warehouse


@dag(
    dag_id="maraude_train",
    schedule=os.environ.get("MARAUDE_TRAIN_SCHEDULE") or None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params={"base": None, "epochs": None},
    tags=["maraude", "models"],
    doc_md=__doc__,
)
def maraude_train():
    @task
    def build_corpus() -> dict:
        """Hand-written parts + reviewed feedback → `var/training/<run>/corpus.jsonl`; returns its path, hash and counts."""
        from maraude.settings import get_settings
        from models.corpus.build import PARTS_DIR, corpus_hash, deduplicate, read_parts, with_splits
        from models.corpus.feedback import collect_feedback, write_training_corpus

        settings = get_settings()
        handwritten = with_splits(deduplicate(read_parts(PARTS_DIR)).records)
        feedback = collect_feedback(runtime_warehouse())
        stamp = run_time(get_current_context()).strftime("%Y%m%dT%H%M%S")
        path = write_training_corpus(handwritten, feedback, settings.home / "training" / stamp / "corpus.jsonl")
        return {
            "corpus_path": str(path),
            "corpus_hash": corpus_hash([*handwritten, *feedback]),
            "n_handwritten": len(handwritten),
            "n_feedback": len(feedback),
        }

    @task(execution_timeout=timedelta(hours=1))
    def train_challenger(corpus: dict) -> dict:
        """Fine-tune a challenger on the training file; returns its version and folder."""
        from maraude.settings import get_settings
        from models.corpus.build import load_corpus
        from models.train import TrainConfig, copy_config, train_from_corpus

        params = get_current_context()["params"]
        result = train_from_corpus(
            load_corpus(corpus["corpus_path"]),
            settings=get_settings(),
            base=params.get("base"),
            config=copy_config(TrainConfig(), epochs=params.get("epochs")),
            progress=False,
        )
        return {"version": result.version, "model_dir": str(result.model_dir), "train_seconds": result.train_seconds}

    @task
    def evaluate_challenger(trained: dict, corpus: dict) -> dict:
        """Evaluate against the baselines, store the metrics and register the challenger; returns its gate figures."""
        from models.corpus.build import load_corpus
        from models.evaluate import evaluate_model_dir, gate_figures
        from models.registry import register

        warehouse_path = runtime_warehouse()
        report = evaluate_model_dir(trained["model_dir"], load_corpus(corpus["corpus_path"]), warehouse_path=warehouse_path)
        register(trained["model_dir"], warehouse_path=warehouse_path)
        return {"version": trained["version"], **gate_figures(report)}

    @task
    def promote_if_better(evaluated: dict, corpus: dict) -> dict:
        """Apply the promotion gate (audited); refresh the read copy; returns the decision."""
        from maraude import warehouse
        from maraude.settings import get_settings
        from models.corpus.build import load_corpus
        from models.registry import decision_dict, promote_if_better as gate_and_promote

        warehouse_path = runtime_warehouse()
        decision = gate_and_promote(
            evaluated["version"],
            settings=get_settings(),
            warehouse_path=warehouse_path,
            records=load_corpus(corpus["corpus_path"]),
        )
        warehouse.publish_read_copy(warehouse_path)
        return {"version": evaluated["version"], **decision_dict(decision)}

    corpus = build_corpus()
    trained = train_challenger(corpus)
    evaluated = evaluate_challenger(trained, corpus)
    promote_if_better(evaluated, corpus)


maraude_train_dag = maraude_train()
