"""Keys and keyed pseudonyms: where keys come from, and that pseudonyms are stable but useless without the key."""

from __future__ import annotations

import hashlib
import stat

import pytest

from maraude.settings import get_settings
from privacy.keys import KeyConfigurationError, Keys, generate_key_text, load_keys
from privacy.pseudonym import Pseudonymizer, author_pseudonym, handle_index, post_uid


@pytest.fixture
def key_home(tmp_path):
    """Settings of an empty MARAUDE_HOME (no key file)."""
    return get_settings(tmp_path / "home")


@pytest.fixture
def no_keys(monkeypatch, key_home):
    """No key in the environment either."""
    for name in ("MARAUDE_PSEUDONYM_KEY", "MARAUDE_VAULT_KEY", "MARAUDE_PSEUDONYM_KEY_VERSION", "AIRFLOW_CTX_DAG_ID"):
        monkeypatch.delenv(name, raising=False)
    return key_home


def other_keys() -> Keys:
    return Keys(pseudonym_key=b"another-pseudonym-key-of-32bytes", pseudonym_key_version="k1", vault_key=b"another-vault-key-of-32-bytes!!!")


def test_load_keys_reads_the_environment(test_keys, key_home):
    keys = load_keys(key_home)
    assert keys.pseudonym_key == b"test-pseudonym-key-32-bytes-long"
    assert keys.vault_key == b"test-vault-key-is-32-bytes-long!"
    assert keys.pseudonym_key_version == "k1"


def test_load_keys_without_any_key_says_how_to_configure_one(no_keys):
    with pytest.raises(KeyConfigurationError, match="MARAUDE_PSEUDONYM_KEY.*maraude_pseudonym_key.*pseudonym.key"):
        load_keys(no_keys)


def test_load_keys_create_writes_private_key_files_once(no_keys):
    created = load_keys(no_keys, create=True)
    for name in ("pseudonym.key", "vault.key"):
        assert stat.S_IMODE((no_keys.secrets_dir / name).stat().st_mode) == 0o600
    assert load_keys(no_keys) == created  # the files are read back, not regenerated
    assert load_keys(no_keys, create=True) == created


def test_airflow_variables_are_read_only_inside_a_task(no_keys, monkeypatch):
    monkeypatch.setenv("AIRFLOW_VAR_MARAUDE_PSEUDONYM_KEY", generate_key_text())
    monkeypatch.setenv("AIRFLOW_VAR_MARAUDE_VAULT_KEY", generate_key_text())
    with pytest.raises(KeyConfigurationError):
        load_keys(no_keys)  # parsing a DAG or running a CLI: Variables are not consulted
    monkeypatch.setenv("AIRFLOW_CTX_DAG_ID", "maraude_collect")
    keys = load_keys(no_keys)
    assert len(keys.pseudonym_key) == 32


def test_malformed_or_short_key_is_refused_without_echoing_it(no_keys, monkeypatch):
    monkeypatch.setenv("MARAUDE_PSEUDONYM_KEY", "c2hvcnQ=")
    monkeypatch.setenv("MARAUDE_VAULT_KEY", generate_key_text())
    with pytest.raises(KeyConfigurationError) as error:
        load_keys(no_keys)
    assert "c2hvcnQ" not in str(error.value) and "MARAUDE_PSEUDONYM_KEY" in str(error.value)


def test_keys_repr_hides_the_secrets(test_keys, key_home):
    assert "test-pseudonym" not in repr(load_keys(key_home))


def test_pseudonyms_are_stable_version_prefixed_and_keyed(test_keys, key_home):
    keys = load_keys(key_home)
    first = author_pseudonym("mastodon", "109876543210", keys)
    assert first == author_pseudonym("Mastodon", "109876543210", keys)
    assert first.startswith("k1-") and len(first) == 35
    assert first != author_pseudonym("mastodon", "109876543210", other_keys())
    assert first != author_pseudonym("bluesky", "109876543210", keys)
    assert post_uid("mastodon", "109876543210", keys) != first  # posts and accounts never collide


def test_pseudonym_cannot_be_recomputed_from_the_identifier_without_the_key(test_keys, key_home):
    keys = load_keys(key_home)
    pseudo = author_pseudonym("mastodon", "zorglub42", keys)
    digest = pseudo.split("-", 1)[1]
    for guess in ("zorglub42", "mastodon:zorglub42", "mastodon\x1fzorglub42", "author\x1fmastodon\x1fzorglub42"):
        assert hashlib.sha256(guess.encode()).hexdigest()[:32] != digest
    assert "zorglub" not in pseudo


def test_key_version_rotation_changes_the_prefix_and_the_value(no_keys, monkeypatch):
    monkeypatch.setenv("MARAUDE_PSEUDONYM_KEY", generate_key_text())
    monkeypatch.setenv("MARAUDE_VAULT_KEY", generate_key_text())
    monkeypatch.setenv("MARAUDE_PSEUDONYM_KEY_VERSION", "k2")
    assert author_pseudonym("reddit", "t2_abc", load_keys(no_keys)).startswith("k2-")


def test_handle_index_ignores_spelling_and_survives_pseudonym_key_rotation(test_keys, key_home):
    keys = load_keys(key_home)
    rotated = Keys(pseudonym_key=b"rotated-pseudonym-key-of-32bytes", pseudonym_key_version="k2", vault_key=keys.vault_key)
    assert handle_index("bluesky", "@PetitLoup.bsky.social", keys) == handle_index("bluesky", "petitloup.bsky.social", rotated)
    assert Pseudonymizer(keys).handle_index("bluesky", "petitloup.bsky.social").startswith("bi1-")
