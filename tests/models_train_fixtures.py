"""Small fictional posts and helpers shared by the training and evaluation tests (no real person, no download)."""

from __future__ import annotations

import json
from pathlib import Path

# A few posts per label, written for the tests; words are in models.tiny's vocabulary so the tiny
# tokenizer maps them to real ids.
HANDFUL = [
    {"text": "je suis viré du lycée depuis trois mois", "labels": ["no_school"]},
    {"text": "chômage depuis un an , rien", "labels": ["no_job"]},
    {"text": "je suis seul tous les jours , personne", "labels": ["isolation"]},
    {"text": "envie de mourir , plus de sens", "labels": ["distress"]},
    {"text": "bon match ce soir avec les potes", "labels": []},
    {"text": "merci pour le truc , bonne soirée", "labels": []},
    {"text": "seule et chômeuse depuis des mois", "labels": ["no_job", "isolation"]},
    {"text": "salut ça va , vacances demain", "labels": []},
]


def make_records(count_per_kind: int = 12, seed: int = 0) -> list[dict]:
    """Corpus-shaped records built from :data:`HANDFUL` with varied fillers, ids and styles; splits by id hash."""
    import random

    from models.corpus.build import with_splits

    rng = random.Random(seed)
    fillers = ["genre", "bref", "mdr", "tkt", "ce matin", "ce soir", "jsp", "grave", "vraiment", "en vrai"]
    styles = ["twitter", "reddit", "discord"]
    varieties = ["fr_FR", "quebec"]
    records = []
    for k in range(count_per_kind):
        for j, post in enumerate(HANDFUL):
            records.append(
                {
                    "id": f"t-{k:03d}-{j}",
                    "text": f"{rng.choice(fillers)} {post['text']} {rng.choice(fillers)} {k}",
                    "labels": list(post["labels"]),
                    "style": styles[(k + j) % len(styles)],
                    "variety": varieties[k % len(varieties)],
                    "hard": False,
                    "note": "",
                    "part": "t",
                }
            )
    return with_splits(records)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    """Write ``rows`` as JSON lines (UTF-8) and return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def learnable_tiny_base(out_dir: Path) -> Path:
    """The tiny random model of models.tiny with dropout off, so a handful of posts is memorised in a few dozen steps."""
    from models.tiny import make_tiny_model_dir

    base = make_tiny_model_dir(out_dir)
    config_path = base / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["hidden_dropout_prob"] = 0.0
    config["attention_probs_dropout_prob"] = 0.0
    config_path.write_text(json.dumps(config), encoding="utf-8")
    return base
