"""YouTube Data API v3: comments (and their replies) under videos found by a query or a channel.

- Videos: ``params.video`` (one id or a list), else ``search.list`` (``type=video``, ``order=date``) by
  ``params.query`` and/or ``params.channel``, at most ``params.max_videos`` (default 25).
- Comments: ``commentThreads.list`` (``order=time``, newest thread first, ``pageToken``) per video; replies come
  inline (up to 5) and the rest from ``comments.list?parentId=...``. The walk of a video stops at the first
  thread not newer than the cursor (an ISO timestamp).
- Quota: 10,000 units a day per project (search costs 100, a comments page 1). ``quotaExceeded`` stops the
  source until the quota resets at midnight Pacific time; ``commentsDisabled`` and deleted videos are
  counted and the next video goes on.
- Auth: an API key, as the password of the source's Airflow Connection (or ``extra.api_key``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from extractors.base import (
    BadPage,
    ConfigurationError,
    CredentialsError,
    ItemError,
    MappingError,
    QuotaExhausted,
    RawPost,
    Reject,
    counts,
    missing_fields,
    optional_str,
    parse_time,
    require_str,
    type_name,
)
from extractors.http import RETRY
from extractors.platforms import Item, Platform, iso_position

PAGE_SIZE = 100
SEARCH_PAGE_SIZE = 50
DEFAULT_MAX_VIDEOS = 25
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
TRANSIENT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "backendError"})
CREDENTIAL_REASONS = frozenset({"keyInvalid", "keyExpired", "accessNotConfigured", "forbidden", "ipRefererBlocked"})
ITEM_REASONS = {
    "commentsDisabled": "comments_disabled",
    "videoNotFound": "video_not_found",
    "commentThreadNotFound": "deleted",
    "commentNotFound": "deleted",
    "parentCommentIsPrivate": "private",
}


def quota_reset_after(moment: datetime) -> datetime:
    """The next midnight in Pacific time after ``moment`` (when the daily quota resets)."""
    local = moment.astimezone(PACIFIC)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=PACIFIC)


def error_reasons(response: httpx.Response) -> list[str]:
    """The ``error.errors[].reason`` values of a Google API error body."""
    try:
        body = response.json()
    except ValueError:
        return []
    errors = body.get("error", {}).get("errors", []) if isinstance(body, dict) and isinstance(body.get("error"), dict) else []
    return [e.get("reason") for e in errors if isinstance(e, dict) and isinstance(e.get("reason"), str)]


def from_payload(comment: Any, source: str, *, thread_id: str | None = None) -> RawPost:
    """The :class:`RawPost` of one ``youtube#comment`` resource (top-level or reply)."""
    if not isinstance(comment, dict):
        raise MappingError("wrong_type", f"comment is {type_name(comment)}, expected dict")
    ref = comment.get("id") if isinstance(comment.get("id"), str) else None
    comment_id = require_str(comment, "id", where="comment", ref=ref)
    snippet = comment.get("snippet")
    if not isinstance(snippet, dict):
        raise MappingError("missing_field", f"comment.snippet is {type_name(snippet)}, expected dict", ref)
    channel = snippet.get("authorChannelId")
    author_id = channel.get("value") if isinstance(channel, dict) else None
    if not isinstance(author_id, str) or not author_id:
        raise MappingError(
            "missing_author", f"comment.snippet.authorChannelId.value is {type_name(author_id)}, expected str", ref
        )
    # textOriginal is the author's text; textDisplay is the rendered one (plain when textFormat=plainText).
    key = "textOriginal" if "textOriginal" in snippet else "textDisplay"
    text = require_str(snippet, key, where="comment.snippet", ref=ref)
    created_at = parse_time(snippet.get("publishedAt"), where="comment.snippet.publishedAt", ref=ref)
    video_id = optional_str(snippet, "videoId")
    parent = optional_str(snippet, "parentId")
    name = optional_str(snippet, "authorDisplayName")
    fields = dict(
        # Display names of channels are often "@handle": keep it as both, privacy redacts both.
        author_handle=name if name and name.startswith("@") else None,
        author_name=name,
        author_url=optional_str(snippet, "authorChannelUrl"),
        url=f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}" if video_id else None,
        lang_tag=None,  # comments carry no language tag
        reply_to_id=parent,
        thread_id=thread_id or parent or comment_id,
    )
    return RawPost(
        platform=YouTube.name,
        source=source,
        post_id=comment_id,
        author_id=author_id,
        created_at=created_at,
        text=text,
        engagement=counts(likes=snippet.get("likeCount")),
        missing=missing_fields(**fields),
        **fields,
    )


