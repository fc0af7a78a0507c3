"""Fixtures of the extractors tests: a small fictional corpus per platform, recorded payload paths, clients.

Every handle and name here is invented; texts are written for the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

from extractors.http import FakeClock, HttpClient, RetryPolicy
from extractors.replay.corpus import DemoPost
from extractors.sources import SourceConfig

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
REALDATA_API = SHARED / "realdata" / "api"

FRENCH = [
    "J'ai arrêté le lycée en octobre et depuis je reste chez moi toute la journée sans rien faire.",
    "Franchement je sais plus quoi faire, personne me répond pour les offres de travail.",
    "Trop contente, j'ai trouvé une formation en alternance qui commence en janvier !",
    "Quelqu'un connaît une mission locale qui aide pour le permis de conduire ?",
    "Mes parents comprennent pas que l'école c'est plus pour moi, ça crie tous les soirs à la maison.",
    "Ce soir on se retrouve au parc avec les potes, venez nombreux, il fait beau.",
]
ENGLISH = [
    "I have never stolen a ham in my life, and I never will.",
    "Does anyone know a good tutorial for learning the guitar at home?",
    "The weather in the city has been terrible all week long.",
]


def make_post(
    number: int, platform: str, channel: str, *, lang: str = "fr", days_ago: float | None = None, **extra
) -> DemoPost:
    texts = FRENCH if lang == "fr" else ENGLISH
    return DemoPost(
        id=f"t-{platform[:2]}-{number:04d}",
        platform=platform,
        channel=channel,
        author=f"pseudo_fictif_{number % 7}",
        display_name=f"Prénom Inventé {number % 7}",
        days_ago=days_ago if days_ago is not None else 0.01 * number + 0.05,
        lang=lang,
        text=f"{texts[number % len(texts)]} (message {number})",
        **extra,
    )


def mastodon_corpus(french: int = 70, english: int = 20) -> list[DemoPost]:
    """A hashtag timeline over several 40-status pages, French and English mixed."""
    posts = [make_post(i, "mastodon", "tag:galere") for i in range(french)]
    posts += [make_post(1000 + i, "mastodon", "tag:galere", lang="en") for i in range(english)]
    return posts


def write_corpus(posts: list[DemoPost], path: Path) -> Path:
    lines = []
    for post in posts:
        raw = {k: v for k, v in post.__dict__.items() if v not in (None, False)}
        lines.append(json.dumps(raw, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def source(platform: str, base_url: str, **params) -> SourceConfig:
    return SourceConfig(
        name=f"test_{platform}", platform=platform, base_url=base_url, params=params, max_requests_per_minute=100_000
    )


def fake_http(name: str = "test", *, timeout_s: float = 2.0, attempts: int = 5) -> tuple[HttpClient, FakeClock]:
    """A client that never waits for real (its clock records the waits), with a short timeout."""
    clock = FakeClock()
    client = HttpClient(
        name, max_requests_per_minute=100_000, clock=clock, retry=RetryPolicy(timeout_s=timeout_s, attempts=attempts)
    )
    return client, clock
