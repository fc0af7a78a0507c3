"""Mastodon 4.x timelines: ``/api/v1/timelines/tag/:tag`` and ``/api/v1/timelines/public[?local]``.

Shapes follow the recorded Mastodon 4.6.4 cassettes: statuses newest first, ``Link`` header with
``rel="next"`` (``max_id``) and ``rel="prev"`` (``min_id``), ``x-ratelimit-*`` headers, ``{"error": ...}`` bodies.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlencode

from extractors.replay.corpus import DemoPost, iso_z
from extractors.replay.server import Api, Reply, Request

DEFAULT_LIMIT = 20
MAX_LIMIT = 40
RATE_LIMIT = 300
_MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,30})")
_TAG = re.compile(r"(?<![\w#])#(\w{1,60})")


def _key(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)


class MastodonApi(Api):
    platform = "mastodon"

    def __init__(self, state: Any):
        super().__init__(state)
        self.served = 0
        self._cache: dict[str, dict[str, Any]] = {}

    def error(self, status: int, message: str) -> Reply:
        return Reply(status, {"error": message})

    def empty(self, request: Request) -> Reply:
        return Reply(200, [], self._rate_headers())

    def _rate_headers(self) -> dict[str, str]:
        self.served += 1
        reset = self.state.anchor + timedelta(days=1)
        return {
            "x-ratelimit-limit": str(RATE_LIMIT),
            "x-ratelimit-remaining": str(max(RATE_LIMIT - self.served % RATE_LIMIT, 1)),
            "x-ratelimit-reset": reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def handle(self, request: Request) -> Reply | None:
        if request.method != "GET":
            return None
        if request.path.startswith("/api/v1/timelines/tag/"):
            tag = unquote(request.path.rsplit("/", 1)[-1]).lower()
            posts = [p for p in self.posts() if p.channel.lower() == f"tag:{tag}"]
        elif request.path == "/api/v1/timelines/public":
            posts = [p for p in self.posts() if p.channel == "public"]
        else:
            return None
        return self._timeline(request, posts)

    def _timeline(self, request: Request, posts: list[DemoPost]) -> Reply:
        statuses = [self._cached_status(p) for p in posts]
        reblog_of = self.state.faults.reblog_of
        if reblog_of and reblog_of in {p.id for p in posts}:
            statuses.append(self._reblog(self.state.by_id[reblog_of]))
        statuses.sort(key=lambda s: _key(s["id"]), reverse=True)
        try:
            limit = min(int(request.query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
        except ValueError:
            return Reply(400, {"error": "limit must be a number"})
        ranks = {s["id"]: rank for rank, s in enumerate(statuses)}
        max_id, min_id, since_id = (request.query.get(k) for k in ("max_id", "min_id", "since_id"))
        if max_id:
            statuses = [s for s in statuses if _key(s["id"]) < _key(max_id)]
        if since_id:
            statuses = [s for s in statuses if _key(s["id"]) > _key(since_id)]
        if min_id:
            # The page just above min_id (oldest ones first in time), still returned newest first.
            page = [s for s in statuses if _key(s["id"]) > _key(min_id)][-limit:]
        else:
            page = statuses[:limit]
        headers = self._rate_headers()
        if page:
            keep = {k: v for k, v in request.query.items() if k in ("local", "remote", "only_media", "limit")}
            base = f"http://{request.headers.get('host', 'localhost')}{request.path}"
            headers["Link"] = (
                f'<{base}?{urlencode({**keep, "max_id": page[-1]["id"]})}>; rel="next", '
                f'<{base}?{urlencode({**keep, "min_id": page[0]["id"]})}>; rel="prev"'
            )
        return Reply(200, page, headers, offset=ranks[page[0]["id"]] if page else None)

    def account(self, post: DemoPost) -> dict[str, Any]:
        account_id = str(int(post.author_digest()[:15], 16))
        opted_out = post.author_opt_out
        return {
            "id": account_id,
            "username": post.author,
            "acct": post.author,
            "display_name": post.display_name,
            "locked": False,
            "bot": False,
            "discoverable": not opted_out,
            "indexable": not opted_out,
            "group": False,
            "created_at": "2024-01-01T00:00:00.000Z",
            "note": "",
            "url": f"https://demo.invalid/@{post.author}",
            "uri": f"https://demo.invalid/users/{post.author}",
            "avatar": "https://demo.invalid/avatars/original/missing.png",
            "followers_count": 0,
            "following_count": 0,
            "statuses_count": 1,
            "noindex": opted_out,
            "emojis": [],
            "roles": [],
            "fields": [],
        }

    def content_html(self, text: str) -> str:
        escaped = html.escape(text, quote=False)
        escaped = _MENTION.sub(
            lambda m: (
                f'<span class="h-card" translate="no"><a href="https://demo.invalid/@{m.group(1)}" '
                f'class="u-url mention">@<span>{m.group(1)}</span></a></span>'
            ),
            escaped,
        )
        escaped = _TAG.sub(
            lambda m: (
                f'<a href="https://demo.invalid/tags/{m.group(1)}" class="mention hashtag" rel="tag">'
                f"#<span>{m.group(1)}</span></a>"
            ),
            escaped,
        )
        paragraphs = [p.replace("\n", "<br />") for p in escaped.split("\n\n")]
        return "".join(f"<p>{p}</p>" for p in paragraphs)

    def _cached_status(self, post: DemoPost) -> dict[str, Any]:
        # Rendering is the server's main cost; a status never changes during a run.
        if post.id not in self._cache:
            self._cache[post.id] = self.status(post)
        return self._cache[post.id]

    def status(self, post: DemoPost) -> dict[str, Any]:
        status_id = post.snowflake()
        status: dict[str, Any] = {
            "id": status_id,
            "created_at": iso_z(self.state.created_at(post)),
            "in_reply_to_id": self.state.by_id[post.reply_to].snowflake() if post.reply_to in self.state.by_id else None,
            "in_reply_to_account_id": None,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": post.lang,
            "uri": f"https://demo.invalid/users/{post.author}/statuses/{status_id}",
            "url": f"https://demo.invalid/@{post.author}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": self.content_html(post.rendered_text()),
            "reblog": None,
            "application": {"name": "Maraude replay", "website": None},
            "account": self.account(post),
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
            "card": None,
            "poll": None,
        }
        kind = post.malformed
        if kind == "missing_text":
            del status["content"]
        elif kind == "empty_text":
            status["content"] = ""
        elif kind == "wrong_type_created_at":
            status["created_at"] = int(self.state.created_at(post).timestamp())
        elif kind == "invalid_date":
            status["created_at"] = "2026-13-45T99:61:00.000Z"
        elif kind == "missing_author":
            del status["account"]
        return status

    def _reblog(self, original: DemoPost) -> dict[str, Any]:
        """A reblog wrapper by a fictional account, one minute after the original."""
        wrapper_time = self.state.created_at(original) + timedelta(minutes=1)
        wrapper_id = str(int(original.snowflake()) + (60_000 << 16))
        booster = DemoPost(
            id=f"{original.id}-boost", platform="mastodon", channel=original.channel, author="relais_demo",
            display_name="Relais Démo", days_ago=original.days_ago, lang=original.lang, text="",
        )
        return {
            **self.status(original),
            "id": wrapper_id,
            "created_at": iso_z(wrapper_time),
            "content": "",
            "account": self.account(booster),
            "reblog": self.status(original),
        }
