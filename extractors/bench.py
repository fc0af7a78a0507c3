"""``maraude bench extract``: throughput of collection (HTTP + parsing) and language detection.

Runs over the replay server on 127.0.0.1 with a corpus of ``posts`` posts spread over the four platforms
(the demo corpus repeated with new ids, or built-in fictional sentences when it is absent). The target is
at least 2,000 posts/s for parsing plus language detection.
"""

from __future__ import annotations

import time
from dataclasses import replace

from extractors.replay.corpus import DEMO_CORPUS, DemoPost, load_corpus

_FALLBACK_TEXTS = (
    ("fr", "J'ai lâché la fac en novembre et depuis je tourne en rond chez moi, je sais plus quoi faire."),
    ("fr", "Quelqu'un a des conseils pour trouver un premier job sans diplôme à Lyon ?"),
    ("en", "Anyone up for a football match in the park this Saturday afternoon?"),
    ("fr", "Trop contente, ma formation en alternance commence lundi, enfin un truc qui bouge."),
)
_CHANNELS = (("mastodon", "tag:galere"), ("bluesky", "search:taf"), ("reddit", "r/france"), ("youtube", "video:yt-demo-01"))


def bench_corpus(posts: int) -> list[DemoPost]:
    """``posts`` demo posts, a quarter per platform, without replies or malformed entries."""
    base = [p for p in load_corpus(DEMO_CORPUS) if not p.malformed] if DEMO_CORPUS.exists() else []
    corpus: list[DemoPost] = []
    for i in range(posts):
        platform, channel = _CHANNELS[i % len(_CHANNELS)]
        if base:
            template = base[i % len(base)]
            lang, text = template.lang, template.text
        else:
            lang, text = _FALLBACK_TEXTS[i % len(_FALLBACK_TEXTS)]
        corpus.append(DemoPost(
            id=f"bench-{i:06d}", platform=platform, channel=channel, author=f"bench_user_{i % 97}",
            display_name=f"Bench {i % 97}", days_ago=0.001 * i + 0.01, lang=lang, text=text,
        ))
    return corpus


def bench_extract(posts: int = 4000) -> dict[str, str]:
    """Collect ``posts`` posts from the replay server, then detect their language; returns figures to print."""
    from extractors.collector import collect
    from extractors.credentials import Credentials
    from extractors.http import HttpClient
    from extractors.language import _detector, detect
    from extractors.replay import replay_base_url, serve
    from extractors.sources import SourceConfig

    corpus = bench_corpus(posts)
    sources = [
        SourceConfig("bench_mastodon", "mastodon", "replay", {"hashtag": "galere"}),
        SourceConfig("bench_bluesky", "bluesky", "replay", {"query": "taf"}),
        SourceConfig("bench_reddit", "reddit", "replay", {"subreddit": "france", "comments": False}),
        SourceConfig("bench_youtube", "youtube", "replay/youtube/v3", {"video": "yt-demo-01"}),
    ]
    credentials = Credentials(login="bench", password="bench")
    collected = []
    with serve(corpus) as url:
        started = time.perf_counter()
        for source in sources:
            source = replace(source, base_url=replay_base_url(source.base_url, url))
            with HttpClient(source.name, max_requests_per_minute=1_000_000) as http:
                collected += collect(source, None, http=http, credentials=credentials).posts
        collect_s = time.perf_counter() - started
    load_started = time.perf_counter()
    _detector()
    load_s = time.perf_counter() - load_started
    started = time.perf_counter()
    languages = detect([p.text for p in collected])
    detect_s = time.perf_counter() - started
    total = collect_s + detect_s
    return {
        "posts": str(len(collected)),
        "french": str(sum(1 for code, _ in languages if code == "fr")),
        "collect_posts_per_s": f"{len(collected) / collect_s:.0f}",
        "detector_load_s": f"{load_s:.2f}",
        "detect_posts_per_s": f"{len(collected) / detect_s:.0f}",
        "posts/s": f"{len(collected) / total:.0f}",
    }
