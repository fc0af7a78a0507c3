"""The demo corpus and how each platform would show it.

Each line of ``demo_posts.jsonl`` is a fictional post (see the fields in :class:`DemoPost`). The server turns
it into the payload shape of its platform (modelled on the recorded payloads of ../shared/realdata/api).

Stability: ids derive from the demo id and ``days_ago`` only, so they are the same across restarts.
Timestamps are ``anchor - days_ago``, where ``anchor`` is midnight UTC of the day the server starts: a second
run on the same day sees exactly the same posts and times, hence nothing new.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DEMO_CORPUS = Path(__file__).with_name("demo_posts.jsonl")
HUGE_TEXT_CHARS = 100_000
ZERO_WIDTH = "\u200b"
MALFORMED_KINDS = frozenset(
    {"missing_text", "empty_text", "wrong_type_created_at", "invalid_date", "missing_author", "huge_text", "zero_width"}
)
# Ids encode time so that they sort like Mastodon snowflakes; the reference keeps them stable.
_ID_EPOCH = datetime(2030, 1, 1, tzinfo=timezone.utc)


class CorpusError(ValueError):
    """A demo corpus line is invalid; the message names the file, the line and the field."""


@dataclass(frozen=True)
class DemoPost:
    """One fictional post of the demo corpus."""

    id: str
    platform: str
    channel: str
    author: str
    display_name: str
    days_ago: float
    lang: str
    text: str
    reply_to: str | None = None
    author_opt_out: bool = False
    malformed: str | None = None

    def digest(self, salt: str = "") -> str:
        return hashlib.sha256(f"{salt}{self.id}".encode()).hexdigest()

    def author_digest(self) -> str:
        return hashlib.sha256(f"{self.platform}:{self.author}".encode()).hexdigest()

    def snowflake(self) -> str:
        """A Mastodon-like id: larger for newer posts, stable for a given demo id and ``days_ago``."""
        millis = int((_ID_EPOCH.timestamp() - self.days_ago * 86400) * 1000)
        return str((millis << 16) | (int(self.digest()[:4], 16)))

    def rendered_text(self) -> str:
        """The text as served: huge texts expanded, zero-width characters inserted."""
        if self.malformed == "huge_text":
            repeated = (self.text + " ") * (HUGE_TEXT_CHARS // max(len(self.text) + 1, 1) + 1)
            return repeated[:HUGE_TEXT_CHARS]
        if self.malformed == "zero_width" and ZERO_WIDTH not in self.text:
            return self.text.replace(" ", f" {ZERO_WIDTH}", 3)
        return self.text


_REQUIRED = {"id": str, "platform": str, "channel": str, "author": str, "days_ago": (int, float), "text": str}


def _check(raw: Any, where: str) -> DemoPost:
    if not isinstance(raw, dict):
        raise CorpusError(f"{where}: expected a JSON object")
    malformed = raw.get("malformed") or None
    # A malformed record may lack exactly the field its kind is about; the server renders the gap.
    may_lack = {"missing_text": {"text"}, "missing_author": {"author"}}.get(malformed, set())
    for key, types in _REQUIRED.items():
        if key not in raw:
            if key in may_lack:
                continue
            raise CorpusError(f"{where}: missing field '{key}'")
        if isinstance(raw[key], bool) or not isinstance(raw[key], types):
            raise CorpusError(f"{where}: field '{key}' has type {type(raw[key]).__name__}")
    if malformed is not None and malformed not in MALFORMED_KINDS:
        raise CorpusError(f"{where}: field 'malformed' is {malformed!r}, not one of {', '.join(sorted(MALFORMED_KINDS))}")
    return DemoPost(
        id=raw["id"],
        platform=raw["platform"],
        channel=raw["channel"],
        author=raw.get("author", ""),
        display_name=raw.get("display_name") or raw.get("author", ""),
        days_ago=float(raw["days_ago"]),
        lang=raw.get("lang") or "fr",
        text=raw.get("text", ""),
        reply_to=raw.get("reply_to") or None,
        author_opt_out=bool(raw.get("author_opt_out", False)),
        malformed=malformed,
    )


def load_corpus(path: str | os.PathLike | None = None) -> list[DemoPost]:
    """The demo posts of ``path`` (default: the shipped demo corpus), validated."""
    path = Path(path) if path else DEMO_CORPUS
    posts: list[DemoPost] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{where}: not valid JSON ({error.msg})") from None
        post = _check(raw, where)
        if post.id in seen:
            raise CorpusError(f"{where}: duplicate id {post.id!r}")
        seen.add(post.id)
        posts.append(post)
    return posts


def day_anchor(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day: the reference of ``days_ago``."""
    moment = moment.astimezone(timezone.utc)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def created_at(post: DemoPost, anchor: datetime) -> datetime:
    return anchor - timedelta(days=post.days_ago)


def iso_z(moment: datetime) -> str:
    """``2026-08-01T13:55:50.338Z``: milliseconds and ``Z``, as Mastodon, Bluesky and YouTube write it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
