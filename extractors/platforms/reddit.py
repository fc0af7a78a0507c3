"""Reddit: new posts (or a search) in one subreddit, with the comments of each collected thread.

- Auth: application-only OAuth (``grant_type=client_credentials`` on ``/api/v1/access_token`` with the client
  id as login and the client secret as password of the source's Airflow Connection); Reddit also asks for a
  descriptive User-Agent (``extra.user_agent``).
- Listings: ``/r/{subreddit}/new`` or ``/r/{subreddit}/search?q=...&restrict_sr=1&sort=new``, 100 a page,
  newest first, paginated with ``after``; the walk stops at the first post not newer than the cursor (an
  ISO timestamp). ``X-Ratelimit-Remaining``/``-Reset`` are honoured by the HTTP layer.
- Comments: ``/comments/{id}?sort=new`` for each new thread; the tree is flattened; ``more`` stubs are counted,
  not expanded. Deleted or removed items are counted, not collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from extractors.base import (
    BadPage,
    ConfigurationError,
    CredentialsError,
    ItemError,
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
from extractors.http import USER_AGENT
from extractors.platforms import Item, Platform, iso_position

PAGE_SIZE = 100
COMMENT_LIMIT = 500
DELETED_MARKERS = ("[deleted]", "[removed]")
WEB_HOST = "https://www.reddit.com"


def is_deleted(thing: dict) -> bool:
    """Deleted or removed by its author or the moderators: nothing left to read."""
    body = thing.get("body") if "body" in thing else thing.get("selftext")
    return thing.get("author") in DELETED_MARKERS or (body in DELETED_MARKERS and not thing.get("title"))


def from_payload(thing: Any, source: str) -> RawPost:
    """The :class:`RawPost` of one listing child (``t3`` submission or ``t1`` comment)."""
    if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
        raise MappingError("wrong_type", f"listing child is {type_name(thing)}, expected dict with data")
    kind, data = thing.get("kind"), thing["data"]
    ref = data.get("name") if isinstance(data.get("name"), str) else None
    name = require_str(data, "name", where=f"{kind}.data", ref=ref)
    author = data.get("author")
    if not isinstance(author, str) or not author:
        raise MappingError("missing_author", f"{kind}.data.author is {type_name(author)}, expected str", ref)
    # App-only listings carry author_fullname (t2_...) on current payloads; old ones only the username.
    author_id = optional_str(data, "author_fullname") or f"name:{author}"
    created_at = parse_time(data.get("created_utc"), where=f"{kind}.data.created_utc", ref=ref, epoch=True)
    if kind == "t3":
        title = require_str(data, "title", where="t3.data", ref=ref)
        selftext = data.get("selftext")
        if selftext is not None and not isinstance(selftext, str):
            raise MappingError("wrong_type", f"t3.data.selftext is {type_name(selftext)}, expected str", ref)
        text = f"{title}\n\n{selftext}".strip() if selftext else title
        reply_to, thread = None, name
    elif kind == "t1":
        text = require_str(data, "body", where="t1.data", ref=ref)
        reply_to, thread = optional_str(data, "parent_id"), optional_str(data, "link_id")
    else:
        raise MappingError("wrong_type", f"listing child kind is {type_name(kind)} {kind!r}, expected t1 or t3", ref)
    permalink = optional_str(data, "permalink")
    fields = dict(
        author_handle=author,
        author_name=None,  # Reddit has no display name distinct from the username
        author_url=f"{WEB_HOST}/user/{quote(author)}",
        url=f"{WEB_HOST}{permalink}" if permalink else None,
        lang_tag=None,  # Reddit does not tag languages
        reply_to_id=reply_to,
        thread_id=thread,
    )
    return RawPost(
        platform=Reddit.name,
        source=source,
        post_id=name,
        author_id=author_id,
        created_at=created_at,
        text=text,
        engagement=counts(score=data.get("score"), comments=data.get("num_comments")),
        missing=missing_fields(**fields),
        **fields,
    )


class Reddit(Platform):
    """Client of one subreddit (new posts, or a search inside it)."""

    name = "reddit"
    default_base_url = "https://oauth.reddit.com"
    # Reddit allows 100 OAuth requests per minute per client id.
    default_requests_per_minute = 90
    needs_credentials = True
    param_types: ClassVar[dict] = {"subreddit": str, "query": str, "comments": bool}
    required_params = (("subreddit",),)
    query_help = (
        "Reddit: --query is a subreddit ('r/france') or 'r/SUBREDDIT search terms' to search inside it."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._token: str | None = None

    @classmethod
    def params_from_query(cls, query: str | None) -> dict[str, Any]:
        if not query:
            raise ValueError("Reddit needs --query r/SUBREDDIT [search terms]")
        subreddit, _, terms = query.strip().partition(" ")
        params: dict[str, Any] = {"subreddit": subreddit.removeprefix("/").removeprefix("r/")}
        if terms.strip():
            params["query"] = terms.strip()
        return params

    def _token_url(self) -> str:
        # Tokens come from www.reddit.com while the API lives on oauth.reddit.com; other hosts serve both.
        explicit = self.credentials.extra.get("token_url")
        if isinstance(explicit, str) and explicit:
            return explicit
        if urlsplit(self.base_url).netloc == "oauth.reddit.com":
            return f"{WEB_HOST}/api/v1/access_token"
        return f"{self.base_url}/api/v1/access_token"

    def _user_agent(self) -> str:
        agent = self.credentials.extra.get("user_agent")
        return agent if isinstance(agent, str) and agent else USER_AGENT

    def classify(self, response: httpx.Response) -> Any:
        host = urlsplit(str(response.url)).netloc
        path = urlsplit(str(response.url)).path
        if response.status_code == 401:
            return CredentialsError(
                self.source.name,
                f"{host} refused the client id/secret (HTTP 401); check login (client id) and password "
                f"(client secret) of {self.connection_hint()}",
            )
        if path.startswith("/comments/") and response.status_code in (403, 404):
            return ItemError("thread_unavailable", f"HTTP {response.status_code}")
        if response.status_code in (403, 404):
            return ConfigurationError(
                self.source.name,
                f"r/{self.source.params.get('subreddit')} is private, quarantined, banned or missing "
                f"(HTTP {response.status_code}); fix params.subreddit",
            )
        return None

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            client_id, secret = self.credentials.login, self.credentials.secret("client_secret")
            if not client_id or not secret:
                raise CredentialsError(
                    self.source.name,
                    f"Reddit needs a client id (login) and client secret (password) in {self.connection_hint()}",
                )
            data = self.http.get_json(
                self._token_url(),
                method="POST",
                data={"grant_type": "client_credentials"},
                auth=(client_id, secret),
                headers={"User-Agent": self._user_agent()},
                classify=self.classify,
            ).data
            token = data.get("access_token") if isinstance(data, dict) else None
            if not isinstance(token, str):
                raise CredentialsError(
                    self.source.name, f"no access token returned; check the app type behind {self.connection_hint()}"
                )
            self._token = token
        return {"Authorization": f"bearer {self._token}", "User-Agent": self._user_agent()}

    def _listing_request(self) -> tuple[str, dict[str, Any]]:
        subreddit = quote(self.source.params["subreddit"].removeprefix("r/"), safe="")
        query = self.source.params.get("query")
        if query:
            return f"{self.base_url}/r/{subreddit}/search", {
                "q": query, "restrict_sr": "1", "sort": "new", "limit": PAGE_SIZE, "raw_json": "1",
            }
        return f"{self.base_url}/r/{subreddit}/new", {"limit": PAGE_SIZE, "raw_json": "1"}

    def items(self, cursor: str | None) -> Iterator[Item]:
        url, params = self._listing_request()
        after: str | None = None
        seen_after: set[str] = set()
        while True:
            data = self.http.get_json(
                url, params={**params, **({"after": after} if after else {})}, headers=self._headers(),
                classify=self.classify,
            ).data
            self.stats["pages"] += 1
            listing = data.get("data") if isinstance(data, dict) else None
            children = listing.get("children") if isinstance(listing, dict) else None
            if not isinstance(children, list):
                yield Item(
                    reject=Reject("malformed_page", f"listing.data.children is {type_name(children)}, expected list"),
                    interrupted=True,
                )
                return
            for child in children:
                item = self._item(child, cursor)
                if item.skipped == "not_newer_than_cursor":
                    # /new is ordered by creation: everything after this one was collected before.
                    return
                yield item
                if item.post is not None and self.source.params.get("comments", True):
                    yield from self._comments(item.post)
            after = listing.get("after") if isinstance(listing.get("after"), str) else None
            if not children or not after or after in seen_after:
                return
            seen_after.add(after)

    def _item(self, child: Any, cursor: str | None) -> Item:
        data = child.get("data") if isinstance(child, dict) else None
        if isinstance(data, dict) and is_deleted(data):
            created = data.get("created_utc")
            try:
                position = iso_position(parse_time(created, where="created_utc", ref=None, epoch=True))
            except MappingError:
                position = None
            return Item(position=position, skipped="deleted")
        try:
            record = from_payload(child, self.source.name)
        except MappingError as error:
            return Item(reject=error.to_reject())
        position = iso_position(record.created_at)
        if not self.newer_than_cursor(position, cursor):
            return Item(position=position, skipped="not_newer_than_cursor")
        return Item(position=position, post=record)

    def _comments(self, submission: RawPost) -> Iterator[Item]:
        article = submission.post_id.removeprefix("t3_")
        try:
            data = self.http.get_json(
                f"{self.base_url}/comments/{quote(article, safe='')}",
                params={"sort": "new", "limit": COMMENT_LIMIT, "raw_json": "1"},
                headers=self._headers(),
                classify=self.classify,
            ).data
        except ItemError as error:
            self.stats["item_errors"] += 1
            self.stats[f"item_errors_{error.kind}"] += 1
            return
        except BadPage as error:
            # Comments are not ordered by the cursor: a lost comment page is a reject, the walk goes on.
            yield Item(reject=Reject(error.reason, error.detail, submission.post_id))
            return
        self.stats["comment_pages"] += 1
        if not (isinstance(data, list) and len(data) == 2 and isinstance(data[1], dict)):
            yield Item(reject=Reject("malformed_page", "comments response is not [submission, comments]", submission.post_id))
            return
        stack = list(reversed((data[1].get("data") or {}).get("children") or []))
        while stack:
            child = stack.pop()
            if not isinstance(child, dict):
                continue
            if child.get("kind") == "more":
                self.stats["comments_more_not_expanded"] += 1
                continue
            item = self._item(child, None)
            # Comment positions do not drive the cursor: a thread's comments are all collected with it.
            yield Item(post=item.post, reject=item.reject, skipped=item.skipped)
            replies = (child.get("data") or {}).get("replies")
            if isinstance(replies, dict):
                stack.extend(reversed((replies.get("data") or {}).get("children") or []))
