"""The one hand-off from raw posts (with identities) to clean posts (without): redact, pseudonymise,
send identities to the vault, drop people on the denylist.

Extractors produce ``extractors.base.RawPost`` objects (read here by attribute, so any object with
the same fields works); only :class:`CleanPost` may reach the warehouse, XCom, logs or exceptions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from privacy.keys import Keys
from privacy.pseudonym import author_pseudonym, handle_index, post_uid
from privacy.redact import Redactor
from privacy.vault import IdentityVault


@dataclass(frozen=True)
class CleanPost:
    """A post as the warehouse may hold it: keyed ids, redacted text, no identity."""

    post_uid: str
    platform: str
    source: str
    author_pseudo: str
    created_at: datetime
    text_redacted: str
    lang_tag: str | None
    thread_uid: str | None
    reply_to_uid: str | None


@dataclass(frozen=True)
class ProtectResult:
    """Clean posts, in input order, and how many posts were dropped because their author opted out."""

    posts: list[CleanPost]
    dropped_denylisted: int


def is_denylisted(platform: str, author_id: str | None, handle: str | None, keys: Keys, denylist: frozenset[str]) -> bool:
    """Whether this account asked to be forgotten: its pseudonym or its handle's blind index is listed."""
    if not denylist:
        return False
    if author_id is not None and author_pseudonym(platform, author_id, keys) in denylist:
        return True
    return handle is not None and handle_index(platform, handle, keys) in denylist


def protect(
    raw_posts: Iterable,
    *,
    keys: Keys,
    vault: IdentityVault | str | os.PathLike,
    redactor: Redactor | None = None,
    denylist: frozenset[str] = frozenset(),
) -> ProtectResult:
    """Turn raw posts into :class:`CleanPost` records and write their identities to ``vault``.

    ``denylist`` holds keyed pseudonyms and handle blind indexes (see :func:`privacy.optout.load_denylist`);
    a post whose author matches either is dropped before anything about it is stored. Identities
    (handle, display name, profile URL, account id, post URL, post id) go to the vault in one
    transaction, keyed by pseudonym and post_uid. ``vault`` is an open :class:`IdentityVault`, or the
    path of one to open and close around this call.
    """
    if not isinstance(vault, IdentityVault):
        with IdentityVault(vault, keys) as opened:
            return protect(raw_posts, keys=keys, vault=opened, redactor=redactor, denylist=denylist)
    redactor = redactor or Redactor()
    kept = []
    dropped = 0
    for raw in raw_posts:
        account = _account_id(raw)
        if is_denylisted(raw.platform, account, raw.author_handle, keys, denylist):
            dropped += 1
            continue
        kept.append(raw)

    texts = redactor.redact_many([raw.text or "" for raw in kept])
    posts = []
    identities = []
    post_identities = []
    for raw, text in zip(kept, texts):
        account = _account_id(raw)
        pseudo = author_pseudonym(raw.platform, account, keys)
        uid = post_uid(raw.platform, raw.post_id, keys)
        identities.append(dict(
            author_pseudo=pseudo, platform=raw.platform, handle=raw.author_handle, display_name=raw.author_name,
            profile_url=raw.author_url, author_id=account, seen_at=raw.created_at,
        ))
        post_identities.append(dict(
            post_uid=uid, author_pseudo=pseudo, platform=raw.platform, post_url=raw.url,
            post_id=str(raw.post_id), created_at=raw.created_at,
        ))
        posts.append(
            CleanPost(
                post_uid=uid,
                platform=raw.platform,
                source=raw.source,
                author_pseudo=pseudo,
                created_at=raw.created_at,
                text_redacted=text,
                lang_tag=raw.lang_tag,
                thread_uid=post_uid(raw.platform, raw.thread_id, keys) if raw.thread_id else None,
                reply_to_uid=post_uid(raw.platform, raw.reply_to_id, keys) if raw.reply_to_id else None,
            )
        )
    vault.con.execute("BEGIN TRANSACTION")
    try:
        vault.store_many(identities=identities, posts=post_identities)
        vault.con.execute("COMMIT")
    except BaseException:
        vault.con.execute("ROLLBACK")
        raise
    return ProtectResult(posts=posts, dropped_denylisted=dropped)


def _account_id(raw) -> str:
    """The stable account id; the handle stands in where a platform gives none."""
    account = raw.author_id if raw.author_id not in (None, "") else raw.author_handle
    if account in (None, ""):
        # Without any account reference the author cannot be pseudonymised consistently.
        raise ValueError(f"a {raw.platform} post from source {raw.source!r} has neither author_id nor author_handle")
    return str(account)
