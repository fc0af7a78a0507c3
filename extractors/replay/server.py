"""A local HTTP server speaking the supported platforms' APIs over the demo corpus (or recorded payloads).

Same paths, pagination, rate-limit headers and error bodies as the real APIs, so the extractors run
unchanged against it. Listens on 127.0.0.1 (port 0: a free one) in a background thread::

    with serve() as base_url:
        collect(SourceConfig(..., base_url=base_url), cursor=None)

:class:`Faults` injects, once each, what the real services do to a client: 429 with ``Retry-After``, 503,
a slow answer (client timeout), a truncated body, a malformed JSON page, an empty page; plus a post deleted
between pages, a reblog of a collected post, a page that stays broken, a spent YouTube quota.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import pkgutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from extractors.replay.corpus import DemoPost, created_at, day_anchor, load_corpus

FAULT_KINDS = frozenset({"429", "503", "timeout", "truncated", "malformed", "empty"})


@dataclass
class Faults:
    """Faults to inject. ``schedule`` maps the ordinal of a data request (1 = the first) to a fault kind."""

    schedule: dict[int, str] = field(default_factory=dict)
    retry_after_s: float = 1.0
    delay_s: float = 2.0
    broken_page_offset: int | None = None
    """A listing page starting at this offset is malformed every time it is asked."""
    deleted: frozenset[str] = frozenset()
    """Demo ids deleted by their authors once the first data request was answered."""
    reblog_of: str | None = None
    """Demo id of a Mastodon post also served, on top of the timeline, as a reblog by another account."""
    quota_after: int | None = None
    """YouTube answers quotaExceeded once this many data requests were served."""
    comments_disabled: frozenset[str] = frozenset()
    """YouTube video ids whose comments are disabled."""
    search_cap: int = 10_000
    """Bluesky stops giving a cursor after this many results of one query."""

    def __post_init__(self) -> None:
        unknown = set(self.schedule.values()) - FAULT_KINDS
        if unknown:
            raise ValueError(f"unknown fault kind(s) {sorted(unknown)}; known: {sorted(FAULT_KINDS)}")


@dataclass
class Request:
    """One request, as the platform emulations see it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace")))


@dataclass
class Reply:
    """A response. ``body`` is JSON-serialisable, or bytes sent as is. ``offset`` marks a listing page."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    offset: int | None = None
    data_request: bool = True

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class Api:
    """One platform's emulation. Subclasses live in :mod:`extractors.replay.apis` (one module each)."""

    platform: str

    def __init__(self, state: ReplayState):
        self.state = state

    def handle(self, request: Request) -> Reply | None:
        """The reply for ``request``, or ``None`` when the path is not this platform's."""
        raise NotImplementedError

    def error(self, status: int, message: str) -> Reply:
        """An error response in this platform's shape."""
        raise NotImplementedError

    def empty(self, request: Request) -> Reply:
        """An empty page for this request's endpoint."""
        raise NotImplementedError

    def posts(self) -> list[DemoPost]:
        """This platform's visible demo posts, newest first."""
        return self.state.visible(self.platform)


class ReplayState:
    """Corpus, clock anchor, counters and faults shared by the platform emulations."""

    def __init__(self, corpus: list[DemoPost], faults: Faults, anchor: datetime, recorded: Any = None):
        self.corpus = corpus
        self.by_id = {post.id: post for post in corpus}
        self.faults = faults
        self.anchor = anchor
        self.recorded = recorded
        self.data_requests = 0
        self.lock = threading.Lock()
        self.log: list[tuple[str, str, int]] = []
        self._sorted: dict[str, list[DemoPost]] = {}
        for post in corpus:
            self._sorted.setdefault(post.platform, []).append(post)
        for posts in self._sorted.values():
            posts.sort(key=lambda p: (p.days_ago, p.id))

    def visible(self, platform: str) -> list[DemoPost]:
        posts = self._sorted.get(platform, [])
        if self.faults.deleted and self.data_requests > 1:
            return [p for p in posts if p.id not in self.faults.deleted]
        return posts

    def all_posts(self, platform: str) -> list[DemoPost]:
        """Every demo post of ``platform``, deleted ones included, newest first."""
        return self._sorted.get(platform, [])

    def created_at(self, post: DemoPost) -> datetime:
        return created_at(post, self.anchor)


def _apis() -> list[type[Api]]:
    from extractors.replay import apis

    found = []
    for info in pkgutil.iter_modules(apis.__path__):
        module = importlib.import_module(f"{apis.__name__}.{info.name}")
        found.extend(
            v for v in vars(module).values()
            if isinstance(v, type) and issubclass(v, Api) and v is not Api and v.__module__ == module.__name__
        )
    return found


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus delayed ACKs add ~40 ms a page.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        # Quiet by default: the request log is kept in ReplayState.log (paths, no bodies).
        return

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        state = self.server.state
        reply = None
        api_used = None
        for api in self.server.apis:
            reply = api.handle(request)
            if reply is not None:
                api_used = api
                break
        if reply is None:
            reply = Reply(404, {"error": "Not Found"}, data_request=False)
        fault = None
        if reply.data_request and reply.status < 400:
            with state.lock:
                state.data_requests += 1
                fault = state.faults.schedule.get(state.data_requests)
        if fault == "timeout":
            time.sleep(state.faults.delay_s)
        elif fault == "429" and api_used is not None:
            reply = api_used.error(429, "Too many requests")
            reply.headers["Retry-After"] = f"{state.faults.retry_after_s:g}"
        elif fault == "503" and api_used is not None:
            reply = api_used.error(503, "Service Unavailable")
        elif fault == "empty" and api_used is not None:
            reply = api_used.empty(request)
        payload = reply.payload()
        if fault == "malformed" or (
            reply.offset is not None and reply.offset == state.faults.broken_page_offset and reply.status == 200
        ):
            payload = payload[: max(len(payload) // 2, 1)]
        state.log.append((request.method, parts.path, reply.status))
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if fault == "truncated":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ReplayState
    apis: list[Api]


class ReplayServer:
    """The replay server; use :func:`serve` for a context manager."""

    def __init__(
        self,
        corpus: list[DemoPost] | str | Path | None = None,
        *,
        faults: Faults | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        started_at: datetime | None = None,
        recorded: Any = None,
    ):
        if recorded is not None:
            posts: list[DemoPost] = []
        else:
            posts = corpus if isinstance(corpus, list) else load_corpus(corpus)
        anchor = day_anchor(started_at or datetime.now(timezone.utc))
        self.state = ReplayState(posts, faults or Faults(), anchor, recorded)
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        if recorded is not None:
            from extractors.replay.recorded import RecordedApi

            self._server.apis = [RecordedApi(self.state)]
        else:
            self._server.apis = [api(self.state) for api in _apis()]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, name="maraude-replay", daemon=True)
        self._thread.start()
        return self.base_url

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop a server started with :meth:`start`."""
        self._server.shutdown()
        self.stop_listening()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def stop_listening(self) -> None:
        """Close the socket (after :meth:`serve_forever` returned)."""
        self._server.server_close()


@contextlib.contextmanager
def serve(
    corpus: list[DemoPost] | str | Path | None = None,
    *,
    faults: Faults | None = None,
    port: int = 0,
    started_at: datetime | None = None,
    recorded: Any = None,
) -> Iterator[str]:
    """Run a replay server in a background thread; yields its base URL (``http://127.0.0.1:PORT``)."""
    server = ReplayServer(corpus, faults=faults, port=port, started_at=started_at, recorded=recorded)
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()
