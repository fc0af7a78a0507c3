"""The identity vault and protect(): identities leave the posts, rest only encrypted, and come back only with the key."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest
from privacy_fixtures import raw_post, redactor  # noqa: F401 - fixture

from privacy.keys import Keys, load_keys
from privacy.protect import CleanPost, protect
from privacy.pseudonym import author_pseudonym, handle_index
from privacy.vault import IdentityVault, VaultDecryptionError

PLANTED = ["@zorglub42", "zorglub42", "Maëlys Kerdoncuff", "109876543210", "mastodon.example.org", "06 39 98 00"]


@pytest.fixture
def keys(test_keys):
    return load_keys()


@pytest.fixture
def protected(keys, tmp_path, redactor):
    """Three posts of one fictional account, protected into a fresh vault."""
    vault_path = tmp_path / "vault.duckdb"
    with IdentityVault(vault_path, keys) as vault:
        result = protect([raw_post(i) for i in range(3)], keys=keys, vault=vault, redactor=redactor)
    return result, vault_path


def test_clean_posts_hold_no_raw_identity(protected):
    result, _ = protected
    assert len(result.posts) == 3 and result.dropped_denylisted == 0
    for post in result.posts:
        assert isinstance(post, CleanPost)
        flat = repr(dataclasses.astuple(post))
        for value in PLANTED:
            assert value.lower() not in flat.lower()
        assert post.text_redacted.startswith("je suis seule depuis des mois, appelle le <TEL> (<PERSONNE>)")
        assert post.author_pseudo.startswith("k1-") and post.post_uid.startswith("k1-")
        assert post.thread_uid == post.post_uid  # thread ids are keyed like post ids


def test_vault_gives_back_identity_and_post_urls_with_the_key(protected, keys):
    result, vault_path = protected
    pseudo = result.posts[0].author_pseudo
    with IdentityVault(vault_path, keys, read_only=True) as vault:
        identity = vault.identity(pseudo)
        assert (identity.handle, identity.display_name, identity.author_id) == ("@zorglub42", "Maëlys Kerdoncuff", "109876543210")
        assert vault.post_urls(pseudo) == [f"https://mastodon.example.org/@zorglub42/11100{i:04d}" for i in range(3)]
        assert vault.find_by_handle("mastodon", "ZORGLUB42") == [pseudo]


def test_vault_file_bytes_hold_no_identity(protected):
    _, vault_path = protected
    raw = vault_path.read_bytes().lower()
    for value in PLANTED:
        assert value.lower().encode() not in raw


def test_vault_columns_hold_only_ciphertext_and_blind_indexes(protected):
    _, vault_path = protected
    con = duckdb.connect(str(vault_path), read_only=True)
    try:
        cells = con.execute("SELECT * FROM identities").fetchall() + con.execute("SELECT * FROM post_identities").fetchall()
    finally:
        con.close()
    text = repr(cells).lower()
    for value in PLANTED:
        assert value.lower() not in text


def test_wrong_key_reads_nothing(protected, keys):
    result, vault_path = protected
    wrong = Keys(pseudonym_key=keys.pseudonym_key, pseudonym_key_version="k1", vault_key=b"a-wrong-vault-key-of-32-bytes!!!")
    with IdentityVault(vault_path, wrong, read_only=True) as vault:
        with pytest.raises(VaultDecryptionError):
            vault.identity(result.posts[0].author_pseudo)
        assert vault.find_by_handle("mastodon", "@zorglub42") == []


def test_ciphertext_moved_to_another_row_does_not_decrypt(keys, tmp_path):
    with IdentityVault(tmp_path / "vault.duckdb", keys) as vault:
        for pseudo, handle in (("k1-a", "@soan"), ("k1-b", "@ilyana")):
            vault.store_identity(author_pseudo=pseudo, platform="mastodon", handle=handle, display_name=None,
                                 profile_url=None, author_id=None, seen_at=raw_post(0).created_at)
        vault.con.execute("UPDATE identities SET handle = (SELECT handle FROM identities WHERE author_pseudo = 'k1-a') WHERE author_pseudo = 'k1-b'")
        assert vault.identity("k1-a").handle == "@soan"
        with pytest.raises(VaultDecryptionError):
            vault.identity("k1-b")


def test_vault_opened_without_keys_can_delete_but_not_read(protected):
    result, vault_path = protected
    with IdentityVault(vault_path, None) as vault:
        with pytest.raises(Exception, match="without keys"):
            vault.identity(result.posts[0].author_pseudo)
        assert vault.delete_authors([result.posts[0].author_pseudo]) == 4  # 3 posts + 1 identity


def test_protect_drops_denylisted_authors_before_storing_anything(keys, tmp_path, redactor):
    posts = [raw_post(0), raw_post(1, handle="@nuitblanche", author_id="555")]
    by_pseudonym = frozenset({author_pseudonym("mastodon", "109876543210", keys)})
    by_handle = frozenset({handle_index("mastodon", "nuitblanche", keys)})
    with IdentityVault(tmp_path / "vault.duckdb", keys) as vault:
        result = protect(posts, keys=keys, vault=vault, redactor=redactor, denylist=by_pseudonym | by_handle)
        assert result.posts == [] and result.dropped_denylisted == 2
        assert vault.counts() == {"identities": 0, "post_identities": 0}


def test_protect_accepts_a_vault_path(keys, tmp_path, redactor):
    result = protect([raw_post(0)], keys=keys, vault=tmp_path / "vault.duckdb", redactor=redactor)
    with IdentityVault(tmp_path / "vault.duckdb", keys, read_only=True) as vault:
        assert vault.identity(result.posts[0].author_pseudo).handle == "@zorglub42"
