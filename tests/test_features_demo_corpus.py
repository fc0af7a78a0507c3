"""The hand-written demo corpus served by the replay server: shape, spread, and only fictional personal data."""

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from maraude import LABELS

CORPUS = Path(__file__).resolve().parent.parent / "extractors" / "replay" / "demo_posts.jsonl"
CHANNELS = {
    "mastodon": {"tag:galere", "tag:jeunesse", "public"},
    "bluesky": {"search:taf", "search:lycee"},
    "reddit": {"r/france", "r/conseil_jeunes"},
    "youtube": {f"video:yt-demo-0{i}" for i in range(1, 5)},
}
MALFORMED_KINDS = {
    "missing_text", "empty_text", "wrong_type_created_at", "invalid_date", "missing_author", "huge_text", "zero_width",
}
FICTION_PHONE_PREFIXES = ("01 99 00", "02 61 91", "03 53 01", "04 65 71", "05 36 49", "06 39 98")


@pytest.fixture(scope="module")
def records():
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def test_ids_are_unique_and_sequential(records):
    assert [r["id"] for r in records] == [f"d-{i:04d}" for i in range(1, len(records) + 1)]


def test_every_record_has_a_known_platform_channel_language_and_labels(records):
    for record in records:
        assert record["channel"] in CHANNELS[record["platform"]], record["id"]
        assert record["lang"] in ("fr", "en"), record["id"]
        assert isinstance(record["days_ago"], float) and 0 <= record["days_ago"] <= 120, record["id"]
        assert set(record["expected_labels"]) <= set(LABELS), record["id"]
        assert record.get("malformed", "missing_text") in MALFORMED_KINDS, record["id"]


def test_replies_point_to_an_older_post_of_the_same_channel(records):
    by_id = {r["id"]: r for r in records}
    replies = [r for r in records if "reply_to" in r]
    assert replies
    for reply in replies:
        parent = by_id[reply["reply_to"]]
        assert parent["channel"] == reply["channel"] and parent["days_ago"] > reply["days_ago"], reply["id"]


def test_volume_and_spread_of_the_corpus(records):
    valid = [r for r in records if "malformed" not in r]
    french = [r for r in valid if r["lang"] == "fr"]
    authors = Counter(r["author"] for r in french)
    assert len(french) >= 420 and len(authors) >= 65
    assert min(authors.values()) >= 3
    assert 30 <= sum(r["lang"] == "en" for r in valid) <= 40
    assert {r["malformed"] for r in records if "malformed" in r} == MALFORMED_KINDS
    assert {int(r["days_ago"] // 30) for r in french} >= {0, 1, 2, 3}
    for label in LABELS:
        assert sum(label in r["expected_labels"] for r in french) >= 10, label


def test_an_author_keeps_one_platform_one_name_and_one_opt_out_choice(records):
    seen = {}
    for record in records:
        if "author" in record:
            identity = (record["platform"], record["display_name"], bool(record.get("author_opt_out")))
            assert seen.setdefault(record["author"], identity) == identity, record["id"]
    assert 4 <= sum(opt_out for _, _, opt_out in seen.values()) <= 5


def test_personal_data_in_the_corpus_is_fictional(records):
    text = "\n".join(r["text"] for r in records if isinstance(r.get("text"), str))
    phones = re.findall(r"\b0[1-9](?:[ .]?\d\d){4}\b", text)
    assert phones and all(phone.replace(".", " ").startswith(FICTION_PHONE_PREFIXES) for phone in phones)
    emails = [email.rstrip(".") for email in re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", text)]
    assert emails and all(email.split("@")[1] in ("example.org", "example.com") for email in emails)
    urls = re.findall(r"https?://\S+", text)
    assert urls and all(re.match(r"https?://example\.(?:org|com)/", url) for url in urls)
    assert sum("pii:" in r["note"] for r in records) >= 35
