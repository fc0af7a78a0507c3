"""Leak scanning: search files and databases for personal data planted in test fixtures.

The end-to-end privacy test runs the DAGs on fixtures full of planted (fictional) identities, then
calls :func:`scan_paths` on everything the run left behind (warehouse, read-only copy, Airflow's
SQLite metadata and logs, staging): any hit is a leak. The identity vault is the one place planted
values may rest, and only encrypted: scanning it must find nothing either.

Values are searched in their common variants: lowercase, without accents, JSON- and URL-escaped,
UTF-16, and for phone numbers any separators and the +33 / 0033 forms. DuckDB compresses strings
in its files, so a byte search can miss them: DuckDB files are also read column by column.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import sqlite3
import tempfile
import unicodedata
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_DUCKDB_MAGIC = b"DUCK"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_TEXT_TYPES = ("VARCHAR", "JSON", "BLOB", "[]", "STRUCT", "MAP", "UNION")


@dataclass(frozen=True)
class Hit:
    """One planted value found: where (file, and table.column or byte offset) and in which form."""

    path: str
    value: str
    variant: str
    where: str


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")


def _phone_digits(value: str) -> str | None:
    """National significant digits of a French phone number ("639981234"), or None if not one."""
    digits = re.sub(r"\D", "", value)
    if value.strip().startswith("+33") and len(digits) == 11:
        return digits[2:]
    if digits.startswith("0033") and len(digits) == 13:
        return digits[4:]
    if digits.startswith("0") and len(digits) == 10:
        return digits[1:]
    return None


def phone_pattern(value: str) -> re.Pattern[bytes] | None:
    """Bytes regex matching a French number in any spelling: separators, +33, 0033, (0)."""
    national = _phone_digits(value)
    if national is None:
        return None
    separator = rb"[\s.\-/_]{0,3}"
    body = separator.join(re.escape(d.encode()) for d in national)
    return re.compile(rb"(?<!\d)(?:0|\+\s?33\s?(?:\(0\)\s?)?|0033\s?(?:\(0\)\s?)?)" + separator + body + rb"(?!\d)")


def variants(value: str) -> dict[str, str]:
    """The spellings of ``value`` worth searching, by name (all lowercase: search lowercased data)."""
    lower = value.lower()
    forms = {
        "as written": lower,
        "no accents": _strip_accents(lower),
        "json escaped": json.dumps(lower)[1:-1],
        "url encoded": urllib.parse.quote(lower, safe="").lower(),
        "url encoded (plus)": urllib.parse.quote_plus(lower).lower(),
        "no spaces": re.sub(r"\s+", "", lower),
    }
    if lower.startswith("@"):
        forms["without @"] = lower[1:]
    seen: dict[str, str] = {}
    for name, form in forms.items():
        if form and form not in seen.values():
            seen[name] = form
    return seen


def _finder(needle: bytes):
    """Search function for ``needle`` in lowercased bytes. Short values ("léa", "93") only count as
    whole words, or they would be found inside every other word."""
    if len(needle) >= 5:
        return lambda data: data.find(needle)
    pattern = re.compile(rb"(?<![a-z0-9])" + re.escape(needle) + rb"(?![a-z0-9])")

    def find(data: bytes) -> int:
        match = pattern.search(data)
        return match.start() if match else -1

    return find


def _search_bytes(data: bytes, planted: Iterable[str], path: str, where_prefix: str = "") -> list[Hit]:
    lowered = data.lower()
    hits = []
    for value in planted:
        pattern = phone_pattern(value)
        if pattern is not None:
            match = pattern.search(data)
            if match:
                hits.append(Hit(path, value, "phone (any spelling)", f"{where_prefix}byte {match.start()}"))
            continue
        for name, form in variants(value).items():
            found = False
            for encoding, label in (("utf-8", ""), ("utf-16-le", ", utf-16")):
                position = _finder(form.encode(encoding))(lowered)
                if position >= 0:
                    hits.append(Hit(path, value, name + label, f"{where_prefix}byte {position}"))
                    found = True
                    break
            if found:
                break
    return hits


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError):
            return data
    return data


def scan_duckdb(path: str | os.PathLike, planted_values: Iterable[str]) -> list[Hit]:
    """Read every text-like column (VARCHAR, JSON, BLOB, lists, structs) of every table and view of a
    DuckDB file and search it for the planted values. Works on a copy, so a file locked by a
    running writer can be scanned too."""
    import duckdb

    planted = list(planted_values)
    source = Path(path)
    hits: list[Hit] = []
    with tempfile.TemporaryDirectory(prefix="maraude-leakscan-") as tmp:
        copy = Path(tmp) / "scan.duckdb"
        shutil.copyfile(source, copy)
        wal = source.with_name(source.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        con = duckdb.connect(str(copy))
        try:
            columns = con.execute(
                "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns"
                " WHERE table_catalog = current_database()"
            ).fetchall()
            for schema, table, column, data_type in columns:
                if not any(marker in data_type.upper() for marker in _TEXT_TYPES):
                    continue
                expression = f'CAST("{column}" AS VARCHAR)' if "BLOB" not in data_type.upper() else f'"{column}"'
                rows = con.execute(f'SELECT {expression} FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL').fetchall()
                for (cell,) in rows:
                    data = cell if isinstance(cell, bytes) else str(cell).encode("utf-8")
                    hits.extend(_search_bytes(data, planted, str(source), f"{table}.{column} "))
        finally:
            con.close()
    return _unique(hits)


def _scan_sqlite(path: Path, planted: list[str]) -> list[Hit]:
    hits: list[Hit] = []
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        tables = [row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    if isinstance(cell, (str, bytes)):
                        data = cell if isinstance(cell, bytes) else cell.encode("utf-8")
                        hits.extend(_search_bytes(data, planted, str(path), f"{table} "))
    except sqlite3.DatabaseError:
        pass  # a half-written or foreign file: the byte scan below still covers it
    finally:
        con.close()
    return hits


def scan_paths(paths: Iterable[str | os.PathLike], planted_values: Iterable[str]) -> list[Hit]:
    """Search files (walking directories) for planted values: every file as bytes (text or binary,
    gzip decompressed), DuckDB files also column by column, SQLite files also row by row."""
    planted = [value for value in planted_values if value and value.strip()]
    hits: list[Hit] = []
    for root in paths:
        root = Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            data = _read(file)
            hits.extend(_search_bytes(data, planted, str(file)))
            if data[8:12] == _DUCKDB_MAGIC:
                hits.extend(scan_duckdb(file, planted))
            elif data[:16] == _SQLITE_MAGIC:
                hits.extend(_scan_sqlite(file, planted))
    return _unique(hits)


def _unique(hits: list[Hit]) -> list[Hit]:
    seen = set()
    unique = []
    for hit in hits:
        key = (hit.path, hit.value, hit.where.split(" byte")[0])
        if key not in seen:
            seen.add(key)
            unique.append(hit)
    return unique
