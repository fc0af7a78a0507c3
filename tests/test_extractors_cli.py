"""``maraude extract`` and ``maraude bench extract`` over the replay server."""

from __future__ import annotations

import json

import pytest
from extractors_fixtures import ENGLISH, FRENCH, mastodon_corpus

from extractors.replay import Faults, serve
from maraude.cli import main


def test_extract_mastodon_keeps_every_french_post_once_without_identities(tmp_path, test_keys, capsys):
    posts = mastodon_corpus(french=70, english=20)
    out = tmp_path / "out.jsonl"
    with serve(posts, faults=Faults(schedule={2: "429", 4: "503"}, retry_after_s=1)) as url:
        code = main(["extract", "mastodon", "--base-url", url, "--query", "#galere", "-o", str(out)])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 70 and len({r["post_uid"] for r in rows}) == 70
    for row in rows:
        assert {"post_uid", "platform", "author_pseudo", "created_at", "text"} <= row.keys()
        assert not any(sentence[:30] in row["text"] for sentence in ENGLISH)
    written = out.read_text(encoding="utf-8")
    for post in posts:
        assert post.author not in written and post.display_name not in written
    assert any(FRENCH[0][:30] in r["text"] for r in rows)
    assert "429" not in capsys.readouterr().out


def test_extract_help_explains_what_query_means_for_mastodon(capsys):
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    assert "'public' / 'local'" in capsys.readouterr().out


def test_extract_reports_a_stopped_source_with_exit_code_3(tmp_path, test_keys, capsys):
    with serve(mastodon_corpus(2, 0)) as url:
        code = main(["extract", "bluesky", "--base-url", url + "/nowhere", "--query", "taf", "-o", str(tmp_path / "o")])
    assert code == 3
    assert "stopped" in capsys.readouterr().err


def test_extract_drops_people_who_asked_to_be_forgotten(tmp_path, test_keys, monkeypatch):
    from maraude import warehouse
    from maraude.settings import get_settings
    from privacy.keys import load_keys
    from privacy.optout import forget

    monkeypatch.setenv("MARAUDE_HOME", str(tmp_path / "home"))
    settings = get_settings()
    settings.ensure_dirs()
    warehouse.migrate(settings.warehouse_path)
    posts = mastodon_corpus(french=10, english=0)
    forget("mastodon", posts[0].author, keys=load_keys(settings), warehouse_path=settings.warehouse_path,
           vault_path=settings.vault_path)
    out = tmp_path / "out.jsonl"
    with serve(posts) as url:
        assert main(["extract", "mastodon", "--base-url", url, "--query", "#galere", "-o", str(out)]) == 0
    kept = sum(1 for p in posts if p.author == posts[0].author)
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(posts) - kept
