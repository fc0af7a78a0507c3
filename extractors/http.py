"""The one HTTP layer every platform uses: timeouts, retries with backoff and jitter, rate limits.

Platforms never sleep or loop on errors themselves. They call :meth:`HttpClient.get_json` (or
:meth:`HttpClient.request`) and pass a ``classify`` function that turns a non-retryable error response
into a typed error (see :mod:`extractors.base`) or asks for a retry. Everything that waits goes through
a :class:`Clock`, so tests inject :class:`FakeClock` and never wait for real.

Retried: connection errors, timeouts, truncated bodies, 429, 500/502/503/504, and a 2xx body that is not
valid JSON (up to ``RetryPolicy.bad_payload_attempts``). ``Retry-After`` (seconds or HTTP date) is honoured;
``x-ratelimit-remaining``/``-reset`` (Mastodon, Reddit) and ``ratelimit-remaining``/``-reset`` (Bluesky)
make the limiter wait for the reset once the remaining budget is spent.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx

from extractors.base import BadPage, ExtractorError, SourceStopped, SourceUnavailable

USER_AGENT = "maraude/0.1 (+https://github.com/maraude; youth outreach research collector)"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY: Literal["retry"] = "retry"

Classifier = Callable[[httpx.Response], "ExtractorError | Literal['retry'] | None"]


class Clock(Protocol):
    """Time source of the HTTP layer; injectable so tests never wait."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FakeClock:
    """A clock for tests: ``sleep`` advances time instantly and records each wait in ``sleeps``."""

    def __init__(self, start: datetime | None = None):
        self._t = 0.0
        self._start = start or datetime.now(timezone.utc)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self._t

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self._t += seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._start.timestamp() + self._t, tz=timezone.utc)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to insist. ``max_wait_s`` caps any single wait asked by a server (beyond it the source stops)."""

    attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    max_wait_s: float = 900.0
    bad_payload_attempts: int = 3
    timeout_s: float = 20.0


class RateLimiter:
    """Per-source limiter: a token bucket of ``per_minute`` requests, plus waits asked by rate-limit headers."""

    def __init__(self, per_minute: float, clock: Clock):
        self.per_minute = max(float(per_minute), 1.0)
        self.clock = clock
        self._tokens = self.per_minute
        self._refilled_at = clock.monotonic()
        self._blocked_until = 0.0

    def block_for(self, seconds: float) -> None:
        """No request before ``seconds`` from now."""
        self._blocked_until = max(self._blocked_until, self.clock.monotonic() + max(seconds, 0.0))

    def acquire(self) -> float:
        """Wait (through the clock) until a request may go; returns the seconds waited."""
        waited = 0.0
        now = self.clock.monotonic()
        if self._blocked_until > now:
            waited += self._blocked_until - now
            self.clock.sleep(self._blocked_until - now)
        now = self.clock.monotonic()
        self._tokens = min(self.per_minute, self._tokens + (now - self._refilled_at) * self.per_minute / 60.0)
        self._refilled_at = now
        if self._tokens < 1.0:
            wait = (1.0 - self._tokens) * 60.0 / self.per_minute
            waited += wait
            self.clock.sleep(wait)
            self._tokens = 1.0
            self._refilled_at = self.clock.monotonic()
        self._tokens -= 1.0
        return waited


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value
    return None


def seconds_until(value: str, now: datetime) -> float | None:
    """Seconds to wait from a header value: delta seconds, epoch seconds, ISO 8601 or HTTP date."""
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is not None:
        # Reddit and Retry-After send a delay; Bluesky sends an epoch timestamp.
        return number - now.timestamp() if number > 1_000_000_000 else number
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - now).total_seconds()


def describe(url: str | httpx.URL) -> str:
    """The host and path of a URL, for messages: never the query string (it may carry an API key)."""
    parts = urlsplit(str(url))
    return f"{parts.netloc}{parts.path}"


@dataclass(frozen=True)
class JsonResponse:
    """A decoded JSON body with the response headers and URL (for Link-header pagination)."""

    data: Any
    headers: httpx.Headers
    url: httpx.URL
    status: int


class HttpClient:
    """HTTP client of one source. ``stats`` counts requests, retries and waits for :class:`CollectResult`."""

    def __init__(
        self,
        source: str,
        *,
        max_requests_per_minute: float = 60,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
        user_agent: str = USER_AGENT,
    ):
        self.source = source
        self.retry = retry or RetryPolicy()
        self.clock: Clock = clock or SystemClock()
        self.limiter = RateLimiter(max_requests_per_minute, self.clock)
        self.rng = rng or random.Random()
        self.stats: Counter[str] = Counter()
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.retry.timeout_s, connect=min(10.0, self.retry.timeout_s)),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            transport=transport,
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- waits

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry.backoff_max_s, self.retry.backoff_base_s * 2**attempt)
        # "Equal jitter": at least half the exponential delay, so retries spread without collapsing to zero.
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def _server_wait(self, seconds: float, what: str) -> float:
        if seconds > self.retry.max_wait_s:
            resume = datetime.fromtimestamp(self.clock.now().timestamp() + seconds, tz=timezone.utc)
            raise SourceStopped(
                self.source,
                f"{what} asks to wait {seconds:.0f}s, more than the {self.retry.max_wait_s:.0f}s allowed; "
                f"the next scheduled run after {resume:%Y-%m-%d %H:%M} UTC will resume",
                resume_at=resume,
            )
        return max(seconds, 0.0)

    def _observe_rate_headers(self, response: httpx.Response) -> None:
        remaining = _header(response.headers, "x-ratelimit-remaining", "ratelimit-remaining")
        reset = _header(response.headers, "x-ratelimit-reset", "ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            left = float(remaining)
        except ValueError:
            return
        if left >= 1:
            return
        wait = seconds_until(reset, self.clock.now())
        if wait is not None and wait > 0:
            self.stats["rate_limit_waits"] += 1
            self.limiter.block_for(self._server_wait(wait, f"{describe(response.url)} rate-limit reset"))

    # -- requests

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        auth: tuple[str, str] | None = None,
        classify: Classifier | None = None,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise a typed :class:`ExtractorError`."""
        last_problem = ""
        for attempt in range(self.retry.attempts):
            if attempt:
                self.stats["retries"] += 1
            self.limiter.acquire()
            self.stats["requests"] += 1
            try:
                response = self._client.request(
                    method, url, params=params, headers=headers, data=data, json=json_body, auth=auth
                )
            except (httpx.TimeoutException, httpx.TransportError) as error:
                # Includes truncated bodies (RemoteProtocolError) and refused connections.
                last_problem = type(error).__name__
                self.stats["transport_errors"] += 1
                self.clock.sleep(self._backoff(attempt))
                continue
            self._observe_rate_headers(response)
            if response.is_success:
                return response
            verdict = classify(response) if classify else None
            if isinstance(verdict, ExtractorError):
                raise verdict
            if response.status_code in RETRYABLE_STATUSES or verdict == RETRY:
                last_problem = f"HTTP {response.status_code}"
                self.stats[f"http_{response.status_code}"] += 1
                wait = self._backoff(attempt)
                retry_after = response.headers.get("retry-after")
                asked = seconds_until(retry_after, self.clock.now()) if retry_after else None
                if asked is not None:
                    wait = max(wait, self._server_wait(asked, f"{describe(url)} Retry-After"))
                self.clock.sleep(wait)
                continue
            raise SourceStopped(
                self.source,
                f"{describe(url)} answered HTTP {response.status_code}, which this platform does not expect; "
                "check the source's parameters",
            )
        raise SourceUnavailable(
            self.source,
            f"{describe(url)} kept failing ({last_problem}) after {self.retry.attempts} attempts; "
            "the next scheduled run will try again",
        )

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        classify: Classifier | None = None,
        method: str = "GET",
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        auth: tuple[str, str] | None = None,
    ) -> JsonResponse:
        """A decoded JSON body; an unreadable body is fetched again, then raises :class:`BadPage`."""
        problem = ""
        for attempt in range(self.retry.bad_payload_attempts):
            if attempt:
                self.stats["bad_payload_retries"] += 1
                self.clock.sleep(self._backoff(attempt))
            response = self.request(
                method, url, params=params, headers=headers, data=data, json_body=json_body, auth=auth,
                classify=classify,
            )
            try:
                return JsonResponse(json.loads(response.content), response.headers, response.url, response.status_code)
            except (ValueError, UnicodeDecodeError) as error:
                problem = f"{type(error).__name__} at char {getattr(error, 'pos', '?')} of {len(response.content)}"
        raise BadPage(
            "malformed_page",
            f"{describe(url)}: body not valid JSON after {self.retry.bad_payload_attempts} attempts ({problem})",
        )
