"""YouTube Data API v3 under ``/youtube/v3``: ``search``, ``commentThreads``, ``comments``.

Shapes follow the recorded pyyoutube payloads and the discovery document: ``youtube#...ListResponse``
envelopes with ``pageInfo`` and ``nextPageToken``, Google error bodies (``error.errors[].reason``).
Demo channel ``video:ID`` holds the comments of video ID; every demo video matches every search query
(the demo's videos are all found by the query "decrochage"). Replies (``reply_to``) are listed under their thread.
"""

from __future__ import annotations

from typing import Any

from extractors.replay.corpus import DemoPost, iso_z
from extractors.replay.server import Api, Reply, Request

PREFIX = "/youtube/v3/"
MAX_RESULTS = 100
INLINE_REPLIES = 5


def google_error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> dict[str, Any]:
    return {"error": {"code": status, "message": message,
                      "errors": [{"message": message, "domain": domain, "reason": reason}]}}


class YouTubeApi(Api):
    platform = "youtube"

    def __init__(self, state: Any):
        super().__init__(state)
        self._threads_cache: dict[tuple[str, bool, int], list[dict[str, Any]]] = {}

    def error(self, status: int, message: str) -> Reply:
        reason = {429: "rateLimitExceeded", 503: "backendError"}.get(status, "backendError")
        return Reply(status, google_error(status, reason, message, "global"))

    def empty(self, request: Request) -> Reply:
        kind = {"search": "searchListResponse", "comments": "commentListResponse"}.get(
            request.path.removeprefix(PREFIX), "commentThreadListResponse")
        return Reply(200, {"kind": f"youtube#{kind}", "pageInfo": {"totalResults": 0, "resultsPerPage": 0},
                           "items": []})

    def handle(self, request: Request) -> Reply | None:
        if not request.path.startswith(PREFIX) or request.method != "GET":
            return None
        if not request.query.get("key"):
            return Reply(403, google_error(403, "forbidden", "The request is missing a valid API key.", "global"),
                         data_request=False)
        quota_after = self.state.faults.quota_after
        if quota_after is not None and self.state.data_requests >= quota_after:
            return Reply(403, google_error(
                403, "quotaExceeded",
                "The request cannot be completed because you have exceeded your quota.", "youtube.quota"),
                data_request=False)
        resource = request.path.removeprefix(PREFIX)
        try:
            limit = min(int(request.query.get("maxResults", 20)), MAX_RESULTS)
            offset = int(request.query.get("pageToken", "0") or 0)
        except ValueError:
            return Reply(400, google_error(400, "invalidPageToken", "The page token is not valid.", "youtube.parameter"))
        if resource == "search":
            return self._search(request, limit, offset)
        if resource == "commentThreads":
            return self._threads(request, limit, offset)
        if resource == "comments":
            return self._replies(request, limit, offset)
        return Reply(404, google_error(404, "notFound", "Not Found", "global"))

    def _page(self, kind: str, items: list[dict], limit: int, offset: int) -> Reply:
        page = items[offset:offset + limit]
        body: dict[str, Any] = {"kind": f"youtube#{kind}", "etag": f"replay-{kind}-{offset}",
                                "pageInfo": {"totalResults": len(items), "resultsPerPage": limit}, "items": page}
        if offset + limit < len(items):
            body["nextPageToken"] = str(offset + limit)
        if offset:
            body["prevPageToken"] = str(max(offset - limit, 0))
        return Reply(200, body, offset=offset)

    def _videos(self) -> list[str]:
        videos: list[str] = []
        for post in self.state.all_posts(self.platform):
            video = post.channel.removeprefix("video:")
            if video not in videos:
                videos.append(video)
        return sorted(videos)

    def _search(self, request: Request, limit: int, offset: int) -> Reply:
        channel = request.query.get("channelId")
        videos = [v for v in self._videos() if not channel or channel == "UCmaraudedemo0000000000"]
        items = [{
            "kind": "youtube#searchResult",
            "etag": f"replay-{video}",
            "id": {"kind": "youtube#video", "videoId": video},
            "snippet": {"publishedAt": iso_z(self.state.anchor), "channelId": "UCmaraudedemo0000000000",
                        "title": f"Vidéo de démonstration {video}", "description": "", "channelTitle": "Démo",
                        "liveBroadcastContent": "none"},
        } for video in videos]
        return self._page("searchListResponse", items, limit, offset)

    def _threads(self, request: Request, limit: int, offset: int) -> Reply:
        video = request.query.get("videoId", "")
        if video in self.state.faults.comments_disabled:
            return Reply(403, google_error(
                403, "commentsDisabled",
                f"The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId"
                f"</a></code> parameter has disabled comments."))
        if video not in self._videos():
            return Reply(404, google_error(404, "videoNotFound", "The video identified by the videoId parameter "
                                           "could not be found.", "youtube.commentThread"))
        with_replies = "replies" in request.query.get("part", "")
        key = (video, with_replies, len(self.posts()))
        if key not in self._threads_cache:
            # Rendering is the server's main cost: build a video's threads once per corpus state.
            self._threads_cache[key] = self._render_threads(video, with_replies)
        return self._page("commentThreadListResponse", self._threads_cache[key], limit, offset)

    def _render_threads(self, video: str, with_replies: bool) -> list[dict[str, Any]]:
        children = self._children()
        threads = []
        for top in (p for p in self.posts() if p.channel == f"video:{video}" and not p.reply_to):
            replies = self._thread_replies(top, children)
            thread: dict[str, Any] = {
                "kind": "youtube#commentThread",
                "etag": f"replay-{top.id}",
                "id": self.comment_id(top),
                "snippet": {"videoId": video, "topLevelComment": self.comment(top), "canReply": True,
                            "totalReplyCount": len(replies), "isPublic": True},
            }
            if replies and with_replies:
                thread["replies"] = {"comments": [self.comment(r) for r in replies[:INLINE_REPLIES]]}
            threads.append(thread)
        return threads

    def _children(self) -> dict[str, list[DemoPost]]:
        children: dict[str, list[DemoPost]] = {}
        for post in self.posts():
            if post.reply_to:
                children.setdefault(post.reply_to, []).append(post)
        return children

    @staticmethod
    def _thread_replies(top: DemoPost, children: dict[str, list[DemoPost]]) -> list[DemoPost]:
        """All replies under ``top`` (YouTube threads are flat), newest first."""
        found, frontier = [], [top.id]
        while frontier:
            below = children.get(frontier.pop(), [])
            found.extend(below)
            frontier.extend(p.id for p in below)
        return sorted(found, key=lambda p: (p.days_ago, p.id))

    def _replies(self, request: Request, limit: int, offset: int) -> Reply:
        parent = request.query.get("parentId", "")
        for post in self.posts():
            if not post.reply_to and self.comment_id(post) == parent:
                items = [self.comment(r) for r in self._thread_replies(post, self._children())]
                return self._page("commentListResponse", items, limit, offset)
        return Reply(404, google_error(404, "commentNotFound", "The comment identified by the parentId parameter "
                                       "could not be found.", "youtube.comment"))

    def comment_id(self, post: DemoPost) -> str:
        return f"Ugz{post.digest()[:20]}AaABAg"

    def comment(self, post: DemoPost) -> dict[str, Any]:
        channel_id = f"UC{post.author_digest()[:22]}"
        text = post.rendered_text()
        snippet: dict[str, Any] = {
            "authorDisplayName": f"@{post.author}",
            "authorProfileImageUrl": "https://yt3.ggpht.com/a/demo=s48-c-k-c0xffffffff-no-rj-mo",
            "authorChannelUrl": f"http://www.youtube.com/channel/{channel_id}",
            "authorChannelId": {"value": channel_id},
            "videoId": post.channel.removeprefix("video:"),
            "textDisplay": text,
            "textOriginal": text,
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": iso_z(self.state.created_at(post)),
            "updatedAt": iso_z(self.state.created_at(post)),
        }
        if post.reply_to:
            root = post
            while root.reply_to in self.state.by_id:
                root = self.state.by_id[root.reply_to]
            snippet["parentId"] = self.comment_id(root)
        kind = post.malformed
        if kind == "missing_text":
            del snippet["textDisplay"], snippet["textOriginal"]
        elif kind == "empty_text":
            snippet["textDisplay"] = snippet["textOriginal"] = ""
        elif kind == "wrong_type_created_at":
            snippet["publishedAt"] = int(self.state.created_at(post).timestamp())
        elif kind == "invalid_date":
            snippet["publishedAt"] = "2026-13-45T99:61:00.000Z"
        elif kind == "missing_author":
            del snippet["authorChannelId"]
        return {"kind": "youtube#comment", "etag": f"replay-{post.id}", "id": self.comment_id(post),
                "snippet": snippet}
