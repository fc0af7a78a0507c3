"""Mastodon: public hashtag timelines and the public/local timelines of an instance.

API: ``GET /api/v1/timelines/tag/:hashtag`` and ``GET /api/v1/timelines/public[?local=true]``, 40 statuses
a page, paginated by the ``Link`` header (``rel="next"`` carries ``max_id``, ``rel="prev"`` ``min_id``).

- Without a cursor the walk starts at the newest status and follows ``rel="next"`` to the end (or the limit).
- With a cursor (the newest timeline id already collected) it asks ``min_id=cursor`` and walks forward
  (oldest first), so a run cut by its limit still advances the cursor without leaving a hole.
- A reblog is collected once, as the original status; accounts that opted out of discovery or search
  indexing (``noindex: true``, ``indexable: false``, ``discoverable: false``) are skipped and counted.
- Content is HTML: it becomes plain text, mentions becoming ``@user`` (redacted later by privacy).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx

from extractors.base import (
    CredentialsError,
    ConfigurationError,
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
from extractors.http import RETRY
from extractors.platforms import Item, Platform

PAGE_SIZE = 40
TIMELINES = ("public", "local")
PUBLIC_VISIBILITIES = ("public", "unlisted")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?')
_BLOCK_TAGS = {"p", "div", "blockquote", "li", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextExtractor(HTMLParser):
    """Plain text of Mastodon's status HTML: paragraphs become blank lines, ``<br>`` a newline.

    Mentions render as ``<span class="h-card"><a ...>@<span>user</span></a></span>``; keeping the anchor text
    gives ``@user`` as written, for the privacy redactor to replace.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK_TAGS and self.parts and not self.parts[-1].endswith("\n\n"):
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of a status's HTML content."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def parse_link_header(value: str | None) -> dict[str, str]:
    """``{"next": url, "prev": url}`` from a ``Link`` header."""
    return {rel: url for url, rel in _LINK.findall(value or "")}


def opted_out(account: dict) -> bool:
    """The account asked not to be found or indexed (only an explicit flag counts, not ``null``)."""
    return account.get("noindex") is True or account.get("indexable") is False or account.get("discoverable") is False


def from_payload(status: Any, source: str) -> RawPost:
    """The :class:`RawPost` of one (original, not reblog) status; :class:`MappingError` if unmappable."""
    if not isinstance(status, dict):
        raise MappingError("wrong_type", f"status is {type_name(status)}, expected dict")
    ref = status.get("id") if isinstance(status.get("id"), str) else None
    post_id = require_str(status, "id", where="status", ref=ref)
    account = status.get("account")
    if not isinstance(account, dict):
        raise MappingError("missing_author", f"status.account is {type_name(account)}, expected dict", ref)
    author_id = require_str(account, "id", where="status.account", ref=ref)
    created_at = parse_time(status.get("created_at"), where="status.created_at", ref=ref)
    content = require_str(status, "content", where="status", ref=ref, allow_empty=True)
    text = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    if not text.strip():
        raise MappingError("empty_text", "status.content has no text once HTML is removed", ref)
    reply_to = optional_str(status, "in_reply_to_id")
    fields = dict(
        author_handle=optional_str(account, "acct"),
        author_name=optional_str(account, "display_name"),
        author_url=optional_str(account, "url"),
        url=optional_str(status, "url") or optional_str(status, "uri"),
        lang_tag=optional_str(status, "language"),
        reply_to_id=reply_to,
        # A status carries no thread root id: a top-level status is its own root, a reply's root is unknown.
        thread_id=None if reply_to else post_id,
    )
    return RawPost(
        platform=Mastodon.name,
        source=source,
        post_id=post_id,
        author_id=author_id,
        created_at=created_at,
        text=text,
        engagement=counts(
            replies=status.get("replies_count"),
            reblogs=status.get("reblogs_count"),
            favourites=status.get("favourites_count"),
        ),
        missing=missing_fields(**fields),
        **fields,
    )


