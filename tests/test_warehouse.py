"""The warehouse: migrations, lock handling between processes, the read-only copy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from maraude import warehouse

DESIGN_OBJECTS = {
    "posts", "predictions", "cases", "reviews", "models", "model_metrics", "quality_runs",
    "quarantine", "ingest_state", "audit_log", "review_queue",
}


def test_migrate_creates_every_table_and_view_of_the_design(warehouse_path):
    with warehouse.connect(warehouse_path, read_only=True) as con:
        names = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert DESIGN_OBJECTS <= names


def test_migrate_is_rerunnable_and_applies_nothing_twice(warehouse_path):
    assert warehouse.migrate(warehouse_path) == []


def test_migrate_refuses_a_table_file_edited_after_it_ran(warehouse_path, monkeypatch, tmp_path):
    sql_dir = tmp_path / "sql"
    sql_dir.mkdir()
    for file in warehouse.SQL_DIR.glob("*.sql"):
        (sql_dir / file.name).write_text(file.read_text())
    (sql_dir / "010_posts.sql").write_text((sql_dir / "010_posts.sql").read_text() + "\n-- edited\n")
    monkeypatch.setattr(warehouse, "SQL_DIR", sql_dir)
    with pytest.raises(warehouse.MigrationError, match="010_posts.sql"):
        warehouse.migrate(warehouse_path)


def _hold_lock(path, seconds: float) -> subprocess.Popen:
    """Another process that holds the warehouse open for writing for ``seconds``."""
    code = textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r})
        print("locked", flush=True)
        time.sleep({seconds})
        con.close()
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_writer_waits_for_another_process_lock_then_succeeds(warehouse_path):
    holder = _hold_lock(warehouse_path, 1.5)
    started = time.monotonic()
    with warehouse.connect(warehouse_path, timeout_s=30) as con:
        warehouse.audit(con, action="test_lock", target="warehouse")
    waited = time.monotonic() - started
    holder.wait()
    assert waited > 0.5
    with warehouse.connect(warehouse_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'test_lock'").fetchone()[0] == 1


def test_writer_gives_up_with_a_clear_message_when_the_lock_stays(warehouse_path):
    holder = _hold_lock(warehouse_path, 4)
    try:
        with pytest.raises(warehouse.WarehouseBusy, match="read-only copy"):
            warehouse.open_connection(warehouse_path, timeout_s=0.5)
    finally:
        holder.kill()
        holder.wait()


def test_reader_uses_the_read_copy_while_a_writer_holds_the_warehouse(warehouse_path):
    with warehouse.connect(warehouse_path) as con:
        warehouse.audit(con, action="before_copy")
    copy = warehouse.publish_read_copy(warehouse_path)
    holder = _hold_lock(warehouse_path, 3)
    try:
        with warehouse.connect(copy, read_only=True, timeout_s=1) as con:
            assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1
    finally:
        holder.kill()
        holder.wait()
