"""Retention: the policy's durations enforced as of a controlled date, counted and audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from privacy_fixtures import T0, insert_case, insert_post, insert_review

from maraude.warehouse import connect
from privacy.keys import load_keys
from privacy.retention import RetentionPolicy, load_policy, run_retention
from privacy.vault import IdentityVault

AS_OF = T0 + timedelta(days=400)


@pytest.fixture
def seeded(warehouse_path, tmp_path, test_keys):
    """Posts of every age and status, two cases (one inactive for over a year), their vault entries."""
    day = lambda n: AS_OF - timedelta(days=n)  # noqa: E731
    with connect(warehouse_path) as con:
        insert_post(con, "fresh-unflagged", "k1-alice", day(2), flagged=False)
        insert_post(con, "old-unflagged", "k1-alice", day(10), flagged=False)
        insert_post(con, "stale-unflagged", "k1-bob", day(40), flagged=False)
        insert_post(con, "live-flagged", "k1-carol", day(40), flagged=True)
        insert_post(con, "dead-flagged", "k1-dave", day(380), flagged=True)
        insert_post(con, "unscored", "k1-erin", day(1), flagged=None)
        insert_case(con, "case-carol", "k1-carol", day(40))
        insert_case(con, "case-dave", "k1-dave", day(380))
        insert_review(con, "case-dave", day(370))
        con.execute(
            "INSERT INTO quarantine (stage, reason, quarantined_at, retention_until) VALUES"
            " ('collect', 'old', ?, ?), ('collect', 'new', ?, ?)",
            [day(31), day(1), day(1), day(-29)],
        )
    vault_path = tmp_path / "vault.duckdb"
    with IdentityVault(vault_path, load_keys()) as vault:
        for author in ("alice", "bob", "carol", "dave", "erin"):
            vault.store_identity(author_pseudo=f"k1-{author}", platform="mastodon", handle=f"@{author}99",
                                 display_name=None, profile_url=None, author_id=None, seen_at=T0)
        for uid, author in (("fresh-unflagged", "alice"), ("old-unflagged", "alice"), ("stale-unflagged", "bob"),
                            ("live-flagged", "carol"), ("dead-flagged", "dave"), ("unscored", "erin")):
            vault.store_post(post_uid=uid, author_pseudo=f"k1-{author}", platform="mastodon",
                             post_url=f"https://mastodon.example.org/@{author}99/1", post_id="1", created_at=T0)
    return warehouse_path, vault_path


def test_policy_file_holds_the_cnil_scheme_defaults():
    policy = load_policy()
    assert (policy.unflagged_post_text_days, policy.unflagged_post_days, policy.quarantine_days, policy.inactive_case_days) == (5, 30, 30, 365)
    assert policy.post_retention_until(T0) == T0 + timedelta(days=30)


def test_policy_with_unknown_setting_is_refused(tmp_path):
    (tmp_path / "policy.yaml").write_text("unflagged_post_days: 30\nkeep_forever: true\n")
    with pytest.raises(ValueError, match="keep_forever"):
        load_policy(tmp_path / "policy.yaml")


def test_retention_applies_each_rule_as_of_the_given_date(seeded):
    warehouse_path, vault_path = seeded
    counts = run_retention(warehouse_path, vault_path, as_of=AS_OF)
    with connect(warehouse_path, read_only=True) as con:
        posts = dict(con.execute("SELECT post_uid, text_redacted FROM posts").fetchall())
        cases = [row[0] for row in con.execute("SELECT case_id FROM cases").fetchall()]
        predictions = {row[0] for row in con.execute("SELECT post_uid FROM predictions").fetchall()}
        reviews = con.execute("SELECT case_id, decision, note FROM reviews").fetchall()
        quarantine = [row[0] for row in con.execute("SELECT reason FROM quarantine").fetchall()]
    assert posts == {"fresh-unflagged": "je suis seule", "old-unflagged": None, "live-flagged": "je suis seule", "unscored": "je suis seule"}
    assert cases == ["case-carol"]
    assert predictions == {"fresh-unflagged", "old-unflagged", "live-flagged"}
    assert reviews == [("case-dave", "watch", None)]  # the decision stays, the free text goes
    assert quarantine == ["new"]
    assert counts["texts_erased"] == 2 and counts["posts_deleted"] == 1 and counts["cases_purged"] == 1
    assert counts["case_posts_deleted"] == 1 and counts["quarantine_deleted"] == 1 and counts["review_notes_erased"] == 1

    with IdentityVault(vault_path, None, read_only=True) as vault:
        assert vault.author_pseudos() == {"k1-alice", "k1-carol", "k1-erin"}
        assert vault.post_uids() == {"fresh-unflagged", "live-flagged", "unscored"}
    assert counts["vault_identities_deleted"] == 2 and counts["vault_posts_deleted"] == 3


def test_retention_is_audited_with_counts_and_rerun_removes_nothing_more(seeded):
    warehouse_path, vault_path = seeded
    first = run_retention(warehouse_path, vault_path, as_of=AS_OF)
    second = run_retention(warehouse_path, vault_path, as_of=AS_OF)
    assert sum(first.values()) > 0 and sum(second.values()) == 0
    with connect(warehouse_path, read_only=True) as con:
        rows = con.execute('SELECT actor, action, occurred_at, details FROM audit_log ORDER BY audit_id').fetchall()
    assert [row[1] for row in rows] == ["retention", "retention"]
    assert rows[0][0] == "maraude_retention" and rows[0][2] == AS_OF
    assert json.loads(rows[0][3])["texts_erased"] == 2


def test_shorter_policy_purges_earlier(seeded):
    warehouse_path, vault_path = seeded
    strict = RetentionPolicy(unflagged_post_text_days=1, unflagged_post_days=1, quarantine_days=1, inactive_case_days=30)
    counts = run_retention(warehouse_path, vault_path, as_of=AS_OF, policy=strict)
    assert counts["cases_purged"] == 2
    assert counts["posts_deleted"] == 4  # not yet scored counts as not flagged


def test_retention_refuses_a_naive_date(seeded):
    warehouse_path, vault_path = seeded
    with pytest.raises(ValueError, match="timezone"):
        run_retention(warehouse_path, vault_path, as_of=AS_OF.replace(tzinfo=None))
