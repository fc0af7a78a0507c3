"""Reviewed feedback from outreach workers, turned into training posts for the next model.

How feedback enters training (used by the ``maraude_train`` DAG):

- a case counts when its **latest** review has ``labels_confirmed`` set (an empty list is an
  answer too: "none of these labels");
- its posts that the model flagged and that still have their redacted text become training posts:
  their labels are the flagged labels the reviewer confirmed (``flagged ∩ labels_confirmed``). A
  flag the reviewer did not confirm becomes a negative, which is exactly the hard negative the
  model needs; labels that were not flagged on a post are taken as absent (the reviewer judged
  the case on its flagged posts);
- feedback posts only ever join the **train** split, so the hand-written validation and test
  splits stay comparable from one model to the next (and the gate compares like with like).

The text is the warehouse's redacted text: no identity reaches the training file. The training
corpus with feedback is written under ``var/`` (never committed), not into ``models/corpus``.
"""

from __future__ import annotations

import json
from pathlib import Path

from maraude import LABELS

FEEDBACK_QUERY = """
WITH latest_review AS (
    SELECT case_id, labels_confirmed,
           row_number() OVER (PARTITION BY case_id ORDER BY reviewed_at DESC, review_id DESC) AS recency
    FROM reviews
),
confirmed AS (
    SELECT case_id, labels_confirmed FROM latest_review WHERE recency = 1 AND labels_confirmed IS NOT NULL
),
latest_prediction AS (
    SELECT post_uid, flagged_labels,
           row_number() OVER (PARTITION BY post_uid ORDER BY scored_at DESC, model_version DESC) AS recency
    FROM predictions
)
SELECT p.post_uid, p.platform, p.text_redacted, lp.flagged_labels, c.labels_confirmed
FROM confirmed AS c
JOIN cases AS k ON k.case_id = c.case_id
JOIN posts AS p ON p.author_pseudo = k.author_pseudo
JOIN latest_prediction AS lp ON lp.post_uid = p.post_uid AND lp.recency = 1
WHERE p.text_redacted IS NOT NULL AND len(lp.flagged_labels) > 0
ORDER BY p.post_uid
"""


def collect_feedback(warehouse_path: str | Path | None = None) -> list[dict]:
    """Training posts (train split) from reviewed cases; see the module docstring for the rule."""
    from maraude.warehouse import connect, migrate

    migrate(warehouse_path)
    with connect(warehouse_path) as con:
        rows = con.execute(FEEDBACK_QUERY).fetchall()
    records = []
    for post_uid, platform, text, flagged, confirmed in rows:
        labels = [label for label in LABELS if label in flagged and label in confirmed]
        records.append(
            {
                "id": f"fb-{post_uid}",
                "text": text,
                "labels": labels,
                "style": f"feedback:{platform}",
                "variety": "unknown",
                "hard": not labels,
                "note": "outreach review: " + ("confirmed " + ", ".join(labels) if labels else "no flagged label confirmed"),
                "part": "feedback",
                "split": "train",
            }
        )
    return records


def write_training_corpus(records: list[dict], feedback: list[dict], out_path: str | Path) -> Path:
    """The hand-written corpus plus feedback posts, one JSON object per line, at ``out_path``."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with out_path.open("w", encoding="utf-8") as out:
        for record in [*records, *feedback]:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out_path
