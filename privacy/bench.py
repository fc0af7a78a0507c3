"""``maraude bench redact``: redaction throughput on posts shaped like the ones Maraude collects.

The synthetic posts mix chat-style lowercase and capitalised writing, and a third of them carry
fictional contact details (phone numbers from the ranges ARCEP reserves for fiction, example.org
addresses, invented names), so every recogniser does real work.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from collections.abc import Sequence

_OPENINGS = [
    "jsuis au bout", "Franchement je sais plus quoi faire", "ça fait 3 mois que j'ai plus de taf",
    "j'ai arrêté le lycée en novembre", "Personne me répond, ni la Mission Locale ni France Travail",
    "je reste seul dans ma chambre toute la journée", "Mon CFA m'a lâché et j'ai pas de patron",
    "wsh vous faites quoi ce soir", "Quelqu'un connaît un bon plan pour un stage à Lille ?",
    "trop contente j'ai eu mon code", "J'habite dans le 93 et y a rien pour les jeunes ici",
    "Le match hier soir était incroyable", "jpp de cette pluie", "Qui vient au concert samedi à Nantes ?",
    "j'ai 17 ans et je vais plus en cours depuis la rentrée", "Parfois j'ai envie de tout arrêter",
]
_DETAILS = [
    "écrivez-moi à {first}.{last}@example.org", "mon 06 39 98 {a} {b}", "appelle au +33 6 39 98 {a} {b}",
    "mon insta c'est @{first}_{a}", "je suis {first} {last}", "demande à {First} {Last} du quartier",
    "passe au {a} rue des Lilas à Roubaix", "mon snap : {first}{b}", "cf. https://example.org/u/{first}{a}",
    "{FIRST} {LAST} m'a dit d'appeler le 3114", "signé {first}", "moi c'est {First}, j'ai 19 ans",
]
_FIRST = ["lucas", "chloé", "yanis", "inès", "kevin", "aminata", "théo", "jade", "mehdi", "léa"]
_LAST = ["moreau", "diallo", "lefebvre", "benali", "girard", "nguyen", "fontaine", "traoré"]
_ENDINGS = ["", " mdr", " !", " ...", " help", " svp aidez moi", " bref", " 😞", " #galère"]


def synthetic_posts(n_posts: int, *, seed: int = 0) -> list[str]:
    """``n_posts`` deterministic posts for benchmarks (fictional values only)."""
    rng = random.Random(seed)
    posts = []
    for _ in range(n_posts):
        text = rng.choice(_OPENINGS)
        if rng.random() < 0.35:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            detail = rng.choice(_DETAILS).format(
                first=first, last=last, First=first.title(), Last=last.title(), FIRST=first.upper(),
                LAST=last.upper(), a=f"{rng.randrange(100):02d}", b=f"{rng.randrange(100):02d}",
            )
            text = f"{text}, {detail}"
        if rng.random() < 0.3:
            text = f"{text}. {rng.choice(_OPENINGS)}"
        posts.append(text + rng.choice(_ENDINGS))
    return posts


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench_redact(texts: Sequence[str] | None = None, *, n_posts: int = 2000) -> list[str]:
    """Time model loading, then redaction of ``texts`` (default: synthetic posts); report lines."""
    from privacy.redact import Redactor

    posts = list(texts) if texts is not None else synthetic_posts(n_posts)
    redactor = Redactor()
    started = time.perf_counter()
    redactor.load()
    loaded = time.perf_counter()
    redactor.redact_many(posts[:50])  # warm caches outside the timed run
    timed = time.perf_counter()
    redactor.redact_many(posts)
    finished = time.perf_counter()
    seconds = finished - timed
    return [
        f"posts: {len(posts)} ({sum(map(len, posts)) / max(len(posts), 1):.0f} characters on average)",
        f"model load: {loaded - started:.1f} s (not counted below)",
        f"redaction: {seconds:.2f} s",
        f"posts/s: {len(posts) / max(seconds, 1e-9):.0f}",
        f"peak memory (RSS): {_peak_rss_mib():.0f} MiB",
    ]
