"""``maraude bench pipeline``: posts/s end to end on the replay source, per stage, and peak memory.

The end-to-end figure runs the real task functions (collect → score → cases) against the replay
server into a temporary warehouse. Stage figures time each component again on the same posts in the
same process, so their ratios are comparable; model loading is reported apart from throughput.
"""

from __future__ import annotations

import resource
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from maraude.settings import REPO_ROOT, get_settings

DEMO_SOURCES = REPO_ROOT / "extractors" / "replay" / "demo_sources.yaml"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def _timer(results: dict, name: str):
    started = time.perf_counter()
    yield
    results[name] = time.perf_counter() - started


def run_pipeline_bench(*, model_dir: str | Path | None = None) -> int:
    """Print the figures; returns the exit code."""
    from extractors import collect
    from extractors.language import is_french
    from extractors.replay import serve
    from extractors.sources import load_sources
    from features.cues import cues_frame
    from maraude import orchestrate, pipeline, warehouse
    from models.inference import Classifier, load_champion
    from privacy.keys import load_keys
    from privacy.protect import protect
    from privacy.redact import Redactor
    from privacy.vault import IdentityVault

    settings = get_settings()
    settings.ensure_dirs()
    keys = load_keys(settings, create=True)
    at = datetime.now(timezone.utc).replace(microsecond=0)
    loads: dict[str, float] = {}
    stages: dict[str, float] = {}
    with _timer(loads, "classifier"):
        classifier = Classifier.load(Path(model_dir)) if model_dir else load_champion(settings)
    with _timer(loads, "redactor"):
        redactor = Redactor()
        redactor.redact("chargement")

    with tempfile.TemporaryDirectory(prefix="maraude-bench-") as tmp, serve() as base_url:
        sources_file = orchestrate.materialise_sources(DEMO_SOURCES, base_url, Path(tmp) / "sources.yaml")
        target = Path(tmp) / "warehouse.duckdb"
        warehouse.migrate(target)
        sources = load_sources(sources_file)

        started = time.perf_counter()
        for source in sources:
            pipeline.collect_source(source.name, sources_file=sources_file, run_at=at, warehouse_path=target)
        collected_at = time.perf_counter()
        pipeline.score_posts(run_at=at, warehouse_path=target, model_dir=classifier.model_dir)
        scored_at = time.perf_counter()
        pipeline.refresh_cases(run_at=at, warehouse_path=target, model_dir=classifier.model_dir)
        end_to_end = time.perf_counter() - started
        with warehouse.connect(target, read_only=True) as con:
            landed = con.execute("SELECT count(*) FROM posts").fetchone()[0]

        # Stage by stage on the same posts (fresh extraction, nothing landed).
        with _timer(stages, "extract"):
            raw = [post for source in sources for post in collect(source, None).posts]
        with _timer(stages, "language"):
            keep = is_french([p.text for p in raw])
        french = [p for p, ok in zip(raw, keep) if ok]
        vault = IdentityVault(Path(tmp) / "bench_vault.duckdb", keys)
        with _timer(stages, "privacy"):
            clean = protect(french, keys=keys, vault=vault, redactor=redactor).posts
        vault.close()
        texts = [c.text_redacted for c in clean]
        with _timer(stages, "cues"):
            cues_frame(texts, [c.created_at for c in clean])
        with _timer(stages, "classify"):
            classifier.predict_proba(texts)

    fetched = len(raw)
    print(f"posts fetched from the replay source: {fetched}; French posts landed: {landed}")
    print(f"model load: {loads['classifier']:.1f} s; redactor load: {loads['redactor']:.1f} s (not counted below)")
    print(f"collect (extract+privacy+cues+land): {fetched / (collected_at - started):.0f} posts/s")
    print(f"score (classify+explain+land):       {landed / max(scored_at - collected_at, 1e-9):.0f} posts/s")
    for name, seconds in stages.items():
        count = fetched if name in ("extract", "language") else len(clean)
        print(f"  stage {name:<9} {count / max(seconds, 1e-9):8.0f} posts/s  ({seconds:.2f} s)")
    print(f"peak memory (RSS): {_peak_rss_mb():.0f} MB")
    print(f"end to end: {fetched / end_to_end:.1f} posts/s ({fetched} posts in {end_to_end:.1f} s)")
    return 0
