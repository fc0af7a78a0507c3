"""Bluesky XRPC: ``com.atproto.server.createSession`` and ``app.bsky.feed.searchPosts``.

Shapes follow the lexicons and recorded responses in ../shared/realdata/api/bluesky: ``{"posts": [postView],
"cursor", "hitsTotal"}``, ``{"error", "message"}`` bodies, ``ratelimit-*`` headers (epoch reset).
A query matches the posts of channel ``search:<query>``, else the posts whose text contains it.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from extractors.replay.corpus import DemoPost, iso_z
from extractors.replay.server import Api, Reply, Request

MAX_LIMIT = 100
RATE_LIMIT = 3000
OPT_OUT_LABEL = "!no-unauthenticated"


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class BlueskyApi(Api):
    platform = "bluesky"

    def __init__(self, state: Any):
        super().__init__(state)
        self.served = 0
        self._cache: dict[str, dict[str, Any]] = {}

    def error(self, status: int, message: str) -> Reply:
        name = {429: "RateLimitExceeded", 401: "AuthenticationRequired"}.get(status, "InternalServerError")
        return Reply(status, {"error": name, "message": message})

    def empty(self, request: Request) -> Reply:
        return Reply(200, {"posts": [], "hitsTotal": 0}, self._rate_headers())

    def _rate_headers(self) -> dict[str, str]:
        self.served += 1
        return {
            "ratelimit-limit": str(RATE_LIMIT),
            "ratelimit-remaining": str(max(RATE_LIMIT - self.served, 1)),
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": f"{RATE_LIMIT};w=300",
        }

    def handle(self, request: Request) -> Reply | None:
        if request.path == "/xrpc/com.atproto.server.createSession" and request.method == "POST":
            body = request.json() or {}
            identifier = body.get("identifier") if isinstance(body, dict) else None
            if not identifier or not body.get("password"):
                return Reply(400, {"error": "InvalidRequest", "message": "identifier and password required"},
                             data_request=False)
            # Any app password is accepted: the replay server never checks credentials.
            return Reply(200, {
                "did": "did:plc:replaysession000000000000",
                "handle": identifier,
                "accessJwt": "replay-access-token",
                "refreshJwt": "replay-refresh-token",
                "active": True,
            }, data_request=False)
        if request.path != "/xrpc/app.bsky.feed.searchPosts" or request.method != "GET":
            return None
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return Reply(401, {"error": "AuthenticationRequired", "message": "Authentication Required"},
                         data_request=False)
        return self._search(request)

    def _search(self, request: Request) -> Reply:
        query = request.query.get("q", "").strip()
        if not query:
            return Reply(400, {"error": "InvalidRequest", "message": "Error: Params must have the property \"q\""})
        try:
            limit = min(int(request.query.get("limit", 25)), MAX_LIMIT)
            offset = int(request.query.get("cursor") or 0)
        except ValueError:
            return Reply(400, {"error": "BadQueryString", "message": "bad limit or cursor"})
        posts = [p for p in self.posts() if p.channel == f"search:{query}"] or [
            p for p in self.posts() if query.lower() in p.text.lower()
        ]
        views = [(self.state.created_at(p), self._cached_view(p)) for p in posts]
        try:
            since, until = (_moment(request.query.get(k)) for k in ("since", "until"))
        except ValueError:
            return Reply(400, {"error": "BadQueryString", "message": "since/until must be datetimes"})
        if since:
            views = [(t, v) for t, v in views if t >= since]
        if until:
            views = [(t, v) for t, v in views if t < until]
        views.sort(key=lambda tv: tv[0], reverse=True)
        page = [v for _, v in views[offset:offset + limit]]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(views)}
        next_offset = offset + len(page)
        if page and next_offset < min(len(views), self.state.faults.search_cap):
            body["cursor"] = str(next_offset)
        return Reply(200, body, self._rate_headers(), offset=offset)

    def _cached_view(self, post: DemoPost) -> dict[str, Any]:
        # Rendering is the server's main cost; a post never changes during a run.
        if post.id not in self._cache:
            self._cache[post.id] = self.post_view(post)
        return self._cache[post.id]

    def post_view(self, post: DemoPost) -> dict[str, Any]:
        did = f"did:plc:{post.author_digest()[:24]}"
        uri = f"at://{did}/app.bsky.feed.post/3l{post.digest()[:11]}"
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": post.rendered_text(),
            "createdAt": iso_z(self.state.created_at(post)),
            "langs": [post.lang],
        }
        parent = self.state.by_id.get(post.reply_to or "")
        if parent is not None and parent.platform == "bluesky":
            parent_ref = {"uri": self.post_view(parent)["uri"], "cid": f"bafyrei{parent.digest()[:40]}"}
            root = parent
            while root.reply_to in self.state.by_id:
                root = self.state.by_id[root.reply_to]
            root_ref = {"uri": self.post_view(root)["uri"], "cid": f"bafyrei{root.digest()[:40]}"}
            record["reply"] = {"root": root_ref, "parent": parent_ref}
        author: dict[str, Any] = {
            "did": did,
            "handle": f"{post.author}.bsky.social",
            "displayName": post.display_name,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkreidemo@jpeg",
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z",
        }
        if post.author_opt_out:
            author["labels"] = [{
                "src": did, "uri": f"at://{did}/app.bsky.actor.profile/self", "cid": "bafyreidemo",
                "val": OPT_OUT_LABEL, "cts": "2024-01-01T00:00:00.000Z",
            }]
        kind = post.malformed
        if kind == "missing_text":
            del record["text"]
        elif kind == "empty_text":
            record["text"] = ""
        elif kind == "wrong_type_created_at":
            record["createdAt"] = int(self.state.created_at(post).timestamp())
        elif kind == "invalid_date":
            record["createdAt"] = "2026-13-45T99:61:00.000Z"
        view: dict[str, Any] = {
            "uri": uri,
            "cid": f"bafyrei{post.digest()[:40]}",
            "author": author,
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso_z(self.state.created_at(post)),
            "viewer": {},
            "labels": [],
        }
        if kind == "missing_author":
            del view["author"]
        return view