class Mastodon(Platform):
    """Client of one Mastodon timeline (hashtag, public or local)."""

    name = "mastodon"
    default_base_url = "https://mastodon.social"
    # Mastodon allows 300 requests per 5 minutes per account or IP.
    default_requests_per_minute = 60
    param_types: ClassVar[dict] = {"hashtag": str, "timeline": str}
    query_help = (
        "Mastodon: --query is a hashtag ('galere' or '#galere'), or 'public' / 'local' for the instance's "
        "public or local timeline; without --query, the public timeline."
    )

    @classmethod
    def params_from_query(cls, query: str | None) -> dict[str, Any]:
        if not query or query.strip().lower() in TIMELINES:
            return {"timeline": (query or "public").strip().lower()}
        return {"hashtag": query.strip().removeprefix("tag:").lstrip("#")}

    def _timeline(self) -> tuple[str, dict[str, str]]:
        params = self.source.params
        hashtag = params.get("hashtag")
        if hashtag:
            return f"/api/v1/timelines/tag/{quote(hashtag.lstrip('#'), safe='')}", {}
        timeline = params.get("timeline", "public")
        if timeline not in TIMELINES:
            raise ConfigurationError(
                self.source.name, f"params.timeline is {timeline!r}; use 'public' or 'local', or set params.hashtag"
            )
        return "/api/v1/timelines/public", ({"local": "true"} if timeline == "local" else {})

    def _headers(self) -> dict[str, str]:
        token = self.credentials.secret("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def classify(self, response: httpx.Response) -> Any:
        if response.status_code in (401, 403):
            return CredentialsError(
                self.source.name,
                f"{urlsplit(self.base_url).netloc} refused the request (HTTP {response.status_code}); set a valid "
                f"access token as the password of {self.connection_hint()}",
            )
        if response.status_code == 422:
            # Instances that restrict timelines to signed-in users answer 422 to anonymous requests.
            return CredentialsError(
                self.source.name,
                f"{urlsplit(self.base_url).netloc} requires a signed-in user for this timeline; set an access "
                f"token as the password of {self.connection_hint()}",
            )
        if response.status_code == 404:
            return ConfigurationError(
                self.source.name, f"{urlsplit(self.base_url).netloc} has no such timeline; check params and base_url"
            )
        return RETRY if response.status_code == 408 else None

    def walks_forward(self, cursor: str | None) -> bool:
        return cursor is not None

    def position_key(self, position: str) -> Any:
        # Snowflake ids: compare as numbers; a longer id is a newer one.
        return (len(position), position)

    def _same_host(self, link: str) -> str:
        """The link's path and query on our base URL: tokens never go to another host a Link might name."""
        parts = urlsplit(link)
        return f"{self.base_url}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def items(self, cursor: str | None) -> Iterator[Item]:
        path, base_params = self._timeline()
        forward = cursor is not None
        url = f"{self.base_url}{path}"
        params: dict[str, str] | None = {**base_params, "limit": str(PAGE_SIZE)}
        if forward:
            params["min_id"] = cursor
        seen_positions: set[str] = set()
        empty_retried = False
        while True:
            response = self.http.get_json(url, params=params, headers=self._headers(), classify=self.classify)
            self.stats["pages"] += 1
            page = response.data
            if not isinstance(page, list):
                yield Item(
                    reject=Reject("malformed_page", f"timeline page is {type_name(page)}, expected list"),
                    interrupted=True,
                )
                return
            if not page:
                # An empty page is the end of the timeline, unless the server stumbled: ask once more.
                if empty_retried:
                    return
                empty_retried = True
                self.stats["empty_page_retries"] += 1
                continue
            empty_retried = False
            ordered = list(reversed(page)) if forward else page
            new_positions = 0
            for status in ordered:
                position = status.get("id") if isinstance(status, dict) and isinstance(status.get("id"), str) else None
                if position is not None and position in seen_positions:
                    continue
                if position is not None:
                    seen_positions.add(position)
                    new_positions += 1
                yield self._item(status, position)
            if new_positions == 0:
                # The server ignored the pagination parameters and served the same page again.
                self.stats["repeated_pages"] += 1
                return
            links = parse_link_header(response.headers.get("link"))
            positions = [s["id"] for s in page if isinstance(s, dict) and isinstance(s.get("id"), str)]
            if forward:
                # Build min_id ourselves: it is the newest id of this page, whatever Link says.
                params = {**base_params, "limit": str(PAGE_SIZE), "min_id": max(positions, key=self.position_key)}
                url = f"{self.base_url}{path}"
            elif "next" in links:
                url, params = self._same_host(links["next"]), None
            elif positions:
                url = f"{self.base_url}{path}"
                params = {**base_params, "limit": str(PAGE_SIZE), "max_id": min(positions, key=self.position_key)}
            else:
                return

    def _item(self, status: Any, position: str | None) -> Item:
        original = status.get("reblog") if isinstance(status, dict) else None
        if isinstance(original, dict):
            # The wrapper's id is the timeline position; the record is the original status.
            self.stats["reblogs_unwrapped"] += 1
            status = original
        if isinstance(status, dict):
            account = status.get("account")
            if isinstance(account, dict) and opted_out(account):
                return Item(position=position, skipped="opt_out")
            if status.get("visibility") not in (None, *PUBLIC_VISIBILITIES):
                return Item(position=position, skipped="not_public")
        try:
            return Item(position=position, post=from_payload(status, self.source.name))
        except MappingError as error:
            return Item(position=position, reject=error.to_reject())
