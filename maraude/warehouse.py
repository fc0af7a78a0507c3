"""DuckDB warehouse: connections with lock retry, versioned migrations from sql/, audit log.

DuckDB lets one process hold a database file for writing at a time; a second process (even a
read-only one) gets ``Could not set lock on file``. Writers therefore keep transactions short and
retry the lock with backoff; readers (outreach, evaluators) use the read-only snapshot that
:func:`publish_read_copy` refreshes after each scoring run.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from maraude.settings import REPO_ROOT, get_settings

SQL_DIR = REPO_ROOT / "sql"
LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


class WarehouseBusy(RuntimeError):
    """The warehouse stayed locked by another process for longer than the retry budget."""


class MigrationError(RuntimeError):
    """A table file in sql/ changed after it was applied; add a new numbered file instead."""


def _is_lock_error(error: Exception) -> bool:
    return any(marker in str(error) for marker in LOCK_MARKERS)


def open_connection(
    path: str | os.PathLike | None = None,
    *,
    read_only: bool = False,
    timeout_s: float = 60.0,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (default ``var/warehouse.duckdb``), retrying while another process holds the lock."""
    target = Path(path) if path else get_settings().warehouse_path
    if not read_only:
        target.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(target), read_only=read_only)
        except (duckdb.IOException, duckdb.ConnectionException) as error:
            if not _is_lock_error(error) or time.monotonic() > deadline:
                if _is_lock_error(error):
                    raise WarehouseBusy(
                        f"{target} stayed locked by another process for {timeout_s:.0f}s; "
                        "read from the read-only copy (var/warehouse_read.duckdb) while DAGs write"
                    ) from error
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 2.0)


@contextlib.contextmanager
def connect(
    path: str | os.PathLike | None = None, *, read_only: bool = False, timeout_s: float = 60.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around :func:`open_connection` that always closes (and so releases the lock)."""
    con = open_connection(path, read_only=read_only, timeout_s=timeout_s)
    try:
        yield con
    finally:
        con.close()


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def migrate(path: str | os.PathLike | None = None) -> list[str]:
    """Apply the files of sql/ in order; returns the names applied now.

    Table files (``NNN_*.sql`` below 900) run once and are recorded with their checksum: editing one
    after it ran raises :class:`MigrationError`. View files (900 and up) are ``CREATE OR REPLACE`` and
    re-run every time, so a changed view takes effect on the next migration.
    """
    applied_now: list[str] = []
    with connect(path) as con:
        con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name VARCHAR PRIMARY KEY, checksum VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        done = dict(con.execute("SELECT name, checksum FROM schema_migrations").fetchall())
        for file in sorted(SQL_DIR.glob("*.sql")):
            sql = file.read_text(encoding="utf-8")
            is_view = int(file.name.split("_", 1)[0]) >= 900
            if file.name in done and not is_view:
                if done[file.name] != _checksum(sql):
                    raise MigrationError(
                        f"sql/{file.name} changed after it was applied; put the change in a new numbered file"
                    )
                continue
            con.execute("BEGIN TRANSACTION")
            con.execute(sql)
            con.execute(
                "INSERT OR REPLACE INTO schema_migrations VALUES (?, ?, ?)",
                [file.name, _checksum(sql), datetime.now(timezone.utc)],
            )
            con.execute("COMMIT")
            if file.name not in done:
                applied_now.append(file.name)
    return applied_now


def current_actor() -> str:
    """Who is acting: ``$MARAUDE_ACTOR`` (set by the deployment), else the system user."""
    return os.environ.get("MARAUDE_ACTOR") or getpass.getuser()


def audit(
    con: duckdb.DuckDBPyConnection,
    *,
    action: str,
    target: str | None = None,
    reason: str | None = None,
    details: dict | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one row to ``audit_log``. ``details`` must hold counts and ids, never raw identities."""
    con.execute(
        "INSERT INTO audit_log (occurred_at, actor, action, target, reason, details) VALUES (?, ?, ?, ?, ?, ?)",
        [
            at or datetime.now(timezone.utc),
            actor or current_actor(),
            action,
            target,
            reason,
            json.dumps(details, default=str, ensure_ascii=False) if details is not None else None,
        ],
    )


def publish_read_copy(path: str | os.PathLike | None = None, copy_path: str | os.PathLike | None = None) -> Path:
    """Refresh the read-only snapshot readers use while DAGs write, atomically (copy then rename)."""
    settings = get_settings()
    source = Path(path) if path else settings.warehouse_path
    target = Path(copy_path) if copy_path else source.with_name(source.stem + "_read.duckdb")
    with connect(source) as con:
        # A checkpoint folds the WAL into the file, so the copied file is complete on its own.
        con.execute("CHECKPOINT")
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target
