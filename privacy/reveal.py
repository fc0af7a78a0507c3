"""Reveal: who is behind a case, for a trained outreach worker about to act, with a stated reason.

Every reveal writes who, when, why and which case to ``audit_log`` before the identity is handed
back; the audit row never holds the revealed values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from maraude.warehouse import audit, connect, current_actor
from privacy.keys import Keys
from privacy.vault import Identity, IdentityVault

MIN_REASON_CHARS = 15


class RevealRefused(ValueError):
    """The reveal was not allowed (no reason, unknown case, nothing left in the vault)."""


@dataclass(frozen=True)
class Revelation:
    """The identity behind a case and the URLs of its posts still held."""

    case_id: str
    identity: Identity
    post_urls: list[str]


def check_reason(reason: str | None) -> str:
    """The reason, stripped, if it says something (at least MIN_REASON_CHARS characters)."""
    cleaned = " ".join((reason or "").split())
    if len(cleaned) < MIN_REASON_CHARS:
        raise RevealRefused(
            f'a reveal needs a reason of at least {MIN_REASON_CHARS} characters (--reason "…"): '
            "say why this person must be identified now, it is kept in the audit log"
        )
    return cleaned


def reveal(
    case_id: str,
    *,
    reason: str,
    keys: Keys,
    warehouse_path: str | os.PathLike,
    vault_path: str | os.PathLike,
    actor: str | None = None,
    at: datetime | None = None,
) -> Revelation:
    """Decrypt the identity behind ``case_id`` after auditing the request; refuses without a reason."""
    reason = check_reason(reason)
    actor = actor or current_actor()
    at = at or datetime.now(timezone.utc)
    with connect(warehouse_path) as con:
        row = con.execute("SELECT author_pseudo FROM cases WHERE case_id = ?", [case_id]).fetchone()
        if row is None:
            raise RevealRefused(f"no case {case_id!r} in {warehouse_path}")
        author_pseudo = row[0]
        if not Path(vault_path).exists():
            raise RevealRefused(f"no identity vault at {vault_path}")
        with IdentityVault(vault_path, keys, read_only=True) as vault:
            identity = vault.identity(author_pseudo)
            post_urls = vault.post_urls(author_pseudo) if identity else []
        if identity is None:
            raise RevealRefused(f"the vault holds no identity for case {case_id} any more (purged or forgotten)")
        audit(
            con,
            action="reveal",
            target=case_id,
            reason=reason,
            details={"author_pseudo": author_pseudo, "post_urls": len(post_urls)},
            actor=actor,
            at=at,
        )
    return Revelation(case_id=case_id, identity=identity, post_urls=post_urls)
