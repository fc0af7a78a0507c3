"""Identity vault: a DuckDB file apart from the warehouse, mapping pseudonyms to who they are.

Every identity field (handle, display name, profile URL, account id, post URL, post id) is
encrypted by the application with AES-256-GCM: a random 96-bit nonce per value, and associated
data binding the value to its table, column and row, so a ciphertext copied into another row does
not decrypt. DuckDB's own file encryption is not relied upon. Lookups by handle go through a keyed
blind index (:func:`privacy.pseudonym.handle_index`), never through plaintext.

Without the vault key the file holds nothing readable; with a wrong key every read fails.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from maraude.warehouse import open_connection
from privacy.keys import KeyConfigurationError, Keys
from privacy.pseudonym import handle_index, normalize_platform

_FORMAT_VERSION = b"\x01"
_NONCE_BYTES = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identities (
    author_pseudo  VARCHAR PRIMARY KEY,
    platform       VARCHAR NOT NULL,
    handle_index   VARCHAR,
    handle         BLOB,
    display_name   BLOB,
    profile_url    BLOB,
    author_id      BLOB,
    first_seen     TIMESTAMPTZ,
    last_seen      TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS post_identities (
    post_uid       VARCHAR PRIMARY KEY,
    author_pseudo  VARCHAR NOT NULL,
    platform       VARCHAR NOT NULL,
    post_url       BLOB,
    post_id        BLOB,
    created_at     TIMESTAMPTZ
);
"""


_IDENTITY_COLUMNS = [
    "author_pseudo", "platform", "handle_index", "handle", "display_name", "profile_url", "author_id",
    "first_seen", "last_seen",
]
_POST_COLUMNS = ["post_uid", "author_pseudo", "platform", "post_url", "post_id", "created_at"]


class VaultDecryptionError(RuntimeError):
    """A vault value did not decrypt: wrong vault key, or a value moved or altered in the file."""


@dataclass(frozen=True)
class Identity:
    """Who is behind a pseudonym, decrypted. Never log, store or pass this elsewhere."""

    author_pseudo: str
    platform: str
    handle: str | None
    display_name: str | None
    profile_url: str | None
    author_id: str | None


