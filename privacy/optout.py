"""Opt-outs: ``maraude forget PLATFORM HANDLE`` erases what Maraude holds about a person and keeps
them out of every later collection.

The person is found through the vault's handle blind index (and the pseudonym of the handle taken
as an account id, for platforms that give no separate id). Their posts, predictions, case, the
reviews of that case, quarantine rows and vault entries are deleted; their pseudonyms and the
handle's blind index go to ``denylist``, which :func:`privacy.protect.protect` honours. It works
for someone never collected too (the blind index alone then guards future collections). The audit
row names pseudonyms, never the handle.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from maraude.warehouse import audit, connect
from privacy.keys import Keys
from privacy.pseudonym import author_pseudonym, handle_index, normalize_platform
from privacy.vault import IdentityVault


def load_denylist(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Every keyed pseudonym and handle blind index that asked to be forgotten (for ``protect``)."""
    return frozenset(row[0] for row in con.execute("SELECT author_pseudo FROM denylist").fetchall())


@dataclass(frozen=True)
class ForgetResult:
    """What an erasure removed, by table; ``pseudonyms`` are the keyed ids now denylisted."""

    pseudonyms: tuple[str, ...]
    counts: dict[str, int]


def forget(
    platform: str,
    handle: str,
    *,
    keys: Keys,
    warehouse_path: str | os.PathLike,
    vault_path: str | os.PathLike,
    actor: str | None = None,
    at: datetime | None = None,
) -> ForgetResult:
    """Erase everything held about ``handle`` on ``platform`` and denylist them (idempotent).

    The warehouse is cleaned (and the denylist written) before the vault, so an interruption leaves
    the vault able to find the person again on a rerun.
    """
    platform = normalize_platform(platform)
    if not handle.strip():
        raise ValueError("the handle to forget is empty")
    at = at or datetime.now(timezone.utc)
    blind_index = handle_index(platform, handle, keys)
    # Platforms without account ids are pseudonymised on the handle as written, with or without "@".
    bare = handle.strip().lstrip("@")
    pseudonyms = {author_pseudonym(platform, spelling, keys) for spelling in (bare, "@" + bare)}
    if Path(vault_path).exists():
        with IdentityVault(vault_path, keys, read_only=True) as vault:
            pseudonyms.update(vault.find_by_handle(platform, handle))
    pseudonym_list = sorted(pseudonyms)

    counts: dict[str, int] = {}
    with connect(warehouse_path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            post_uids = [
                row[0]
                for row in con.execute(
                    "SELECT post_uid FROM posts WHERE author_pseudo IN (SELECT unnest(?::VARCHAR[]))", [pseudonym_list]
                ).fetchall()
            ]
            case_ids = [
                row[0]
                for row in con.execute(
                    "SELECT case_id FROM cases WHERE author_pseudo IN (SELECT unnest(?::VARCHAR[]))", [pseudonym_list]
                ).fetchall()
            ]
            for name, sql, params in (
                ("predictions", "DELETE FROM predictions WHERE post_uid IN (SELECT unnest(?::VARCHAR[]))", [post_uids]),
                ("posts", "DELETE FROM posts WHERE post_uid IN (SELECT unnest(?::VARCHAR[]))", [post_uids]),
                ("quarantine", "DELETE FROM quarantine WHERE record_ref IN (SELECT unnest(?::VARCHAR[]))", [post_uids]),
                # Reviews describe this person's case: an erasure request covers them too.
                ("reviews", "DELETE FROM reviews WHERE case_id IN (SELECT unnest(?::VARCHAR[]))", [case_ids]),
                ("cases", "DELETE FROM cases WHERE case_id IN (SELECT unnest(?::VARCHAR[]))", [case_ids]),
            ):
                counts[name] = int(con.execute(sql, params).fetchone()[0])
            for entry in [*pseudonym_list, blind_index]:
                con.execute(
                    "INSERT INTO denylist (author_pseudo, platform, added_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (author_pseudo) DO NOTHING",
                    [entry, platform, at],
                )
            audit(
                con,
                action="forget",
                target=pseudonym_list[0] if len(pseudonym_list) == 1 else blind_index,
                reason="opt-out / erasure request",
                details={"pseudonyms": pseudonym_list, "handle_index": blind_index, "platform": platform, **counts},
                actor=actor,
                at=at,
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    if Path(vault_path).exists():
        with IdentityVault(vault_path, keys) as vault:
            counts["vault_rows"] = vault.delete_authors(pseudonym_list)
    else:
        counts["vault_rows"] = 0
    return ForgetResult(pseudonyms=tuple(pseudonym_list), counts=counts)
