"""Sub-commands of the extractors area: ``extract``, ``replay`` and ``bench extract``."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from urllib.parse import urlsplit

DEFAULT_EXTRACT_LIMIT = 5000
LOOPBACK_NAMES = ("localhost",)


def _platform_help() -> str:
    from extractors.platforms import registry

    return "\n".join(cls.query_help for cls in registry().values())


def register(commands, bench_commands) -> None:
    """Add this area's sub-commands."""
    extract = commands.add_parser(
        "extract",
        help="one ad-hoc collection from one source, written as it would land (French, pseudonymised, redacted)",
        description=(
            "Collect from one source (following pagination and honouring rate limits), keep French posts, "
            "pseudonymise authors and redact texts, and write one JSON object per line."
        ),
        epilog=(
            "What --query means per platform:\n" + _platform_help() + "\n\n"
            "Credentials: --connection names an Airflow Connection (or AIRFLOW_CONN_<ID>); against a local replay "
            "server (127.0.0.1/localhost) placeholder credentials are used when none is given."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    extract.add_argument("platform", help="mastodon, bluesky, reddit or youtube")
    extract.add_argument("--base-url", required=True, help="API root, e.g. https://piaille.fr or http://127.0.0.1:8765")
    extract.add_argument("--query", help="what to collect (see below); platform-specific")
    extract.add_argument(
        "--limit", type=int, default=DEFAULT_EXTRACT_LIMIT,
        help=f"at most this many posts collected before the language filter (default {DEFAULT_EXTRACT_LIMIT})",
    )
    extract.add_argument("--cursor", help="collect only what is newer than this cursor (as printed by a previous run)")
    extract.add_argument("--connection", help="Airflow Connection id holding the credentials")
    extract.add_argument("-o", "--output", required=True, help="output JSONL file")
    extract.set_defaults(func=run_extract)

    replay = commands.add_parser(
        "replay",
        help="serve the local replay server (demo corpus, platform APIs) in the foreground",
        description="Serve Mastodon, Bluesky, Reddit and YouTube APIs over the demo corpus until Ctrl-C.",
    )
    replay.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port; default 8765)")
    replay.add_argument("--corpus", help="demo corpus JSONL (default extractors/replay/demo_posts.jsonl)")
    replay.add_argument("--recorded", help="serve the recorded payloads of this realdata/api folder instead")
    replay.set_defaults(func=run_replay)

    bench = bench_commands.add_parser(
        "extract", help="posts/s for collection (HTTP + parsing) and language detection over the replay server"
    )
    bench.add_argument("--posts", type=int, default=4000, help="posts served per run (default 4000)")
    bench.set_defaults(func=run_bench_extract)


def _denylist(warehouse_path: Path) -> frozenset[str]:
    """Opt-outs recorded by ``maraude forget`` (none when no warehouse exists yet): honoured here too."""
    if not warehouse_path.exists():
        return frozenset()
    from maraude.warehouse import connect, migrate
    from privacy.optout import load_denylist

    migrate(warehouse_path)
    with connect(warehouse_path, read_only=True) as con:
        return load_denylist(con)


def _is_loopback(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_extract(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from extractors.base import SourceStopped
    from extractors.collector import collect
    from extractors.credentials import ANONYMOUS, Credentials, resolve
    from extractors.platforms import get_platform
    from extractors.sources import SourceConfigError, validate_source
    from maraude.settings import get_settings
    from privacy.keys import load_keys
    from privacy.protect import protect

    try:
        platform = get_platform(args.platform)
        params = platform.params_from_query(args.query)
        source = validate_source(
            {"name": f"extract_{args.platform}", "platform": args.platform, "base_url": args.base_url,
             "params": params, "connection_id": args.connection},
            where="command line",
        )
    except (KeyError, ValueError, SourceConfigError) as error:
        print(f"maraude extract: {error.args[0] if error.args else error}", file=sys.stderr)
        return 2
    if args.connection:
        credentials = None
    elif _is_loopback(args.base_url):
        # The replay server accepts any credentials; these placeholders only satisfy the clients.
        credentials = Credentials(login="replay", password="replay")
    else:
        credentials = ANONYMOUS
    try:
        result = collect(source, args.cursor, limit=args.limit, credentials=credentials or resolve(source))
    except SourceStopped as error:
        print(f"maraude extract: {error}", file=sys.stderr)
        return 3

    from extractors.language import counts_as_french, detect

    # Language is judged on the raw text, before redaction, so that non-French authors never reach the vault.
    languages = detect([post.text for post in result.posts])
    french = [post for post, detected in zip(result.posts, languages) if counts_as_french(detected)]
    settings = get_settings()
    settings.ensure_dirs()
    keys = load_keys(settings, create=True)
    protected = protect(french, keys=keys, vault=settings.vault_path, denylist=_denylist(settings.warehouse_path))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        for clean in protected.posts:
            out.write(json.dumps({
                "post_uid": clean.post_uid,
                "platform": clean.platform,
                "source": clean.source,
                "author_pseudo": clean.author_pseudo,
                "created_at": clean.created_at.isoformat(),
                "text": clean.text_redacted,
                "lang": "fr",
                "lang_tag": clean.lang_tag,
                "thread_uid": clean.thread_uid,
                "reply_to_uid": clean.reply_to_uid,
            }, ensure_ascii=False) + "\n")
    stats = dict(result.stats)
    stats.update(french=len(french), not_french=len(result.posts) - len(french),
                 dropped_denylisted=protected.dropped_denylisted)
    summary = ", ".join(f"{k}={v}" for k, v in sorted(stats.items()))
    print(f"{len(protected.posts)} French posts written to {output} ({summary})", file=sys.stderr)
    if result.rejects:
        reasons: dict[str, int] = {}
        for reject in result.rejects:
            reasons[reject.reason] = reasons.get(reject.reason, 0) + 1
        print("rejects: " + ", ".join(f"{k}={v}" for k, v in sorted(reasons.items())), file=sys.stderr)
    print(f"cursor: {result.new_cursor}", file=sys.stderr)
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from extractors.replay.server import ReplayServer

    if args.recorded:
        from extractors.replay.recorded import load_recordings

        server = ReplayServer(port=args.port, recorded=load_recordings(args.recorded))
    else:
        server = ReplayServer(args.corpus, port=args.port)
    url = server.base_url
    print(f"replay server on {url} (Ctrl-C to stop)")
    print(f"  mastodon: maraude extract mastodon --base-url {url} --query galere -o out.jsonl")
    print(f"  bluesky:  maraude extract bluesky --base-url {url} --query taf -o out.jsonl")
    print(f"  reddit:   maraude extract reddit --base-url {url} --query r/france -o out.jsonl")
    print(f"  youtube:  maraude extract youtube --base-url {url}/youtube/v3 --query decrochage -o out.jsonl")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop_listening()
    return 0


def run_bench_extract(args: argparse.Namespace) -> int:
    from extractors.bench import bench_extract

    result = bench_extract(args.posts)
    for key, value in result.items():
        print(f"{key}: {value}")
    return 0