class IdentityVault:
    """The identity vault at ``path``, encrypted under ``keys.vault_key``. Use as a context manager.

    ``keys=None`` opens it for maintenance only (retention deletes, counts): anything that reads or
    writes an identity then refuses, so the purge job never needs the key.
    """

    def __init__(self, path: str | os.PathLike, keys: Keys | None, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self._keys = keys
        self._aead = None
        if keys is not None:
            encryption_key = hmac.new(keys.vault_key, b"maraude vault encryption v1", hashlib.sha256).digest()
            self._aead = AESGCM(encryption_key)
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"no identity vault at {self.path}")
        self.con = open_connection(self.path, read_only=read_only)
        if not read_only:
            self.con.execute(_SCHEMA)
            # The vault holds secrets: private to its owner even where the umask is lax.
            self.path.chmod(0o600)

    def __enter__(self) -> IdentityVault:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (and its lock)."""
        self.con.close()

    # -- encryption ---------------------------------------------------------------------------

    def _require_keys(self) -> Keys:
        if self._keys is None:
            raise KeyConfigurationError("this vault was opened without keys (maintenance only)")
        return self._keys

    def _seal(self, value: str | None, *, table: str, column: str, row: str) -> bytes | None:
        if value is None:
            return None
        self._require_keys()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        aad = f"maraude-vault|{table}|{column}|{row}".encode()
        return _FORMAT_VERSION + nonce + self._aead.encrypt(nonce, str(value).encode("utf-8"), aad)

    def _open(self, blob: bytes | None, *, table: str, column: str, row: str) -> str | None:
        if blob is None:
            return None
        self._require_keys()
        blob = bytes(blob)
        if blob[:1] != _FORMAT_VERSION:
            raise VaultDecryptionError(f"{table}.{column}: unknown format")
        nonce, sealed = blob[1:1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES:]
        aad = f"maraude-vault|{table}|{column}|{row}".encode()
        try:
            return self._aead.decrypt(nonce, sealed, aad).decode("utf-8")
        except InvalidTag:
            raise VaultDecryptionError(
                f"{table}.{column} did not decrypt: this is not the vault key that wrote it"
            ) from None

    # -- writes ------------------------------------------------------------------------------

    def store_identity(
        self,
        *,
        author_pseudo: str,
        platform: str,
        handle: str | None,
        display_name: str | None,
        profile_url: str | None,
        author_id: str | None,
        seen_at: datetime,
    ) -> None:
        """Insert or refresh the identity behind ``author_pseudo`` (latest handle and name win)."""
        self.store_many(identities=[dict(
            author_pseudo=author_pseudo, platform=platform, handle=handle, display_name=display_name,
            profile_url=profile_url, author_id=author_id, seen_at=seen_at,
        )])

    def store_post(
        self,
        *,
        post_uid: str,
        author_pseudo: str,
        platform: str,
        post_url: str | None,
        post_id: str | None,
        created_at: datetime | None,
    ) -> None:
        """Insert or refresh the URL and platform id behind ``post_uid``."""
        self.store_many(posts=[dict(
            post_uid=post_uid, author_pseudo=author_pseudo, platform=platform, post_url=post_url,
            post_id=post_id, created_at=created_at,
        )])

    def store_many(self, *, identities: Sequence[dict] = (), posts: Sequence[dict] = ()) -> None:
        """Insert or refresh many identities and post identities, one statement per table.

        Each dict has the keyword arguments of :meth:`store_identity` / :meth:`store_post`. Row-by-row
        upserts cost milliseconds each in DuckDB and made the vault the slowest stage of collection.
        Within a batch the latest sighting of an author wins, as it would row by row.
        """
        import pandas as pd

        keys = self._require_keys() if (identities or posts) else None
        latest: dict[str, dict] = {}
        first_seen: dict[str, datetime] = {}
        for item in sorted(identities, key=lambda i: i["seen_at"]):
            pseudo = item["author_pseudo"]
            latest[pseudo] = item
            first_seen.setdefault(pseudo, item["seen_at"])
        if latest:
            rows = []
            for pseudo, item in latest.items():
                seal = lambda column, value: self._seal(value, table="identities", column=column, row=pseudo)  # noqa: E731
                rows.append((
                    pseudo,
                    normalize_platform(item["platform"]),
                    handle_index(item["platform"], item["handle"], keys) if item["handle"] else None,
                    seal("handle", item["handle"]),
                    seal("display_name", item["display_name"]),
                    seal("profile_url", item["profile_url"]),
                    seal("author_id", item["author_id"]),
                    first_seen[pseudo],
                    item["seen_at"],
                ))
            self.con.register("identity_batch", pd.DataFrame(rows, columns=_IDENTITY_COLUMNS))
            self.con.execute(
                """
                INSERT INTO identities
                SELECT author_pseudo, platform, handle_index, handle::BLOB, display_name::BLOB,
                       profile_url::BLOB, author_id::BLOB, first_seen, last_seen
                FROM identity_batch
                ON CONFLICT (author_pseudo) DO UPDATE SET
                    handle_index = excluded.handle_index,
                    handle = excluded.handle,
                    display_name = excluded.display_name,
                    profile_url = excluded.profile_url,
                    author_id = excluded.author_id,
                    first_seen = least(identities.first_seen, excluded.first_seen),
                    last_seen = greatest(identities.last_seen, excluded.last_seen)
                """
            )
            self.con.unregister("identity_batch")
        unique_posts = {item["post_uid"]: item for item in posts}
        if unique_posts:
            rows = []
            for uid, item in unique_posts.items():
                seal = lambda column, value: self._seal(value, table="post_identities", column=column, row=uid)  # noqa: E731
                rows.append((
                    uid, item["author_pseudo"], normalize_platform(item["platform"]),
                    seal("post_url", item["post_url"]), seal("post_id", item["post_id"]), item["created_at"],
                ))
            self.con.register("post_batch", pd.DataFrame(rows, columns=_POST_COLUMNS))
            self.con.execute(
                "INSERT OR REPLACE INTO post_identities SELECT post_uid, author_pseudo, platform,"
                " post_url::BLOB, post_id::BLOB, created_at FROM post_batch"
            )
            self.con.unregister("post_batch")

    def delete_authors(self, author_pseudos: Iterable[str]) -> int:
        """Remove these people and all their posts' identities; returns the rows removed."""
        pseudos = list(author_pseudos)
        if not pseudos:
            return 0
        posts = self.con.execute(
            "DELETE FROM post_identities WHERE author_pseudo IN (SELECT unnest(?::VARCHAR[]))", [pseudos]
        ).fetchone()[0]
        people = self.con.execute(
            "DELETE FROM identities WHERE author_pseudo IN (SELECT unnest(?::VARCHAR[]))", [pseudos]
        ).fetchone()[0]
        return int(posts) + int(people)

    # -- reads -------------------------------------------------------------------------------

    def find_by_handle(self, platform: str, handle: str) -> list[str]:
        """Pseudonyms known for this handle on this platform (several after a key rotation)."""
        index = handle_index(platform, handle, self._require_keys())
        rows = self.con.execute(
            "SELECT author_pseudo FROM identities WHERE handle_index = ? ORDER BY author_pseudo", [index]
        ).fetchall()
        return [row[0] for row in rows]

    def identity(self, author_pseudo: str) -> Identity | None:
        """The decrypted identity behind ``author_pseudo``, or None if the vault has none."""
        row = self.con.execute(
            "SELECT platform, handle, display_name, profile_url, author_id FROM identities WHERE author_pseudo = ?",
            [author_pseudo],
        ).fetchone()
        if row is None:
            return None
        platform, *sealed = row
        opened = [
            self._open(blob, table="identities", column=column, row=author_pseudo)
            for column, blob in zip(("handle", "display_name", "profile_url", "author_id"), sealed)
        ]
        return Identity(author_pseudo, platform, *opened)

    def post_urls(self, author_pseudo: str) -> list[str]:
        """Decrypted URLs of this person's posts, oldest first."""
        rows = self.con.execute(
            "SELECT post_uid, post_url FROM post_identities WHERE author_pseudo = ? ORDER BY created_at, post_uid",
            [author_pseudo],
        ).fetchall()
        urls = [self._open(blob, table="post_identities", column="post_url", row=uid) for uid, blob in rows]
        return [url for url in urls if url]

    def author_pseudos(self) -> set[str]:
        """Every pseudonym the vault holds (retention compares them with the warehouse)."""
        return {row[0] for row in self.con.execute("SELECT author_pseudo FROM identities").fetchall()}

    def post_uids(self) -> set[str]:
        """Every post the vault holds."""
        return {row[0] for row in self.con.execute("SELECT post_uid FROM post_identities").fetchall()}

    def counts(self) -> dict[str, int]:
        """Rows per table (for summaries and audit details)."""
        return {
            table: int(self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("identities", "post_identities")
        }

    def prune(self, *, keep_authors: Iterable[str], keep_posts: Iterable[str]) -> dict[str, int]:
        """Delete every identity and post entry not listed (retention's last step), in one transaction."""
        authors, posts = list(keep_authors), list(keep_posts)
        self.con.execute("BEGIN TRANSACTION")
        try:
            removed_posts = self.con.execute(
                "DELETE FROM post_identities WHERE post_uid NOT IN (SELECT unnest(?::VARCHAR[]))"
                " OR author_pseudo NOT IN (SELECT unnest(?::VARCHAR[]))",
                [posts, authors],
            ).fetchone()[0]
            removed_people = self.con.execute(
                "DELETE FROM identities WHERE author_pseudo NOT IN (SELECT unnest(?::VARCHAR[]))", [authors]
            ).fetchone()[0]
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return {"vault_identities_deleted": int(removed_people), "vault_posts_deleted": int(removed_posts)}
