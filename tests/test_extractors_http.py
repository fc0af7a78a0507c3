"""The shared HTTP layer: retries, backoff, Retry-After, rate-limit headers, typed errors (fake clock, no waits)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from extractors.base import BadPage, SourceStopped, SourceUnavailable
from extractors.http import FakeClock, HttpClient, RetryPolicy, seconds_until

NOW = datetime(2026, 8, 1, 14, 0, tzinfo=timezone.utc)


def client_for(responses, *, attempts: int = 5, per_minute: float = 100_000):
    """A client whose transport answers ``responses`` in order (callables get the request)."""
    sent: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        answer = queue.pop(0)
        return answer(request) if callable(answer) else answer

    clock = FakeClock(start=NOW)
    client = HttpClient(
        "src", max_requests_per_minute=per_minute, clock=clock, transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=attempts), rng=random.Random(7),
    )
    return client, clock, sent


def test_retry_after_seconds_is_honoured_on_429():
    client, clock, sent = client_for([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[1])])
    assert client.get_json("https://example.org/api").data == [1]
    assert len(sent) == 2
    assert clock.sleeps[0] >= 7
    assert client.stats["retries"] == 1


def test_retry_after_http_date_is_honoured():
    date = (NOW + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    client, clock, _ = client_for([httpx.Response(503, headers={"Retry-After": date}), httpx.Response(200, json={})])
    client.get_json("https://example.org/api")
    assert 29 <= clock.sleeps[0] <= 31


def test_5xx_backoff_grows_exponentially_with_jitter():
    client, clock, _ = client_for([httpx.Response(503)] * 4 + [httpx.Response(200, json={})])
    client.get_json("https://example.org/api")
    assert len(clock.sleeps) == 4
    for attempt, slept in enumerate(clock.sleeps):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= slept <= ceiling


def test_connection_errors_are_retried():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    client, _, sent = client_for([refuse, refuse, httpx.Response(200, json={"ok": True})])
    assert client.get_json("https://example.org/api").data == {"ok": True}
    assert client.stats["transport_errors"] == 2


def test_exhausted_retries_stop_the_source_without_echoing_the_query_string():
    client, _, _ = client_for([httpx.Response(503)] * 3, attempts=3)
    with pytest.raises(SourceUnavailable) as raised:
        client.get_json("https://example.org/youtube/v3/search", params={"key": "SECRET-KEY-123"})
    assert "SECRET-KEY-123" not in str(raised.value)
    assert "example.org/youtube/v3/search" in str(raised.value)


def test_malformed_json_is_fetched_again_then_becomes_bad_page():
    client, _, sent = client_for([httpx.Response(200, content=b'[{"id": "1"')] * 3)
    with pytest.raises(BadPage) as raised:
        client.get_json("https://example.org/api")
    assert len(sent) == 3
    assert raised.value.reason == "malformed_page"


def test_malformed_json_once_then_good_page_is_recovered():
    client, _, _ = client_for([httpx.Response(200, content=b"{"), httpx.Response(200, json=[1, 2])])
    assert client.get_json("https://example.org/api").data == [1, 2]


@pytest.mark.parametrize(
    "headers, expected_wait",
    [
        ({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "42"}, 42),  # Reddit: seconds
        ({"x-ratelimit-remaining": "0", "x-ratelimit-reset": (NOW + timedelta(seconds=90)).isoformat()}, 90),  # Mastodon
        ({"ratelimit-remaining": "0", "ratelimit-reset": str(int(NOW.timestamp()) + 60)}, 60),  # Bluesky: epoch
    ],
)
def test_spent_rate_limit_waits_until_the_reset(headers, expected_wait):
    client, clock, _ = client_for([httpx.Response(200, json={}, headers=headers), httpx.Response(200, json={})])
    client.get_json("https://example.org/a")
    assert clock.sleeps == []
    client.get_json("https://example.org/b")
    assert clock.sleeps and abs(clock.sleeps[0] - expected_wait) < 1.5


def test_remaining_budget_does_not_wait():
    client, clock, _ = client_for(
        [httpx.Response(200, json={}, headers={"x-ratelimit-remaining": "12", "x-ratelimit-reset": "300"})] * 2
    )
    client.get_json("https://example.org/a")
    client.get_json("https://example.org/b")
    assert clock.sleeps == []


def test_a_wait_longer_than_allowed_stops_the_source_with_a_resume_time():
    client, _, _ = client_for([httpx.Response(429, headers={"Retry-After": "86400"})])
    with pytest.raises(SourceStopped) as raised:
        client.get_json("https://example.org/api")
    assert raised.value.resume_at is not None


def test_limiter_spaces_requests_beyond_the_per_minute_budget():
    client, clock, _ = client_for([httpx.Response(200, json={})] * 5, per_minute=2)
    for _ in range(5):
        client.get_json("https://example.org/api")
    # Two requests go at once (the bucket), the next three wait 30 s each.
    assert sum(clock.sleeps) == pytest.approx(90, abs=0.01)


def test_classifier_turns_an_error_response_into_a_typed_error():
    client, _, _ = client_for([httpx.Response(401, json={"error": "The access token is invalid"})])

    def classify(response):
        return SourceStopped("src", "fix Connection x") if response.status_code == 401 else None

    with pytest.raises(SourceStopped, match="fix Connection x"):
        client.get_json("https://example.org/api", classify=classify)


def test_seconds_until_reads_every_header_form():
    assert seconds_until("12", NOW) == 12
    assert seconds_until(str(NOW.timestamp() + 5), NOW) == pytest.approx(5)
    assert seconds_until("2026-08-01T14:00:10.5Z", NOW) == pytest.approx(10.5)
    assert seconds_until("not a date", NOW) is None
