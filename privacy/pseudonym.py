"""Keyed pseudonyms: the only identifiers of people and posts that leave the privacy layer.

HMAC-SHA-256 under the pseudonym key, prefixed with the key version (``k1-<32 hex>``) so that a
rotated key gives recognisably different values. Without the key, nobody can recompute a
pseudonym from a handle or an account id, nor test a guess.

The handle blind index (``bi1-<32 hex>``) lets the vault and the denylist find a person by handle
without storing the handle; it is keyed by a sub-key of the vault key, so it does not change when
the pseudonym key rotates.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata

from privacy.keys import Keys

_DIGEST_HEX = 32  # 128 bits: collisions are out of reach for any plausible number of accounts
BLIND_INDEX_PREFIX = "bi1-"


def _mac(key: bytes, *parts: str) -> str:
    # Unit separators keep ("ab", "c") and ("a", "bc") apart.
    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:_DIGEST_HEX]


def normalize_platform(platform: str) -> str:
    """``" Mastodon "`` → ``"mastodon"``."""
    return platform.strip().lower()


def normalize_handle(handle: str) -> str:
    """The spelling-independent form of a handle: NFKC, lowercase, no leading ``@`` or ``u/``."""
    text = unicodedata.normalize("NFKC", handle).strip().lower()
    for prefix in ("/u/", "u/", "@"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def author_pseudonym(platform: str, author_id: str, keys: Keys) -> str:
    """Pseudonym of an account: keyed hash of platform + account id, key-version prefixed."""
    digest = _mac(keys.pseudonym_key, "author", normalize_platform(platform), str(author_id))
    return f"{keys.pseudonym_key_version}-{digest}"


def post_uid(platform: str, post_id: str, keys: Keys) -> str:
    """Identifier of a post: keyed hash of platform + post id (a platform post id leads to its author)."""
    digest = _mac(keys.pseudonym_key, "post", normalize_platform(platform), str(post_id))
    return f"{keys.pseudonym_key_version}-{digest}"


def _blind_index_key(keys: Keys) -> bytes:
    return hmac.new(keys.vault_key, b"maraude blind index v1", hashlib.sha256).digest()


def handle_index(platform: str, handle: str, keys: Keys) -> str:
    """Blind index of a handle: finds a person in the vault or the denylist without the handle."""
    digest = _mac(_blind_index_key(keys), "handle", normalize_platform(platform), normalize_handle(handle))
    return f"{BLIND_INDEX_PREFIX}{digest}"


class Pseudonymizer:
    """The functions above bound to one set of keys, for callers that compute many ids."""

    def __init__(self, keys: Keys) -> None:
        self._keys = keys

    def author(self, platform: str, author_id: str) -> str:
        """See :func:`author_pseudonym`."""
        return author_pseudonym(platform, author_id, self._keys)

    def post_uid(self, platform: str, post_id: str) -> str:
        """See :func:`post_uid`."""
        return post_uid(platform, post_id, self._keys)

    def handle_index(self, platform: str, handle: str) -> str:
        """See :func:`handle_index`."""
        return handle_index(platform, handle, self._keys)
