"""Collection over real HTTP against the replay server: faults survived, nothing lost, nothing duplicated."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from extractors_fixtures import fake_http, make_post, mastodon_corpus, source

from extractors import collect
from extractors.base import QuotaExhausted
from extractors.credentials import ANONYMOUS, Credentials
from extractors.replay import Faults, ReplayServer, replay_base_url, serve
from extractors.replay.corpus import HUGE_TEXT_CHARS, ZERO_WIDTH

CREDS = Credentials(login="client-fictif", password="secret-fictif")
ALL_FAULTS = {2: "429", 3: "503", 4: "truncated", 5: "malformed", 6: "empty", 7: "timeout"}


def expected_texts(posts):
    return sorted(p.rendered_text() for p in posts)


def test_mastodon_survives_every_transient_fault_with_nothing_lost_or_duplicated():
    posts = mastodon_corpus()
    with serve(posts, faults=Faults(schedule=ALL_FAULTS, delay_s=1.0, retry_after_s=3)) as url:
        http, clock = fake_http(timeout_s=0.5)
        result = collect(source("mastodon", url, hashtag="galere"), None, http=http, credentials=ANONYMOUS)
    assert sorted(p.text for p in result.posts) == expected_texts(posts)
    assert len({p.post_id for p in result.posts}) == len(posts)
    assert result.rejects == []
    assert result.stats["pages"] >= 3
    assert result.stats["http_429"] == 1 and result.stats["http_503"] == 1
    assert result.stats["transport_errors"] == 2  # the truncated body and the timeout
    assert result.stats["bad_payload_retries"] == 1
    assert 3 in [round(s) for s in clock.sleeps]  # Retry-After


def test_second_run_from_the_cursor_collects_nothing_new_and_keeps_the_cursor():
    with serve(mastodon_corpus(20, 0)) as url:
        http, _ = fake_http()
        first = collect(source("mastodon", url, hashtag="galere"), None, http=http, credentials=ANONYMOUS)
        second = collect(source("mastodon", url, hashtag="galere"), first.new_cursor, http=http, credentials=ANONYMOUS)
    assert len(first.posts) == 20
    assert second.posts == [] and second.new_cursor == first.new_cursor


def test_mastodon_limit_walks_forward_from_the_cursor_without_holes():
    posts = mastodon_corpus(50, 0)
    with serve(posts) as url:
        http, _ = fake_http()
        src = source("mastodon", url, hashtag="galere")
        oldest = sorted(posts, key=lambda p: -p.days_ago)[0].snowflake()
        seen = []
        cursor = oldest
        for _ in range(4):
            batch = collect(src, cursor, limit=15, http=http, credentials=ANONYMOUS)
            seen += [p.post_id for p in batch.posts]
            cursor = batch.new_cursor
    assert len(seen) == len(set(seen)) == 49  # every post newer than the oldest one, in four bounded runs


def test_ids_and_times_are_stable_across_server_restarts_on_the_same_day():
    posts = mastodon_corpus(10, 0)
    day = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)
    runs = []
    for started in (day, day.replace(hour=17)):
        with serve(posts, started_at=started) as url:
            http, _ = fake_http()
            result = collect(source("mastodon", url, hashtag="galere"), None, http=http, credentials=ANONYMOUS)
            runs.append(sorted((p.post_id, p.created_at) for p in result.posts))
    assert runs[0] == runs[1]


def test_a_page_that_stays_broken_becomes_a_reject_and_holds_the_cursor():
    posts = mastodon_corpus(90, 0)
    with serve(posts, faults=Faults(broken_page_offset=40)) as url:
        http, _ = fake_http()
        result = collect(source("mastodon", url, hashtag="galere"), None, http=http, credentials=ANONYMOUS)
    assert len(result.posts) == 40  # the first page landed, the walk stopped at the broken one
    assert [r.reason for r in result.rejects] == ["malformed_page"]
    assert result.new_cursor is None  # newest-first walk cut short: the next run starts again


def test_reblog_is_collected_once_as_the_original_and_deleted_post_does_not_break_paging():
    posts = mastodon_corpus(60, 0)
    target, deleted = posts[5], posts[50]
    with serve(posts, faults=Faults(reblog_of=target.id, deleted=frozenset({deleted.id}))) as url:
        http, _ = fake_http()
        result = collect(source("mastodon", url, hashtag="galere"), None, http=http, credentials=ANONYMOUS)
    ids = [p.post_id for p in result.posts]
    assert len(ids) == len(set(ids))
    assert ids.count(target.snowflake()) == 1
    assert result.stats["reblogs_unwrapped"] == 1 and result.stats["duplicates_dropped"] == 1
    assert set(ids) == {p.snowflake() for p in posts if p is not deleted} | (
        {deleted.snowflake()} if deleted.snowflake() in ids else set()
    )


def test_mastodon_opt_outs_are_skipped_and_counted_and_mentions_become_text():
    posts = [
        make_post(1, "mastodon", "tag:galere", author_opt_out=True),
        replace(make_post(2, "mastodon", "tag:galere"), text="@pseudo_fictif_9 tu sais où est la mission locale ?"),
    ]
    with serve(posts) as url:
        http, _ = fake_http()
        result = collect(source("mastodon", url, hashtag="galere"), None, http=http, credentials=ANONYMOUS)
    assert result.stats["skipped_opt_out"] == 1
    assert [p.text for p in result.posts] == ["@pseudo_fictif_9 tu sais où est la mission locale ?"]


@pytest.mark.parametrize("platform, channel, params, base", [
    ("mastodon", "tag:galere", {"hashtag": "galere"}, "replay"),
    ("bluesky", "search:taf", {"query": "taf"}, "replay"),
    ("reddit", "r/france", {"subreddit": "france", "comments": False}, "replay"),
    ("youtube", "video:yt-demo-01", {"video": "yt-demo-01"}, "replay/youtube/v3"),
])
def test_unmappable_records_become_rejects_that_name_fields_not_values(platform, channel, params, base):
    kinds = ["missing_text", "empty_text", "wrong_type_created_at", "invalid_date", "missing_author"]
    posts = [make_post(i, platform, channel, malformed=kind) for i, kind in enumerate(kinds)]
    posts += [make_post(10, platform, channel, malformed="huge_text"), make_post(11, platform, channel, malformed="zero_width")]
    posts += [make_post(12, platform, channel)]
    with serve(posts) as url:
        http, _ = fake_http()
        result = collect(source(platform, replay_base_url(base, url), **params), None, http=http, credentials=CREDS)
    assert len(result.rejects) == len(kinds)
    assert {r.reason for r in result.rejects} <= {"missing_field", "empty_field", "empty_text", "wrong_type",
                                                 "invalid_date", "missing_author"}
    for reject in result.rejects:
        assert "pseudo_fictif" not in reject.detail and "message" not in reject.detail
    lengths = sorted(len(p.text) for p in result.posts)
    assert lengths[-1] == HUGE_TEXT_CHARS
    assert any(ZERO_WIDTH in p.text for p in result.posts)
    assert len(result.posts) == 3


def test_bluesky_pages_by_date_window_past_the_search_cap_and_skips_labelled_authors():
    posts = [make_post(i, "bluesky", "search:taf") for i in range(250)]
    posts.append(make_post(999, "bluesky", "search:taf", author_opt_out=True))
    with serve(posts, faults=Faults(search_cap=50, schedule={3: "429"})) as url:
        http, _ = fake_http()
        result = collect(source("bluesky", url, query="taf"), None, http=http, credentials=CREDS)
        again = collect(source("bluesky", url, query="taf"), result.new_cursor, http=http, credentials=CREDS)
    assert len(result.posts) == len({p.post_id for p in result.posts}) == 250
    assert result.stats["date_windows"] >= 2
    assert result.stats["skipped_opt_out"] == 1
    assert again.posts == []


def test_reddit_collects_comments_of_new_threads_and_counts_deleted_items():
    threads = [make_post(i, "reddit", "r/france") for i in range(3)]
    comments = [make_post(10 + i, "reddit", "r/france", reply_to=threads[i % 3].id) for i in range(6)]
    nested = [make_post(20, "reddit", "r/france", reply_to=comments[0].id)]
    with serve(threads + comments + nested, faults=Faults(deleted=frozenset({comments[1].id}))) as url:
        http, _ = fake_http()
        result = collect(source("reddit", url, subreddit="france"), None, http=http, credentials=CREDS)
    kinds = sorted(p.post_id[:2] for p in result.posts)
    assert kinds.count("t3") == 3 and kinds.count("t1") == 6  # 7 comments, one deleted
    assert result.stats["skipped_deleted"] == 1 and result.stats["item_errors"] == 1
    nested_post = next(p for p in result.posts if p.reply_to_id and p.reply_to_id.startswith("t1_"))
    assert nested_post.thread_id.startswith("t3_")


def test_youtube_counts_disabled_comments_and_collects_long_reply_threads():
    tops = [make_post(i, "youtube", f"video:yt-demo-0{i % 2 + 1}") for i in range(4)]
    replies = [make_post(10 + i, "youtube", "video:yt-demo-01", reply_to=tops[0].id) for i in range(8)]
    others = [make_post(30, "youtube", "video:yt-demo-03")]
    with serve(tops + replies + others, faults=Faults(comments_disabled=frozenset({"yt-demo-03"}))) as url:
        http, _ = fake_http()
        result = collect(source("youtube", url + "/youtube/v3", query="decrochage"), None, http=http,
                         credentials=CREDS)
    assert len(result.posts) == 12
    assert result.stats["item_errors_comments_disabled"] == 1
    assert result.stats["reply_pages"] == 1  # 8 replies > 5 inline: fetched with comments.list


def test_youtube_quota_exceeded_stops_the_source_until_midnight_pacific():
    tops = [make_post(i, "youtube", "video:yt-demo-01") for i in range(3)]
    with serve(tops, faults=Faults(quota_after=1)) as url:
        http, _ = fake_http()
        with pytest.raises(QuotaExhausted) as raised:
            collect(source("youtube", url + "/youtube/v3", query="decrochage"), None, http=http, credentials=CREDS)
    stopped = raised.value
    assert "secret-fictif" not in str(stopped)
    assert "Pacific" in str(stopped)
    local = stopped.resume_at.astimezone(stopped.resume_at.tzinfo)
    assert (local.hour, local.minute) == (0, 0)


def test_stopped_source_does_not_stop_the_others():
    posts = [make_post(i, "youtube", "video:yt-demo-01") for i in range(2)] + mastodon_corpus(5, 0)
    outcomes = {}
    with serve(posts, faults=Faults(quota_after=0)) as url:
        for src in (source("youtube", url + "/youtube/v3", query="decrochage"), source("mastodon", url, hashtag="galere")):
            http, _ = fake_http()
            try:
                outcomes[src.platform] = len(collect(src, None, http=http, credentials=CREDS).posts)
            except QuotaExhausted:
                outcomes[src.platform] = "stopped"
    assert outcomes == {"youtube": "stopped", "mastodon": 5}


def test_replay_server_requires_bearer_tokens_like_the_real_apis():
    server = ReplayServer([make_post(1, "reddit", "r/france")])
    server.start()
    try:
        http, _ = fake_http()
        from extractors.base import CredentialsError

        with pytest.raises(CredentialsError, match="client id"):
            collect(source("reddit", server.base_url, subreddit="france"), None, http=http, credentials=ANONYMOUS)
    finally:
        server.stop()
