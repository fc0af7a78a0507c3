"""Serve recorded real API payloads (../shared/realdata/api) over local HTTP.

Cassettes (Mastodon VCR YAML, Reddit betamax JSON) replay their recorded requests; body-only recordings
(Bluesky, YouTube) are mounted on the request they answer (:data:`BODY_ONLY`). A request matches a recording
when the method and path agree and every recorded query parameter is present with the same value; a
pagination parameter (``max_id``, ``after``, ``cursor``, ``pageToken``...) must have been recorded too. A
request on a recorded path with no matching recording gets the platform's empty page: the end of what was
recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from extractors.replay.server import Api, Reply, Request

PAGINATION_PARAMS = frozenset({"max_id", "min_id", "since_id", "after", "before", "cursor", "pageToken", "parentId"})
_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding", "connection"})
_TRUE = {"1": "true", "true": "true", "True": "true", "0": "false", "false": "false", "False": "false"}

# (platform, file, method, path, query that the body answers)
BODY_ONLY: tuple[tuple[str, str, str, str, dict[str, str]], ...] = (
    ("bluesky", "bluesky/responses/searchPosts.json", "GET", "/xrpc/app.bsky.feed.searchPosts", {}),
    ("youtube", "youtube/search_by_keywords_p1.json", "GET", "/youtube/v3/search", {}),
    ("youtube", "youtube/search_by_keywords_p2.json", "GET", "/youtube/v3/search", {"pageToken": "CBkQAA"}),
    ("youtube", "youtube/comment_threads_by_video_paged_1.json", "GET", "/youtube/v3/commentThreads",
     {"videoId": "F1UP7wRCPH8"}),
    ("youtube", "youtube/comments_by_parent_paged_1.json", "GET", "/youtube/v3/comments",
     {"parentId": "Ugw5zYU6n9pmIgAZWvN4AaABAg"}),
)
EMPTY_PAGES: dict[str, Any] = {
    "mastodon": [],
    "reddit": {"kind": "Listing", "data": {"after": None, "dist": 0, "children": [], "before": None}},
    "bluesky": {"posts": []},
    "youtube": {"kind": "youtube#listResponse", "pageInfo": {"totalResults": 0, "resultsPerPage": 0}, "items": []},
}


@dataclass
class Recording:
    platform: str
    method: str
    path: str
    query: dict[str, str]
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Recordings:
    """Recorded exchanges, looked up by request."""

    items: list[Recording] = field(default_factory=list)

    def add_cassette(self, path: Path, platform: str) -> None:
        """Add the interactions of a VCR (YAML) or betamax (JSON) cassette."""
        if path.suffix == ".yaml":
            import yaml

            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        else:
            document = json.loads(path.read_text(encoding="utf-8"))
        for interaction in document["interactions"]:
            request, response = interaction["request"], interaction["response"]
            url = urlsplit(request["uri"])
            headers = {
                name: values[0] if isinstance(values, list) else values
                for name, values in response.get("headers", {}).items()
                if name.lower() not in _DROPPED_HEADERS
            }
            body = response.get("body", {}).get("string", "")
            self.items.append(Recording(
                platform=platform,
                method=request["method"].upper(),
                path=url.path.rstrip("/") or "/",
                query=dict(parse_qsl(url.query, keep_blank_values=True)),
                status=int(response["status"]["code"]),
                headers=headers,
                body=body.encode("utf-8") if isinstance(body, str) else bytes(body),
            ))

    def add_body(self, platform: str, file: Path, method: str, path: str, query: dict[str, str]) -> None:
        self.items.append(Recording(platform, method, path, query, 200, {}, file.read_bytes()))

    def match(self, request: Request) -> tuple[Recording | None, str | None]:
        """The best recording for ``request``, and the platform of its path (for an empty page)."""
        path = request.path.rstrip("/") or "/"
        asked = {k: _TRUE.get(v, v) for k, v in request.query.items()}
        best, best_score, platform = None, -1, None
        for recording in self.items:
            if recording.method != request.method or recording.path != path:
                continue
            platform = recording.platform
            wanted = {k: _TRUE.get(v, v) for k, v in recording.query.items()}
            if any(asked.get(k) != v for k, v in wanted.items()):
                continue
            if any(k in PAGINATION_PARAMS and k not in wanted for k in asked):
                continue
            if len(wanted) > best_score:
                best, best_score = recording, len(wanted)
        return best, platform


def load_recordings(root: str | Path) -> Recordings:
    """Every recording under ``root`` (the ``realdata/api`` folder)."""
    root = Path(root)
    recordings = Recordings()
    for cassette in sorted((root / "mastodon").glob("*.yaml")):
        recordings.add_cassette(cassette, "mastodon")
    for cassette in sorted((root / "reddit").glob("*.json")):
        recordings.add_cassette(cassette, "reddit")
    for platform, file, method, path, query in BODY_ONLY:
        recordings.add_body(platform, root / file, method, path, query)
    return recordings


class RecordedApi(Api):
    """Answers from recordings; Bluesky sessions (never recorded) are made up."""

    platform = "recorded"

    def error(self, status: int, message: str) -> Reply:
        return Reply(status, {"error": message})

    def empty(self, request: Request) -> Reply:
        _, platform = self.state.recorded.match(request)
        return Reply(200, EMPTY_PAGES.get(platform or "", {}))

    def handle(self, request: Request) -> Reply | None:
        if request.path == "/xrpc/com.atproto.server.createSession":
            return Reply(200, {"did": "did:plc:replaysession000000000000", "handle": "replay.invalid",
                               "accessJwt": "replay-access-token", "refreshJwt": "replay-refresh-token"},
                         data_request=False)
        recording, platform = self.state.recorded.match(request)
        if recording is not None:
            return Reply(recording.status, recording.body, dict(recording.headers),
                         data_request=request.method == "GET")
        if platform is not None:
            return Reply(200, EMPTY_PAGES[platform])
        return None
