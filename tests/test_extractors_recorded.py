"""Recorded real API payloads (../shared/realdata/api), served over local HTTP and parsed by the extractors."""

from __future__ import annotations

import json

import pytest
import yaml
from extractors_fixtures import REALDATA_API, fake_http, source

from extractors import collect
from extractors.base import ConfigurationError, CredentialsError, MappingError
from extractors.credentials import ANONYMOUS, Credentials
from extractors.platforms import bluesky, mastodon, reddit, youtube
from extractors.replay import serve
from extractors.replay.recorded import load_recordings

pytestmark = pytest.mark.skipif(not REALDATA_API.is_dir(), reason="shared/realdata/api is not beside the repository")
CREDS = Credentials(login="client-fictif", password="secret-fictif")


@pytest.fixture(scope="module")
def recorded_url():
    with serve(recorded=load_recordings(REALDATA_API)) as url:
        yield url


def _cassette_bodies(pattern: str):
    for path in sorted((REALDATA_API / "mastodon").glob(pattern)):
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            if interaction["response"]["status"]["code"] == 200:
                yield json.loads(interaction["response"]["body"]["string"])


def test_every_recorded_mastodon_status_maps_to_a_raw_post():
    statuses = []
    for body in _cassette_bodies("*.yaml"):
        if isinstance(body, list):
            statuses += body
        elif isinstance(body, dict) and "account" in body and "content" in body:
            statuses.append(body)
    assert len(statuses) > 40
    for status in statuses:
        original = status["reblog"] or status
        post = mastodon.from_payload(original, "rec")
        assert post.created_at.tzinfo is not None and post.text and "<" not in post.text


def test_recorded_mention_becomes_at_user_text():
    statuses = next(b for b in _cassette_bodies("test_public_tl.yaml") if isinstance(b, list))
    texts = [mastodon.from_payload(s, "rec").text for s in statuses]
    assert "@mastodonpy_test beep beep I'm a jeep" in texts


def test_recorded_reblog_maps_to_its_original():
    wrapper = next(b for b in _cassette_bodies("test_status_reblog_unreblog.yaml") if isinstance(b, dict) and b.get("reblog"))
    post = mastodon.from_payload(wrapper["reblog"], "rec")
    assert post.post_id == wrapper["reblog"]["id"] != wrapper["id"]


@pytest.mark.parametrize("params, expected_posts", [({"timeline": "public"}, 2), ({"hashtag": "hoot"}, 1)])
def test_recorded_mastodon_timelines_paginate_to_the_end(recorded_url, params, expected_posts):
    http, _ = fake_http()
    result = collect(source("mastodon", recorded_url, **params), None, http=http, credentials=ANONYMOUS)
    assert result.stats["pages"] >= 2  # the recorded page, then the end of the recording
    # The admin account of the recording has indexable: false, an opt-out of search indexing.
    assert len(result.posts) == expected_posts
    assert result.rejects == []


def test_recorded_link_header_drives_pagination():
    links = [mastodon.parse_link_header(v) for v in
             ['<http://localhost:3000/api/v1/accounts/1/statuses?limit=5&max_id=117020580489281910>; rel="next", '
              '<http://localhost:3000/api/v1/accounts/1/statuses?limit=5&min_id=117020580518794573>; rel="prev"']]
    assert links[0]["next"].endswith("max_id=117020580489281910")
    assert links[0]["prev"].endswith("min_id=117020580518794573")


def test_recorded_reddit_listing_and_comment_tree_parse():
    for name in ("TestSubredditListings.test_new.json", "TestSubmission.test_hide_multiple_in_batches.json",
                 "TestSubreddit.test_search.json", "TestSubredditStreams.test_submissions.json"):
        for interaction in json.loads((REALDATA_API / "reddit" / name).read_text())["interactions"]:
            body = interaction["response"]["body"].get("string", "")
            if '"Listing"' not in body:
                continue
            for child in json.loads(body)["data"]["children"]:
                post = reddit.from_payload(child, "rec")
                assert post.post_id.startswith("t3_") and post.created_at.year >= 2008


def test_recorded_reddit_new_paginates_to_the_end(recorded_url):
    http, _ = fake_http()
    result = collect(source("reddit", recorded_url, subreddit="askreddit", comments=False), None, http=http,
                     credentials=CREDS)
    assert len(result.posts) == 100 and result.stats["pages"] == 2


