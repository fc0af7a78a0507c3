"""Source files, credentials from Airflow Connections, platform discovery, language detection."""

from __future__ import annotations

import json

import pytest
from extractors_fixtures import REPO_ROOT

from extractors.base import CredentialsError
from extractors.credentials import ANONYMOUS, resolve
from extractors.language import detect, is_french
from extractors.platforms import platform_names
from extractors.sources import SourceConfig, SourceConfigError, load_sources

GOOD = """
sources:
  - name: m1
    platform: mastodon
    base_url: https://example.org
    params: {hashtag: galere}
    limit: 10
"""


def write(tmp_path, text):
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_platforms_are_discovered_from_their_modules():
    assert platform_names() == ["bluesky", "mastodon", "reddit", "youtube"]


def test_shipped_source_files_are_valid():
    assert len(load_sources(REPO_ROOT / "sources.example.yaml")) >= 4
    demo = load_sources(REPO_ROOT / "extractors" / "replay" / "demo_sources.yaml")
    assert {s.platform for s in demo} == set(platform_names())
    assert all(s.base_url.startswith("replay") for s in demo)
    # Platforms that need credentials go through the demo's placeholder connection, as real sources do.
    assert {s.platform for s in demo if s.connection_id == "maraude_replay"} == {"bluesky", "reddit", "youtube"}


def test_valid_file_loads_with_defaults(tmp_path):
    [source] = load_sources(write(tmp_path, GOOD))
    assert source == SourceConfig(name="m1", platform="mastodon", base_url="https://example.org",
                                  params={"hashtag": "galere"}, limit=10)
    assert source.requests_per_minute() == 60


@pytest.mark.parametrize("replace_from, replace_to, message", [
    ("platform: mastodon", "platform: myspace", "field 'platform' is 'myspace', not one of bluesky"),
    ("    base_url: https://example.org\n", "    base_url: 12\n", "field 'base_url' must be str, got int"),
    ("    limit: 10\n", "    limit: ten\n", "field 'limit' must be int or null, got str"),
    ("  - name: m1\n", "  - nom: m1\n", "unknown field(s) nom"),
    ("params: {hashtag: galere}", "params: {subreddit: france}", "'params.subreddit' is not a mastodon parameter"),
])
def test_invalid_fields_are_named_with_file_and_source(tmp_path, replace_from, replace_to, message):
    path = write(tmp_path, GOOD.replace(replace_from, replace_to))
    with pytest.raises(SourceConfigError) as raised:
        load_sources(path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_missing_required_field_and_parameter_are_reported(tmp_path):
    with pytest.raises(SourceConfigError, match=r"sources\[0\]: missing field 'name'"):
        load_sources(write(tmp_path, "sources:\n  - platform: mastodon\n"))
    with pytest.raises(SourceConfigError, match="source 'b1'.*needs field 'params.query'"):
        load_sources(write(tmp_path, "sources:\n  - {name: b1, platform: bluesky}\n"))


def test_duplicate_names_are_rejected(tmp_path):
    with pytest.raises(SourceConfigError, match=r"sources\[1\] \(source 'm1'\): duplicate name, already used by sources\[0\]"):
        load_sources(write(tmp_path, GOOD + GOOD.split("sources:\n")[1]))


def test_credentials_come_from_an_airflow_connection_in_json_form(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TEST_BSKY", json.dumps(
        {"conn_type": "http", "login": "equipe-fictive.bsky.social", "password": "app-pass-fictif",
         "extra": {"user_agent": "maraude-test"}}))
    creds = resolve(SourceConfig("b", "bluesky", "https://bsky.social", {"query": "x"}, connection_id="test_bsky"))
    assert (creds.login, creds.password, creds.extra) == ("equipe-fictive.bsky.social", "app-pass-fictif",
                                                          {"user_agent": "maraude-test"})
    assert "app-pass-fictif" not in repr(creds)


def test_credentials_come_from_an_airflow_connection_in_uri_form(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TEST_REDDIT", "http://client-fictif:secret-fictif@reddit.example.org")
    creds = resolve(SourceConfig("r", "reddit", "https://oauth.reddit.com", {"subreddit": "x"},
                                 connection_id="test_reddit"))
    assert (creds.login, creds.password) == ("client-fictif", "secret-fictif")


def test_missing_connection_names_the_id_and_how_to_fix_it():
    with pytest.raises(CredentialsError) as raised:
        resolve(SourceConfig("y", "youtube", "https://x", {"query": "x"}, connection_id="absent_conn_fictive"))
    assert "absent_conn_fictive" in str(raised.value) and "AIRFLOW_CONN_ABSENT_CONN_FICTIVE" in str(raised.value)


def test_source_without_connection_is_anonymous():
    assert resolve(SourceConfig("m", "mastodon", "https://x", {"hashtag": "x"})) is ANONYMOUS


def test_language_detection_tells_french_from_english():
    texts = ["J'ai arrêté le lycée et je sais plus quoi faire de mes journées.",
             "I have never stolen a ham in my life.", ""]
    detected = detect(texts)
    assert [code for code, _ in detected] == ["fr", "en", None]
    assert detected[0][1] > 0.5
    assert is_french(texts) == [True, False, False]
