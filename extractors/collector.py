"""One collection run of one source: what a ``maraude_collect`` task does before privacy.

Cursor contract: :func:`collect` returns everything newer than ``cursor`` (bounded by ``limit``) and the
cursor to store *after* the batch is committed. A crash before the commit means the next run fetches the
same posts again, which the upsert on ``post_uid`` absorbs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from extractors.base import BadPage, RawPost, Reject
from extractors.credentials import Credentials, resolve
from extractors.http import HttpClient
from extractors.platforms import get_platform
from extractors.sources import SourceConfig

# Skips that are expected per-item failures of the platform (as opposed to deliberate filters).
ITEM_ERROR_SKIPS = frozenset({"deleted", "private", "not_public"})


@dataclass(frozen=True)
class CollectResult:
    """Posts and rejects of one run, the cursor to store once they are committed, and counts."""

    posts: list[RawPost]
    rejects: list[Reject]
    new_cursor: str | None
    stats: dict[str, int] = field(default_factory=dict)


def collect(
    source: SourceConfig,
    cursor: str | None,
    *,
    limit: int | None = None,
    http: HttpClient | None = None,
    credentials: Credentials | None = None,
) -> CollectResult:
    """Collect what ``source`` published after ``cursor``.

    ``limit`` (default ``source.limit``) bounds the posts of this run. ``http`` lets a caller share a
    configured client (tests pass one with a fake clock); ``credentials`` default to the source's Airflow
    Connection. Raises :class:`extractors.base.SourceStopped` when the source must stop (credentials, quota,
    server down): the caller records it and goes on with the other sources.
    """
    platform_class = get_platform(source.platform)
    limit = limit if limit is not None else source.limit
    own_http = http is None
    if http is None:
        http = HttpClient(source.name, max_requests_per_minute=source.requests_per_minute())
    if credentials is None:
        credentials = resolve(source)
    stats: Counter[str] = Counter()
    http_before = Counter(http.stats)
    platform = platform_class(source, http, credentials, stats)

    posts: list[RawPost] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    newest: str | None = None
    interrupted = False
    items = platform.items(cursor)
    try:
        try:
            for item in items:
                if item.position is not None and (
                    newest is None or platform.position_key(item.position) > platform.position_key(newest)
                ):
                    newest = item.position
                if item.interrupted:
                    interrupted = True
                if item.reject is not None:
                    rejects.append(item.reject)
                elif item.skipped is not None:
                    stats[f"skipped_{item.skipped}"] += 1
                    if item.skipped in ITEM_ERROR_SKIPS:
                        stats["item_errors"] += 1
                elif item.post is not None:
                    if item.post.post_id in seen:
                        # Reblogs of a collected post, overlapping pages.
                        stats["duplicates_dropped"] += 1
                        continue
                    seen.add(item.post.post_id)
                    posts.append(item.post)
                    if limit is not None and len(posts) >= limit:
                        stats["stopped_at_limit"] = 1
                        break
        except BadPage as error:
            rejects.append(Reject(error.reason, error.detail))
            interrupted = True
        finally:
            items.close()
    finally:
        http_stats = http.stats - http_before
        if own_http:
            http.close()

    if interrupted and not platform.walks_forward(cursor):
        # Newest first, and a page stayed unreadable: what lies behind it was not seen, so keep the cursor
        # where it was; the next run fetches again (upsert absorbs the posts already landed).
        new_cursor = cursor
        stats["cursor_held"] = 1
    elif newest is not None and (cursor is None or platform.newer_than_cursor(newest, cursor)):
        new_cursor = newest
    else:
        new_cursor = cursor
    stats.update(http_stats)
    stats["posts"] = len(posts)
    stats["rejects"] = len(rejects)
    for key in ("pages", "requests", "retries", "skipped_opt_out", "item_errors", "duplicates_dropped"):
        stats.setdefault(key, 0)
    return CollectResult(posts=posts, rejects=rejects, new_cursor=new_cursor, stats=dict(stats))