def test_recorded_reddit_comment_tree_is_flattened_and_more_stubs_counted():
    body = json.loads(json.loads((REALDATA_API / "reddit" / "TestMore.test_comments.json").read_text())
                      ["interactions"][2]["response"]["body"]["string"])
    stack, mapped, deleted = list(body[1]["data"]["children"]), 0, 0
    while stack:
        child = stack.pop()
        if child["kind"] != "t1":
            continue
        if reddit.is_deleted(child["data"]):
            deleted += 1
        else:
            assert reddit.from_payload(child, "rec").thread_id == "t3_3hahrw"
            mapped += 1
        if child["data"]["replies"]:
            stack += child["data"]["replies"]["data"]["children"]
    assert mapped + deleted == 476 and deleted > 0


def test_recorded_reddit_403_stops_the_source_with_a_fix(recorded_url):
    http, _ = fake_http()
    with pytest.raises(ConfigurationError, match="params.subreddit"):
        collect(source("reddit", recorded_url, subreddit="ferguson"), None, http=http, credentials=CREDS)


def test_recorded_bluesky_posts_parse_and_search_paginates_to_the_end(recorded_url):
    feeds = ["getAuthorFeed.json", "getListFeed.json"]
    for name in feeds:
        for item in json.loads((REALDATA_API / "bluesky" / "responses" / name).read_text())["feed"]:
            post = bluesky.from_payload(item["post"], "rec")
            assert post.post_id.startswith("at://") and post.author_id.startswith("did:")
    http, _ = fake_http()
    result = collect(source("bluesky", recorded_url, query="fone"), None, http=http, credentials=CREDS)
    assert len(result.posts) == 1 and result.posts[0].lang_tag is None  # the recorded post has no langs
    assert result.stats["pages"] == 2  # cursor "xxxxxxx" then the end


def test_recorded_youtube_search_and_comments_paginate_to_the_end(recorded_url):
    http, _ = fake_http()
    result = collect(source("youtube", recorded_url + "/youtube/v3", query="surf", max_videos=60), None, http=http,
                     credentials=CREDS)
    # Two recorded pages of 25 results (one video appears on both), then the end of the recording.
    assert result.stats["search_pages"] == 3 and result.stats["videos"] == 49
    http, _ = fake_http()
    result = collect(source("youtube", recorded_url + "/youtube/v3", video="F1UP7wRCPH8"), None, http=http,
                     credentials=CREDS)
    assert len(result.posts) == 5 and result.stats["pages"] == 2


def test_recorded_youtube_reply_and_thread_resources_parse():
    info = json.loads((REALDATA_API / "youtube" / "comment_thread_info.json").read_text())
    top = youtube.from_payload(info["snippet"]["topLevelComment"], "rec", thread_id=info["id"])
    reply = youtube.from_payload(info["replies"]["comments"][0], "rec", thread_id=info["id"])
    assert reply.reply_to_id == top.post_id and reply.thread_id == top.post_id
    for name in ("comments_by_parent_paged_1.json", "comment_threads_with_search.json", "comment_thread_single.json"):
        for item in json.loads((REALDATA_API / "youtube" / name).read_text())["items"]:
            comment = item["snippet"]["topLevelComment"] if item["kind"] == "youtube#commentThread" else item
            assert youtube.from_payload(comment, "rec").text


@pytest.mark.parametrize("name, error", [("error_response.json", CredentialsError),
                                         ("error_permission_resp.json", CredentialsError)])
def test_recorded_youtube_errors_are_typed(name, error):
    import httpx

    body = (REALDATA_API / "youtube" / name).read_bytes()
    status = json.loads(body)["error"]["code"]
    client = youtube.YouTube(source("youtube", "http://127.0.0.1:9"), fake_http()[0], CREDS, None)
    verdict = client.classify(httpx.Response(status, content=body, request=httpx.Request("GET", "http://127.0.0.1:9/x")))
    assert isinstance(verdict, error)
    assert "secret-fictif" not in str(verdict)


def test_recorded_mastodon_401_body_asks_for_a_token():
    import httpx

    body = next(i["response"]["body"]["string"] for i in yaml.safe_load(
        (REALDATA_API / "mastodon" / "test_unauthed_home_tl_throws.yaml").read_text())["interactions"]
        if i["response"]["status"]["code"] == 401)
    src = source("mastodon", "http://127.0.0.1:9", hashtag="x")
    verdict = mastodon.Mastodon(src, fake_http()[0], ANONYMOUS, None).classify(
        httpx.Response(401, content=body.encode(), request=httpx.Request("GET", "http://127.0.0.1:9/x")))
    assert isinstance(verdict, CredentialsError) and "access token" in str(verdict)


def test_mapping_error_details_name_fields_and_types_only():
    with pytest.raises(MappingError) as raised:
        mastodon.from_payload({"id": "1", "account": {"id": "2", "acct": "pseudo_fictif"}, "created_at": 5,
                               "content": "<p>coucou</p>"}, "rec")
    assert raised.value.detail == "status.created_at is int, expected ISO 8601 str"
    assert raised.value.to_reject().ref == "1"
