"""Reddit OAuth API: ``/api/v1/access_token``, ``/r/{sub}/new``, ``/r/{sub}/search``, ``/comments/{id}``.

Shapes follow the recorded PRAW cassettes: ``Listing`` envelopes with ``after``, ``t3``/``t1`` children,
``x-ratelimit-remaining/-reset/-used`` headers (remaining as a float string, reset in seconds).
A demo post whose ``reply_to`` is set is a comment in the thread of the post it replies to.
"""

from __future__ import annotations

from typing import Any

from extractors.replay.corpus import DemoPost
from extractors.replay.server import Api, Reply, Request

MAX_LIMIT = 100
RATE_LIMIT = 600


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


class RedditApi(Api):
    platform = "reddit"

    def __init__(self, state: Any):
        super().__init__(state)
        self.served = 0
        self._cache: dict[str, dict[str, Any]] = {}

    def error(self, status: int, message: str) -> Reply:
        return Reply(status, {"message": message, "error": status})

    def empty(self, request: Request) -> Reply:
        if request.path.startswith("/comments/"):
            return Reply(200, [self._listing([]), self._listing([])], self._rate_headers())
        return Reply(200, self._listing([]), self._rate_headers())

    def _rate_headers(self) -> dict[str, str]:
        self.served += 1
        return {
            "x-ratelimit-remaining": f"{max(RATE_LIMIT - self.served, 1)}.0",
            "x-ratelimit-reset": "300",
            "x-ratelimit-used": str(self.served),
        }

    @staticmethod
    def _listing(children: list[dict], after: str | None = None) -> dict[str, Any]:
        return {"kind": "Listing", "data": {"after": after, "dist": len(children), "modhash": None,
                                            "geo_filter": None, "children": children, "before": None}}

    def handle(self, request: Request) -> Reply | None:
        if request.path == "/api/v1/access_token" and request.method == "POST":
            if not request.headers.get("authorization", "").startswith("Basic "):
                return Reply(401, {"message": "Unauthorized", "error": 401}, data_request=False)
            # Any client id and secret are accepted by the replay server.
            return Reply(200, {"access_token": "replay-token", "token_type": "bearer", "expires_in": 86400,
                               "scope": "*"}, data_request=False)
        parts = [p for p in request.path.split("/") if p]
        if request.method != "GET" or not parts or parts[0] not in ("r", "comments"):
            return None
        if not request.headers.get("authorization", "").lower().startswith("bearer "):
            return Reply(401, {"message": "Unauthorized", "error": 401}, data_request=False)
        if parts[0] == "comments" and len(parts) >= 2:
            return self._comments(parts[1])
        if len(parts) >= 3 and parts[2] in ("new", "search"):
            return self._subreddit(request, parts[1], search=parts[2] == "search")
        return Reply(404, {"message": "Not Found", "error": 404})

    def _submissions(self, subreddit: str) -> list[DemoPost]:
        return [p for p in self.posts() if p.channel.lower() == f"r/{subreddit.lower()}" and not p.reply_to]

    def _subreddit(self, request: Request, subreddit: str, *, search: bool) -> Reply:
        posts = self._submissions(subreddit)
        if not posts and not any(p.channel.lower() == f"r/{subreddit.lower()}" for p in self.state.corpus):
            return Reply(404, {"message": "Not Found", "error": 404, "reason": "banned"})
        if search:
            terms = request.query.get("q", "").lower().split()
            posts = [p for p in posts if all(t in p.text.lower() for t in terms)]
        try:
            limit = min(int(request.query.get("limit", 25)), MAX_LIMIT)
        except ValueError:
            return Reply(400, {"message": "Bad Request", "error": 400})
        things = [self._cached_thing(p) for p in posts]
        names = [t["data"]["name"] for t in things]
        after = request.query.get("after")
        start = names.index(after) + 1 if after in names else 0
        page = things[start:start + limit]
        next_after = page[-1]["data"]["name"] if page and start + limit < len(things) else None
        return Reply(200, self._listing(page, next_after), self._rate_headers(), offset=start)

    def _comments(self, article: str) -> Reply:
        for post in self.posts():
            if not post.reply_to and self.base_id(post) == article:
                replies = self._reply_tree(post)
                return Reply(200, [self._listing([self.thing(post)]), self._listing(replies)], self._rate_headers())
        return Reply(404, {"message": "Not Found", "error": 404})

    def _reply_tree(self, parent: DemoPost) -> list[dict]:
        children = [p for p in self.posts() if p.reply_to == parent.id]
        things = []
        for child in children:
            thing = self.thing(child)
            below = self._reply_tree(child)
            thing["data"]["replies"] = self._listing(below) if below else ""
            things.append(thing)
        return things

    def base_id(self, post: DemoPost) -> str:
        return _base36(int(post.digest()[:10], 16))

    def _root(self, post: DemoPost) -> DemoPost:
        while post.reply_to in self.state.by_id:
            post = self.state.by_id[post.reply_to]
        return post

    def _cached_thing(self, post: DemoPost) -> dict[str, Any]:
        # Rendering is the server's main cost; a listed post never changes during a run.
        if post.id not in self._cache:
            self._cache[post.id] = self.thing(post)
        return self._cache[post.id]

    def thing(self, post: DemoPost) -> dict[str, Any]:
        is_comment = bool(post.reply_to) and post.reply_to in self.state.by_id
        base_id = self.base_id(post)
        created = self.state.created_at(post).timestamp()
        subreddit = post.channel.removeprefix("r/")
        data: dict[str, Any] = {
            "id": base_id,
            "name": f"{'t1' if is_comment else 't3'}_{base_id}",
            "author": post.author,
            "author_fullname": f"t2_{post.author_digest()[:8]}",
            "created_utc": float(int(created)),
            "created": float(int(created)),
            "subreddit": subreddit,
            "subreddit_name_prefixed": f"r/{subreddit}",
            "score": 1,
            "ups": 1,
            "downs": 0,
            "locked": False,
            "stickied": False,
            "distinguished": None,
            "edited": False,
        }
        text = post.rendered_text()
        if is_comment:
            parent = self.state.by_id[post.reply_to]
            root = self._root(post)
            data.update({
                "body": text,
                "link_id": f"t3_{self.base_id(root)}",
                "parent_id": f"{'t1' if parent.reply_to else 't3'}_{self.base_id(parent)}",
                "permalink": f"/r/{subreddit}/comments/{self.base_id(root)}/demo/{base_id}/",
                "replies": "",
            })
            text_key = "body"
        else:
            title, _, body = text.partition(". ")
            data.update({
                "title": title if body else text,
                "selftext": body,
                "is_self": True,
                "num_comments": sum(1 for p in self.state.corpus if p.reply_to == post.id),
                "permalink": f"/r/{subreddit}/comments/{base_id}/demo/",
                "url": f"https://www.reddit.com/r/{subreddit}/comments/{base_id}/demo/",
                "over_18": False,
            })
            text_key = "title"
        kind = post.malformed
        if kind == "missing_text":
            data.pop(text_key)
            data.pop("selftext", None)
        elif kind == "empty_text":
            data[text_key] = ""
            if "selftext" in data:
                data["selftext"] = ""
        elif kind == "wrong_type_created_at":
            data["created_utc"] = self.state.created_at(post).strftime("%Y-%m-%d %H:%M")
        elif kind == "invalid_date":
            data["created_utc"] = 1e20
        elif kind == "missing_author":
            data.pop("author")
            data.pop("author_fullname")
        if post.id in self.state.faults.deleted:
            # Deleted between two requests: Reddit keeps the item but blanks author and text.
            data.update({"author": "[deleted]", "author_fullname": None})
            data[text_key] = "[deleted]"
            if "selftext" in data:
                data["selftext"] = "[deleted]"
        return {"kind": "t1" if is_comment else "t3", "data": data}

    def posts(self) -> list[DemoPost]:
        # Reddit keeps deleted items in listings (blanked), so deleted posts stay visible here.
        return self.state.all_posts(self.platform)
