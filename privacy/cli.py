"""Privacy sub-commands: ``redact``, ``reveal``, ``forget`` and ``bench redact``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

_BATCH = 512


def register(commands, bench_commands) -> None:
    """Add this area's sub-commands."""
    p = commands.add_parser(
        "redact",
        help="redact a JSONL file of posts ({id, text} per line) as the warehouse would store them",
    )
    p.add_argument("input", help="JSONL file, one object with 'id' and 'text' per line")
    p.add_argument("-o", "--output", required=True, help="JSONL file to write ({id, text} per line)")
    p.set_defaults(func=run_redact)

    p = commands.add_parser("reveal", help="show who is behind a case (needs a reason; audited)")
    p.add_argument("case_id")
    p.add_argument("--reason", required=False, default=None, help="why this person must be identified now")
    p.add_argument("--warehouse", help="warehouse file (default var/warehouse.duckdb)")
    p.add_argument("--vault", help="identity vault file (default: vault.duckdb beside the warehouse)")
    p.set_defaults(func=run_reveal)

    p = commands.add_parser("forget", help="erase everything held about an account and never collect it again")
    p.add_argument("platform", help="mastodon, bluesky, reddit, youtube...")
    p.add_argument("handle", help="the account's handle as shown on the platform")
    p.add_argument("--warehouse", help="warehouse file (default var/warehouse.duckdb)")
    p.add_argument("--vault", help="identity vault file (default: vault.duckdb beside the warehouse)")
    p.set_defaults(func=run_forget)

    p = bench_commands.add_parser("redact", help="redaction throughput (posts/s) and peak memory")
    p.add_argument("--posts", type=int, default=2000, help="number of synthetic posts (default 2000)")
    p.add_argument("--input", help="JSONL file of {id, text} to time instead of the synthetic posts")
    p.set_defaults(func=run_bench_redact)


def _paths(args: argparse.Namespace) -> tuple[Path, Path]:
    from maraude.settings import get_settings

    warehouse = Path(args.warehouse) if args.warehouse else get_settings().warehouse_path
    vault = Path(args.vault) if args.vault else warehouse.with_name("vault.duckdb")
    return warehouse, vault


def read_posts_jsonl(path: str | os.PathLike) -> list[tuple[object, str]]:
    """(id, text) pairs of a JSONL file; raises ValueError naming the first bad line (never its content)."""
    posts = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise ValueError(f"{path}, line {number}: not valid JSON") from None
            if not isinstance(record, dict) or "id" not in record or not isinstance(record.get("text"), str):
                raise ValueError(f"{path}, line {number}: expected an object with 'id' and a string 'text'")
            posts.append((record["id"], record["text"]))
    return posts


def run_redact(args: argparse.Namespace) -> int:
    from privacy.redact import Redactor

    output = Path(args.output)
    try:
        posts = read_posts_jsonl(args.input)
    except (ValueError, UnicodeDecodeError) as error:
        print(f"maraude redact: {error}; nothing written", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"maraude redact: cannot read {args.input}: {error.strerror}", file=sys.stderr)
        return 2
    redactor = Redactor()
    output.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: a crash never leaves a partial output file.
    descriptor, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            for start in range(0, len(posts), _BATCH):
                batch = posts[start:start + _BATCH]
                for (post_id, _), text in zip(batch, redactor.redact_many([text for _, text in batch])):
                    handle.write(json.dumps({"id": post_id, "text": text}, ensure_ascii=False) + "\n")
        os.replace(tmp_name, output)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    print(f"{len(posts)} posts redacted → {output}", file=sys.stderr)
    return 0


def run_reveal(args: argparse.Namespace) -> int:
    from privacy.keys import KeyConfigurationError, load_keys
    from privacy.reveal import RevealRefused, check_reason, reveal

    try:
        check_reason(args.reason)
        keys = load_keys()
        warehouse, vault = _paths(args)
        result = reveal(args.case_id, reason=args.reason, keys=keys, warehouse_path=warehouse, vault_path=vault)
    except (RevealRefused, KeyConfigurationError) as error:
        print(f"maraude reveal: {error}", file=sys.stderr)
        return 2
    identity = result.identity
    print(f"dossier {result.case_id} ({identity.platform})")
    print(f"  compte : {identity.handle or '—'}")
    if identity.display_name:
        print(f"  nom affiché : {identity.display_name}")
    if identity.profile_url:
        print(f"  profil : {identity.profile_url}")
    for url in result.post_urls:
        print(f"  publication : {url}")
    print("Consultation enregistrée dans le journal d'audit.", file=sys.stderr)
    return 0


def run_forget(args: argparse.Namespace) -> int:
    from privacy.keys import KeyConfigurationError, load_keys
    from privacy.optout import forget

    try:
        keys = load_keys()
    except KeyConfigurationError as error:
        print(f"maraude forget: {error}", file=sys.stderr)
        return 2
    warehouse, vault = _paths(args)
    if not warehouse.exists():
        print(f"maraude forget: no warehouse at {warehouse}", file=sys.stderr)
        return 2
    result = forget(args.platform, args.handle, keys=keys, warehouse_path=warehouse, vault_path=vault)
    removed = ", ".join(f"{name}: {count}" for name, count in result.counts.items())
    print(f"forgotten ({len(result.pseudonyms)} pseudonym(s) denylisted); removed — {removed}")
    return 0


def run_bench_redact(args: argparse.Namespace) -> int:
    from privacy.bench import bench_redact

    texts = [text for _, text in read_posts_jsonl(args.input)] if args.input else None
    for line in bench_redact(texts, n_posts=args.posts):
        print(line)
    return 0
