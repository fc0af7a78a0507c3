"""Forget (erasure + denylist) and reveal (reason required, audited, values never in the audit)."""

from __future__ import annotations

import json

import pytest
from privacy_fixtures import T0, insert_case, insert_post, insert_review, raw_post, redactor  # noqa: F401 - fixture

from maraude.cli import main
from maraude.warehouse import connect
from privacy.keys import load_keys
from privacy.optout import forget, load_denylist
from privacy.protect import protect
from privacy.reveal import RevealRefused, reveal
from privacy.vault import IdentityVault

HANDLE = "@zorglub42"
IDENTITY_VALUES = ["zorglub42", "Kerdoncuff", "109876543210", "mastodon.example.org"]


@pytest.fixture
def collected(warehouse_path, test_keys, redactor):
    """Two posts of one fictional account landed in the warehouse, flagged, with a case and a review."""
    keys = load_keys()
    vault_path = warehouse_path.with_name("vault.duckdb")
    with IdentityVault(vault_path, keys) as vault:
        clean = protect([raw_post(0), raw_post(1)], keys=keys, vault=vault, redactor=redactor).posts
    author = clean[0].author_pseudo
    with connect(warehouse_path) as con:
        for post in clean:
            insert_post(con, post.post_uid, author, T0, flagged=True, text=post.text_redacted)
        insert_case(con, "case-1", author, T0)
        insert_review(con, "case-1", T0)
    return keys, warehouse_path, vault_path, author


def audit_rows(warehouse_path):
    with connect(warehouse_path, read_only=True) as con:
        return con.execute("SELECT actor, action, target, reason, details FROM audit_log ORDER BY audit_id").fetchall()


def test_reveal_refuses_without_a_real_reason(collected):
    keys, warehouse_path, vault_path, _ = collected
    for reason in (None, "", "   ", "parce que"):
        with pytest.raises(RevealRefused, match="reason"):
            reveal("case-1", reason=reason, keys=keys, warehouse_path=warehouse_path, vault_path=vault_path)
    assert audit_rows(warehouse_path) == []


def test_reveal_returns_identity_and_audits_who_when_why_without_the_values(collected):
    keys, warehouse_path, vault_path, author = collected
    result = reveal("case-1", reason="détresse signalée, contact par l'équipe de nuit", keys=keys,
                    warehouse_path=warehouse_path, vault_path=vault_path, actor="educ1")
    assert result.identity.handle == HANDLE
    assert result.post_urls == [f"https://mastodon.example.org/{HANDLE}/11100{i:04d}" for i in range(2)]
    [(actor, action, target, reason, details)] = audit_rows(warehouse_path)
    assert (actor, action, target) == ("educ1", "reveal", "case-1")
    assert reason == "détresse signalée, contact par l'équipe de nuit"
    assert json.loads(details) == {"author_pseudo": author, "post_urls": 2}
    for value in IDENTITY_VALUES:
        assert value.lower() not in repr(audit_rows(warehouse_path)).lower()


def test_reveal_command_prints_handle_and_urls_and_refuses_without_reason(collected, capsys):
    _, warehouse_path, _, _ = collected
    assert main(["reveal", "case-1", "--warehouse", str(warehouse_path)]) == 2
    assert "reason" in capsys.readouterr().err
    assert main(["reveal", "case-1", "--reason", "orientation vers la Mission Locale", "--warehouse", str(warehouse_path)]) == 0
    out = capsys.readouterr().out
    assert HANDLE in out and f"https://mastodon.example.org/{HANDLE}/111000001" in out


def test_forget_erases_the_person_everywhere_and_denylists_them(collected):
    keys, warehouse_path, vault_path, author = collected
    result = forget("mastodon", "ZORGLUB42", keys=keys, warehouse_path=warehouse_path, vault_path=vault_path, actor="dpo")
    assert author in result.pseudonyms
    assert (result.counts["posts"], result.counts["predictions"], result.counts["cases"], result.counts["reviews"]) == (2, 2, 1, 1)
    with connect(warehouse_path, read_only=True) as con:
        for table in ("posts", "predictions", "cases", "reviews"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
        denylist = load_denylist(con)
    assert author in denylist and any(entry.startswith("bi1-") for entry in denylist)
    with IdentityVault(vault_path, keys, read_only=True) as vault:
        assert vault.counts() == {"identities": 0, "post_identities": 0}
    [(actor, action, _, _, details)] = audit_rows(warehouse_path)
    assert (actor, action) == ("dpo", "forget") and author in details
    for value in IDENTITY_VALUES:
        assert value.lower() not in repr(audit_rows(warehouse_path)).lower()


def test_forgotten_person_is_not_collected_again(collected, redactor):
    keys, warehouse_path, vault_path, _ = collected
    forget("mastodon", HANDLE, keys=keys, warehouse_path=warehouse_path, vault_path=vault_path)
    with connect(warehouse_path, read_only=True) as con:
        denylist = load_denylist(con)
    with IdentityVault(vault_path, keys) as vault:
        result = protect([raw_post(5)], keys=keys, vault=vault, redactor=redactor, denylist=denylist)
    assert result.posts == [] and result.dropped_denylisted == 1


def test_forget_someone_never_collected_still_blocks_their_handle(warehouse_path, test_keys, redactor, capsys):
    assert main(["forget", "bluesky", "petitloup.bsky.social", "--warehouse", str(warehouse_path)]) == 0
    assert "denylisted" in capsys.readouterr().out
    keys = load_keys()
    with connect(warehouse_path, read_only=True) as con:
        denylist = load_denylist(con)
    newcomer = raw_post(0, platform="bluesky", handle="@PetitLoup.bsky.social", author_id="did:plc:fictional0001")
    result = protect([newcomer], keys=keys, vault=warehouse_path.with_name("vault.duckdb"), redactor=redactor, denylist=denylist)
    assert result.dropped_denylisted == 1
    assert "petitloup" not in repr(audit_rows(warehouse_path)).lower()
