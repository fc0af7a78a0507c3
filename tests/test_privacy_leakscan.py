"""Leak scanning finds planted values in any file and spelling, and nothing in clean ones."""

from __future__ import annotations

import gzip
import sqlite3

import duckdb
from privacy_fixtures import raw_post, redactor  # noqa: F401 - fixture

from privacy.keys import load_keys
from privacy.leakscan import scan_duckdb, scan_paths
from privacy.protect import protect

PLANTED = ["06 39 98 12 34", "soan.kerdoncuff@example.org", "@zorglub42", "Maëlys Kerdoncuff"]


def test_scan_finds_phone_numbers_in_any_spelling(tmp_path):
    for index, spelling in enumerate(["0639981234", "+33 6 39 98 12 34", "06.39.98.12.34", "0033639981234"]):
        (tmp_path / f"log{index}.txt").write_text(f"task log ... {spelling} ...")
    hits = scan_paths([tmp_path], ["06 39 98 12 34"])
    assert len({hit.path for hit in hits}) == 4


def test_scan_finds_values_lowercased_unaccented_and_escaped(tmp_path):
    (tmp_path / "a.json").write_text('{"name": "maelys kerdoncuff"}')
    (tmp_path / "b.json").write_text('{"name": "Ma\\u00eblys Kerdoncuff"}')
    (tmp_path / "c.log").write_text("GET /?q=soan.kerdoncuff%40example.org")
    (tmp_path / "d.log.gz").write_bytes(gzip.compress(b"user ZORGLUB42 logged"))
    found = {(hit.path.rsplit("/", 1)[1], hit.value) for hit in scan_paths([tmp_path], PLANTED)}
    assert found == {
        ("a.json", "Maëlys Kerdoncuff"), ("b.json", "Maëlys Kerdoncuff"),
        ("c.log", "soan.kerdoncuff@example.org"), ("d.log.gz", "@zorglub42"),
    }


def test_scan_reads_duckdb_columns_even_when_compressed(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (id INTEGER, note VARCHAR, tags VARCHAR[], extra JSON)")
    con.execute("INSERT INTO t SELECT i, 'note ' || i, ['x'], NULL FROM range(5000) r(i)")
    con.execute("INSERT INTO t VALUES (9999, 'rien', ['@zorglub42'], '{\"mail\": \"soan.kerdoncuff@example.org\"}')")
    con.close()
    hits = scan_duckdb(path, PLANTED)
    assert {(hit.where.split(" ")[0], hit.value) for hit in hits} == {
        ("t.tags", "@zorglub42"), ("t.extra", "soan.kerdoncuff@example.org"),
    }
    assert {hit.value for hit in scan_paths([path], PLANTED)} >= {"@zorglub42", "soan.kerdoncuff@example.org"}


def test_scan_reads_sqlite_files(tmp_path):
    path = tmp_path / "airflow.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE xcom (value TEXT)")
    con.execute("INSERT INTO xcom VALUES ('appelle le 06-39-98-12-34')")
    con.commit()
    con.close()
    assert {hit.value for hit in scan_paths([path], PLANTED)} == {"06 39 98 12 34"}


def test_scan_finds_nothing_in_clean_files(tmp_path):
    (tmp_path / "clean.txt").write_text("je suis seul, appelle le 3114, <TEL> <PERSONNE>")
    assert scan_paths([tmp_path], PLANTED) == []


def test_vault_and_redacted_output_leak_nothing(tmp_path, test_keys, redactor):
    keys = load_keys()
    result = protect([raw_post(i) for i in range(3)], keys=keys, vault=tmp_path / "vault.duckdb", redactor=redactor)
    (tmp_path / "posts.txt").write_text("\n".join(post.text_redacted for post in result.posts))
    planted = ["@zorglub42", "Maëlys Kerdoncuff", "109876543210", "06 39 98 00 01", "https://mastodon.example.org/@zorglub42"]
    assert scan_paths([tmp_path], planted) == []


def test_scan_matches_short_values_as_whole_words_only(tmp_path):
    (tmp_path / "a.txt").write_text("forêt de Fontainebleau, Bléau")  # "lea" and "léa" inside words
    (tmp_path / "b.txt").write_text("vu avec Léa hier")
    assert [hit.path.rsplit("/", 1)[1] for hit in scan_paths([tmp_path], ["Léa"])] == ["b.txt"]
