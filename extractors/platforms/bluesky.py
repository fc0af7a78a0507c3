"""Bluesky: authenticated post search (``app.bsky.feed.searchPosts``).

- Session: ``com.atproto.server.createSession`` with the handle and an *app password* from the source's
  Airflow Connection (login = handle, password = app password); an expired session is opened again once.
- Search walks newest first (``sort=latest``, 100 posts a page) with the response ``cursor``. One query
  stops giving results after about 10,000 hits, so past that the walk restarts with ``until`` set to the
  oldest post seen (date-window paging). ``since`` is the stored cursor (an ISO timestamp, inclusive on the
  server side, so posts at exactly the cursor are dropped here).
- Rate limit: 3,000 requests per 5 minutes per account; ``ratelimit-*`` headers are honoured by the HTTP layer.
- Authors labelled ``!no-unauthenticated`` (they asked to be hidden from logged-out viewers) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from extractors.base import (
    ConfigurationError,
    CredentialsError,
    ExtractorError,
    MappingError,
    RawPost,
    Reject,
    counts,
    missing_fields,
    optional_str,
    parse_time,
    require_str,
    type_name,
)
from extractors.platforms import Item, Platform, iso_position

PAGE_SIZE = 100
WINDOW_CAP = 10_000
OPT_OUT_LABEL = "!no-unauthenticated"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
SEARCH_POSTS = "/xrpc/app.bsky.feed.searchPosts"


class SessionExpired(ExtractorError):
    """The access token expired; a new session is opened once."""


def _labels(obj: Any) -> set[str]:
    labels = obj.get("labels") if isinstance(obj, dict) else None
    return {label.get("val") for label in labels if isinstance(label, dict)} if isinstance(labels, list) else set()


def opted_out(post: dict) -> bool:
    """The author carries the ``!no-unauthenticated`` self-label."""
    return OPT_OUT_LABEL in _labels(post.get("author"))


def from_payload(post: Any, source: str) -> RawPost:
    """The :class:`RawPost` of one ``postView``; :class:`MappingError` if unmappable."""
    if not isinstance(post, dict):
        raise MappingError("wrong_type", f"postView is {type_name(post)}, expected dict")
    ref = post.get("uri") if isinstance(post.get("uri"), str) else None
    uri = require_str(post, "uri", where="postView", ref=ref)
    author = post.get("author")
    if not isinstance(author, dict):
        raise MappingError("missing_author", f"postView.author is {type_name(author)}, expected dict", ref)
    did = require_str(author, "did", where="postView.author", ref=ref)
    record = post.get("record")
    if not isinstance(record, dict):
        raise MappingError("missing_field", f"postView.record is {type_name(record)}, expected dict", ref)
    text = require_str(record, "text", where="postView.record", ref=ref)
    created_at = parse_time(record.get("createdAt"), where="postView.record.createdAt", ref=ref)
    handle = optional_str(author, "handle")
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else {}
    parent = reply.get("parent") if isinstance(reply.get("parent"), dict) else {}
    root = reply.get("root") if isinstance(reply.get("root"), dict) else {}
    langs = record.get("langs")
    rkey = uri.rsplit("/", 1)[-1]
    fields = dict(
        author_handle=handle,
        author_name=optional_str(author, "displayName"),
        author_url=f"https://bsky.app/profile/{handle or did}",
        url=f"https://bsky.app/profile/{handle or did}/post/{rkey}",
        lang_tag=langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None,
        reply_to_id=optional_str(parent, "uri"),
        thread_id=optional_str(root, "uri") or (None if parent else uri),
    )
    return RawPost(
        platform=Bluesky.name,
        source=source,
        post_id=uri,
        author_id=did,
        created_at=created_at,
        text=text,
        engagement=counts(
            replies=post.get("replyCount"),
            reposts=post.get("repostCount"),
            likes=post.get("likeCount"),
            quotes=post.get("quoteCount"),
        ),
        missing=missing_fields(**fields),
        **fields,
    )


class Bluesky(Platform):
    """Client of one Bluesky search query."""

    name = "bluesky"
    default_base_url = "https://bsky.social"
    # 3,000 requests per 5 minutes per account.
    default_requests_per_minute = 600
    needs_credentials = True
    param_types: ClassVar[dict] = {"query": str, "lang": str}
    required_params = (("query",),)
    query_help = "Bluesky: --query is the search query (app.bsky.feed.searchPosts 'q')."

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._access_jwt: str | None = None

    @classmethod
    def params_from_query(cls, query: str | None) -> dict[str, Any]:
        if not query:
            raise ValueError("Bluesky needs --query (the search terms)")
        return {"query": query.removeprefix("search:")}

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc

    def classify(self, response: httpx.Response) -> Any:
        error = ""
        try:
            body = response.json()
            error = body.get("error", "") if isinstance(body, dict) else ""
        except ValueError:
            pass
        if error == "ExpiredToken":
            return SessionExpired("access token expired")
        if response.status_code == 401 or error in ("AuthenticationRequired", "InvalidToken"):
            return CredentialsError(
                self.source.name,
                f"{self._host()} refused the session (HTTP {response.status_code}); check the handle (login) and the "
                f"app password (password) of {self.connection_hint()}",
            )
        if error == "BadQueryString":
            return ConfigurationError(self.source.name, "Bluesky rejected params.query (BadQueryString)")
        return None

    def _session_headers(self) -> dict[str, str]:
        if self._access_jwt is None:
            login, password = self.credentials.login, self.credentials.secret("app_password")
            if not login or not password:
                raise CredentialsError(
                    self.source.name,
                    f"Bluesky needs a handle (login) and an app password (password) in {self.connection_hint()}",
                )
            session = self.http.get_json(
                f"{self.base_url}{CREATE_SESSION}",
                method="POST",
                json_body={"identifier": login, "password": password},
                classify=self.classify,
            ).data
            token = session.get("accessJwt") if isinstance(session, dict) else None
            if not isinstance(token, str):
                raise CredentialsError(self.source.name, f"{self._host()} opened no session (no accessJwt)")
            self._access_jwt = token
        return {"Authorization": f"Bearer {self._access_jwt}"}

    def _search(self, params: dict[str, Any]) -> Any:
        try:
            return self.http.get_json(
                f"{self.base_url}{SEARCH_POSTS}", params=params, headers=self._session_headers(), classify=self.classify
            ).data
        except SessionExpired:
            # Access tokens live minutes; open a new session once, a second expiry is a real problem.
            self.stats["sessions_renewed"] += 1
            self._access_jwt = None
            return self.http.get_json(
                f"{self.base_url}{SEARCH_POSTS}", params=params, headers=self._session_headers(), classify=self.classify
            ).data

    def items(self, cursor: str | None) -> Iterator[Item]:
        base = {"q": self.source.params["query"], "sort": "latest", "limit": PAGE_SIZE}
        if self.source.params.get("lang"):
            base["lang"] = self.source.params["lang"]
        if cursor:
            base["since"] = cursor
        until: str | None = None
        while True:  # one date window per turn
            page_cursor: str | None = None
            in_window = 0
            oldest: str | None = None
            full_last_page = False
            while True:
                params = {**base, **({"until": until} if until else {}), **({"cursor": page_cursor} if page_cursor else {})}
                data = self._search(params)
                self.stats["pages"] += 1
                posts = data.get("posts") if isinstance(data, dict) else None
                if not isinstance(posts, list):
                    yield Item(
                        reject=Reject("malformed_page", f"searchPosts.posts is {type_name(posts)}, expected list"),
                        interrupted=True,
                    )
                    return
                for post in posts:
                    item = self._item(post, cursor)
                    if item.position and (oldest is None or item.position < oldest):
                        oldest = item.position
                    yield item
                in_window += len(posts)
                full_last_page = len(posts) >= PAGE_SIZE
                page_cursor = data.get("cursor") if isinstance(data.get("cursor"), str) else None
                if not posts or not page_cursor or in_window >= WINDOW_CAP:
                    break
            # The search index stops serving a query after ~10,000 hits: continue below the oldest post seen.
            if not full_last_page or oldest is None or oldest == until:
                return
            self.stats["date_windows"] += 1
            until = oldest

    def _item(self, post: Any, cursor: str | None) -> Item:
        try:
            record = from_payload(post, self.source.name)
        except MappingError as error:
            return Item(reject=error.to_reject())
        position = iso_position(record.created_at)
        if not self.newer_than_cursor(position, cursor):
            return Item(position=position, skipped="not_newer_than_cursor")
        if opted_out(post):
            return Item(position=position, skipped="opt_out")
        return Item(position=position, post=record)
