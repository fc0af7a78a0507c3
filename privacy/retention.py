"""Retention: delete what the policy (privacy/retention_policy.yaml) no longer allows us to keep.

Run daily by the ``maraude_retention`` DAG with the run's logical date as ``as_of`` (never the
wall clock, so a rerun of the same date purges the same things). Each rule runs in its own short
transaction on the warehouse; the vault is then pruned to what the warehouse still needs; the counts
go to ``audit_log``. The purge never needs the vault key: it only deletes rows.

A flagged post is one with a row in ``predictions`` whose ``flagged_labels`` is not empty.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from maraude.warehouse import audit, connect
from privacy.vault import IdentityVault

POLICY_PATH = Path(__file__).resolve().parent / "retention_policy.yaml"

_FLAGGED = (
    "EXISTS (SELECT 1 FROM predictions r WHERE r.post_uid = posts.post_uid AND len(r.flagged_labels) > 0)"
)


@dataclass(frozen=True)
class RetentionPolicy:
    """Durations in days; see retention_policy.yaml for what each one governs."""

    version: int = 1
    unflagged_post_text_days: int = 5
    unflagged_post_days: int = 30
    quarantine_days: int = 30
    inactive_case_days: int = 365

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"retention policy: {item.name} must be a non-negative integer of days")
        if self.unflagged_post_text_days > self.unflagged_post_days:
            raise ValueError("retention policy: a post's text cannot outlive its row")

    def post_retention_until(self, collected_at: datetime) -> datetime:
        """``posts.retention_until`` for a post collected at ``collected_at`` (unless it gets flagged,
        in which case its case decides)."""
        return collected_at + timedelta(days=self.unflagged_post_days)

    def quarantine_retention_until(self, quarantined_at: datetime) -> datetime:
        """``quarantine.retention_until`` for a record rejected at ``quarantined_at``."""
        return quarantined_at + timedelta(days=self.quarantine_days)

    def case_retention_until(self, last_seen: datetime) -> datetime:
        """``cases.retention_until`` for a case whose last flagged post is from ``last_seen``."""
        return last_seen + timedelta(days=self.inactive_case_days)


def load_policy(path: str | os.PathLike | None = None) -> RetentionPolicy:
    """The policy from ``path`` (default: privacy/retention_policy.yaml); unknown keys are errors."""
    source = Path(path) if path else POLICY_PATH
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    known = {item.name for item in fields(RetentionPolicy)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{source}: unknown retention settings {unknown}; known: {sorted(known)}")
    return RetentionPolicy(**data)


def run_retention(
    warehouse_path: str | os.PathLike,
    vault_path: str | os.PathLike,
    *,
    as_of: datetime,
    policy: RetentionPolicy | None = None,
    actor: str = "maraude_retention",
) -> dict[str, int]:
    """Apply ``policy`` (default: the policy file) as of ``as_of``; returns the rows removed per rule."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (the warehouse stores TIMESTAMPTZ)")
    policy = policy or load_policy()
    text_cutoff = as_of - timedelta(days=policy.unflagged_post_text_days)
    post_cutoff = as_of - timedelta(days=policy.unflagged_post_days)
    quarantine_cutoff = as_of - timedelta(days=policy.quarantine_days)
    case_cutoff = as_of - timedelta(days=policy.inactive_case_days)
    counts: dict[str, int] = {}

    with connect(warehouse_path) as con:

        def step(name: str, *statements: tuple[str, list]) -> None:
            con.execute("BEGIN TRANSACTION")
            try:
                for label, (sql, params) in zip(name.split("+"), statements):
                    counts[label] = int(con.execute(sql, params).fetchone()[0])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

        step(
            "texts_erased",
            (
                f"UPDATE posts SET text_redacted = NULL WHERE text_redacted IS NOT NULL"
                f" AND collected_at <= ? AND NOT {_FLAGGED}",
                [text_cutoff],
            ),
        )
        step(
            "predictions_deleted+posts_deleted",
            (
                "DELETE FROM predictions WHERE len(flagged_labels) = 0 AND post_uid IN (SELECT post_uid FROM posts"
                f" WHERE (collected_at <= ? OR retention_until <= ?) AND NOT {_FLAGGED})",
                [post_cutoff, as_of],
            ),
            (f"DELETE FROM posts WHERE (collected_at <= ? OR retention_until <= ?) AND NOT {_FLAGGED}", [post_cutoff, as_of]),
        )
        step(
            "quarantine_deleted",
            ("DELETE FROM quarantine WHERE quarantined_at <= ? OR retention_until <= ?", [quarantine_cutoff, as_of]),
        )
        expired_cases = "SELECT case_id FROM cases WHERE last_seen <= ? OR retention_until <= ?"
        expired_authors = "SELECT author_pseudo FROM cases WHERE last_seen <= ? OR retention_until <= ?"
        step(
            "review_notes_erased+case_predictions_deleted+case_posts_deleted+cases_purged",
            (f"UPDATE reviews SET note = NULL WHERE note IS NOT NULL AND case_id IN ({expired_cases})", [case_cutoff, as_of]),
            (
                "DELETE FROM predictions WHERE post_uid IN (SELECT post_uid FROM posts"
                f" WHERE author_pseudo IN ({expired_authors}))",
                [case_cutoff, as_of],
            ),
            (f"DELETE FROM posts WHERE author_pseudo IN ({expired_authors})", [case_cutoff, as_of]),
            ("DELETE FROM cases WHERE last_seen <= ? OR retention_until <= ?", [case_cutoff, as_of]),
        )
        # Flagged posts whose author never got a case (or lost it) age out like an inactive case.
        step(
            "caseless_flagged_posts_deleted",
            (
                "DELETE FROM posts WHERE collected_at <= ? AND author_pseudo NOT IN (SELECT author_pseudo FROM cases)",
                [case_cutoff],
            ),
        )
        step(
            "orphan_predictions_deleted",
            ("DELETE FROM predictions WHERE post_uid NOT IN (SELECT post_uid FROM posts)", []),
        )
        # What the vault may still hold: identities of people with a case or with a post whose text
        # is still kept (not yet scored, or flagged), and the URLs of those posts only.
        keep_authors = [
            row[0]
            for row in con.execute(
                "SELECT author_pseudo FROM cases UNION SELECT author_pseudo FROM posts WHERE text_redacted IS NOT NULL"
            ).fetchall()
        ]
        keep_posts = [row[0] for row in con.execute("SELECT post_uid FROM posts WHERE text_redacted IS NOT NULL").fetchall()]

    if Path(vault_path).exists():
        with IdentityVault(vault_path, None) as vault:
            counts.update(vault.prune(keep_authors=keep_authors, keep_posts=keep_posts))
    else:
        counts.update({"vault_identities_deleted": 0, "vault_posts_deleted": 0})

    with connect(warehouse_path) as con:
        audit(
            con,
            action="retention",
            target=f"policy v{policy.version}",
            reason="retention policy (privacy/retention_policy.yaml)",
            details={"as_of": as_of.isoformat(), **counts},
            actor=actor,
            at=as_of,
        )
    return counts