class YouTube(Platform):
    """Client of the comments under the videos of one query, channel or video list."""

    name = "youtube"
    default_base_url = "https://www.googleapis.com/youtube/v3"
    default_requests_per_minute = 60
    needs_credentials = True
    param_types: ClassVar[dict] = {"query": str, "channel": str, "video": (str, list), "max_videos": int}
    required_params = (("query", "channel", "video"),)
    query_help = (
        "YouTube: --query is search terms (search.list), 'channel:ID' for a channel's videos, "
        "or 'video:ID' for one video's comments."
    )

    @classmethod
    def params_from_query(cls, query: str | None) -> dict[str, Any]:
        if not query:
            raise ValueError("YouTube needs --query (search terms, channel:ID or video:ID)")
        for prefix in ("channel", "video"):
            if query.startswith(f"{prefix}:"):
                return {prefix: query.split(":", 1)[1]}
        return {"query": query}

    def _key(self) -> str:
        key = self.credentials.secret("api_key")
        if not key:
            raise CredentialsError(
                self.source.name, f"YouTube needs an API key as the password of {self.connection_hint()}"
            )
        return key

    def classify(self, response: httpx.Response) -> Any:
        reasons = set(error_reasons(response))
        if reasons & QUOTA_REASONS:
            resume = quota_reset_after(self.http.clock.now())
            return QuotaExhausted(
                self.source.name,
                f"the YouTube API quota of the key in {self.connection_hint()} is spent; it resets at "
                f"{resume:%Y-%m-%d %H:%M} Pacific time; lower params.max_videos or the schedule, "
                "or ask Google for more quota",
                resume_at=resume,
            )
        for reason, kind in ITEM_REASONS.items():
            if reason in reasons:
                return ItemError(kind, reason)
        if reasons & TRANSIENT_REASONS:
            return RETRY
        if reasons & CREDENTIAL_REASONS or response.status_code in (401, 403):
            return CredentialsError(
                self.source.name,
                f"{urlsplit(self.base_url).netloc} refused the API key (HTTP {response.status_code}: "
                f"{', '.join(sorted(reasons)) or 'no reason'}); fix the password of {self.connection_hint()} "
                "and check that the YouTube Data API v3 is enabled for its project",
            )
        if response.status_code == 404:
            return ItemError("not_found", "HTTP 404")
        if response.status_code == 400:
            return ConfigurationError(
                self.source.name, f"YouTube rejected the request ({', '.join(sorted(reasons)) or 'HTTP 400'}); check params"
            )
        return None

    def _get(self, resource: str, params: dict[str, Any]) -> Any:
        return self.http.get_json(
            f"{self.base_url}/{resource}", params={**params, "key": self._key()}, classify=self.classify
        ).data

    def _videos(self) -> Iterator[str]:
        videos = self.source.params.get("video")
        if videos:
            yield from ([videos] if isinstance(videos, str) else [v for v in videos if isinstance(v, str)])
            return
        wanted = self.source.params.get("max_videos", DEFAULT_MAX_VIDEOS)
        params: dict[str, Any] = {"part": "snippet", "type": "video", "order": "date", "maxResults": SEARCH_PAGE_SIZE}
        if self.source.params.get("query"):
            params["q"] = self.source.params["query"]
        if self.source.params.get("channel"):
            params["channelId"] = self.source.params["channel"]
        found: set[str] = set()
        token: str | None = None
        while len(found) < wanted:
            data = self._get("search", {**params, **({"pageToken": token} if token else {})})
            self.stats["search_pages"] += 1
            results = data.get("items") if isinstance(data, dict) else None
            if not isinstance(results, list):
                raise BadPage("malformed_page", f"search.list items is {type_name(results)}, expected list")
            for result in results:
                video = result.get("id", {}).get("videoId") if isinstance(result, dict) and isinstance(result.get("id"), dict) else None
                if isinstance(video, str) and video not in found and len(found) < wanted:
                    found.add(video)
                    yield video
            token = data.get("nextPageToken") if isinstance(data.get("nextPageToken"), str) else None
            if not results or not token:
                return

    def items(self, cursor: str | None) -> Iterator[Item]:
        try:
            videos = list(self._videos())
        except BadPage as error:
            yield Item(reject=Reject(error.reason, error.detail), interrupted=True)
            return
        for video in videos:
            self.stats["videos"] += 1
            try:
                yield from self._video_comments(video, cursor)
            except ItemError as error:
                self.stats["item_errors"] += 1
                self.stats[f"item_errors_{error.kind}"] += 1
            except BadPage as error:
                yield Item(reject=Reject(error.reason, error.detail, video), interrupted=True)

    def _video_comments(self, video: str, cursor: str | None) -> Iterator[Item]:
        params = {"part": "snippet,replies", "videoId": video, "order": "time", "textFormat": "plainText",
                  "maxResults": PAGE_SIZE}
        token: str | None = None
        while True:
            data = self._get("commentThreads", {**params, **({"pageToken": token} if token else {})})
            self.stats["pages"] += 1
            threads = data.get("items") if isinstance(data, dict) else None
            if not isinstance(threads, list):
                raise BadPage("malformed_page", f"commentThreads.list items is {type_name(threads)}, expected list")
            for thread in threads:
                items = list(self._thread(thread, cursor))
                if items and items[0].skipped == "not_newer_than_cursor":
                    # Threads come newest first: the rest of this video was collected before.
                    return
                yield from items
            token = data.get("nextPageToken") if isinstance(data.get("nextPageToken"), str) else None
            if not threads or not token:
                return

    def _thread(self, thread: Any, cursor: str | None) -> Iterator[Item]:
        snippet = thread.get("snippet") if isinstance(thread, dict) else None
        top = snippet.get("topLevelComment") if isinstance(snippet, dict) else None
        thread_id = thread.get("id") if isinstance(thread, dict) and isinstance(thread.get("id"), str) else None
        first = self._comment(top, cursor, thread_id)
        yield first
        if first.skipped == "not_newer_than_cursor" or thread_id is None:
            return
        inline = thread.get("replies", {}).get("comments", []) if isinstance(thread.get("replies"), dict) else []
        total = snippet.get("totalReplyCount", 0) if isinstance(snippet, dict) else 0
        if isinstance(total, int) and total > len(inline):
            try:
                yield from self._replies(thread_id, cursor)
            except ItemError as error:
                self.stats["item_errors"] += 1
                self.stats[f"item_errors_{error.kind}"] += 1
            return
        for reply in inline:
            yield self._reply_item(self._comment(reply, cursor, thread_id))

    def _replies(self, parent: str, cursor: str | None) -> Iterator[Item]:
        token: str | None = None
        while True:
            params = {"part": "snippet", "parentId": parent, "textFormat": "plainText", "maxResults": PAGE_SIZE}
            data = self._get("comments", {**params, **({"pageToken": token} if token else {})})
            self.stats["reply_pages"] += 1
            replies = data.get("items") if isinstance(data, dict) else None
            if not isinstance(replies, list):
                raise BadPage("malformed_page", f"comments.list items is {type_name(replies)}, expected list")
            for reply in replies:
                yield self._reply_item(self._comment(reply, cursor, parent))
            token = data.get("nextPageToken") if isinstance(data.get("nextPageToken"), str) else None
            if not replies or not token:
                return

    @staticmethod
    def _reply_item(item: Item) -> Item:
        # Replies are not ordered with threads: an old reply is just skipped, it does not end the walk.
        if item.skipped == "not_newer_than_cursor":
            return Item(position=item.position, skipped="reply_not_newer_than_cursor")
        return item

    def _comment(self, comment: Any, cursor: str | None, thread_id: str | None) -> Item:
        try:
            record = from_payload(comment, self.source.name, thread_id=thread_id)
        except MappingError as error:
            return Item(reject=error.to_reject())
        position = iso_position(record.created_at)
        if not self.newer_than_cursor(position, cursor):
            return Item(position=position, skipped="not_newer_than_cursor")
        return Item(position=position, post=record)
