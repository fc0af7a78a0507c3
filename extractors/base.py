"""Records and errors shared by every platform module.

A platform module turns raw API payloads (kept in their own shape) into :class:`RawPost` records with
``from_payload`` constructors; a payload that cannot be mapped becomes a :class:`Reject` whose detail names
fields and types, never values (values may hold handles or other personal data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class RawPost:
    """One public post as collected, in memory only: it carries raw identities for ``privacy.protect``.

    ``None`` means the platform did not provide the field; ``missing`` lists those fields explicitly so a
    consumer can tell "not provided" from "provided but empty".
    """

    platform: str
    source: str
    post_id: str
    author_id: str
    author_handle: str | None
    author_name: str | None
    author_url: str | None
    created_at: datetime
    text: str
    url: str | None
    lang_tag: str | None
    reply_to_id: str | None
    thread_id: str | None
    engagement: dict[str, int] = field(default_factory=dict)
    missing: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        # Keep identities and text out of logs and tracebacks that print the record.
        return f"RawPost(platform={self.platform!r}, source={self.source!r}, post_id={self.post_id!r})"


@dataclass(frozen=True)
class Reject:
    """A record (or a whole page) that could not be mapped. ``detail`` never holds raw values."""

    reason: str
    detail: str
    ref: str | None = None


OPTIONAL_FIELDS = ("author_handle", "author_name", "author_url", "url", "lang_tag", "reply_to_id", "thread_id")


class MappingError(ValueError):
    """A payload lacks a required field or has the wrong type; becomes a :class:`Reject`."""

    def __init__(self, reason: str, detail: str, ref: str | None = None):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.ref = ref

    def to_reject(self) -> Reject:
        return Reject(self.reason, self.detail, self.ref)


def type_name(value: Any) -> str:
    """JSON-ish type name of ``value`` for error details (the value itself is never shown)."""
    if value is None:
        return "null"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(
        type(value), type(value).__name__
    )


def require_str(payload: dict, key: str, *, where: str, ref: str | None, allow_empty: bool = False) -> str:
    """``payload[key]`` as a string, else a :class:`MappingError` naming ``where.key`` and the type found."""
    value = payload.get(key) if isinstance(payload, dict) else None
    if not isinstance(value, str):
        reason = "missing_field" if value is None else "wrong_type"
        raise MappingError(reason, f"{where}.{key} is {type_name(value)}, expected str", ref)
    if not allow_empty and not value.strip():
        raise MappingError("empty_field", f"{where}.{key} is an empty str", ref)
    return value


def optional_str(payload: dict, key: str) -> str | None:
    """``payload[key]`` if it is a non-empty string, else ``None`` (recorded as missing by the caller)."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


def parse_time(value: Any, *, where: str, ref: str | None, epoch: bool = False) -> datetime:
    """An aware UTC datetime from an ISO 8601 string (or, with ``epoch``, a number of seconds since 1970).

    Raises :class:`MappingError` otherwise: a platform that documents strings never gets a number accepted.
    """
    if isinstance(value, bool) or value is None:
        raise MappingError(
            "missing_field" if value is None else "wrong_type", f"{where} is {type_name(value)}, expected date", ref
        )
    if epoch:
        if not isinstance(value, (int, float)):
            raise MappingError("wrong_type", f"{where} is {type_name(value)}, expected epoch number", ref)
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise MappingError("invalid_date", f"{where} is an out-of-range epoch number", ref) from None
    if not isinstance(value, str):
        raise MappingError("wrong_type", f"{where} is {type_name(value)}, expected ISO 8601 str", ref)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        raise MappingError("invalid_date", f"{where} is a str that is not ISO 8601", ref) from None
    if parsed.tzinfo is None:
        # Platforms document UTC timestamps; a naive one is taken as UTC rather than as local time.
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def missing_fields(**values: Any) -> frozenset[str]:
    """Names of the optional fields whose value is ``None``."""
    return frozenset(name for name, value in values.items() if value is None)


def counts(**values: Any) -> dict[str, int]:
    """Engagement counts, keeping only integer values (bools and absent counts dropped)."""
    return {k: v for k, v in values.items() if isinstance(v, int) and not isinstance(v, bool)}


# ---------------------------------------------------------------- errors


class ExtractorError(Exception):
    """Base of every error raised by the extractors."""


class ItemError(ExtractorError):
    """An expected failure about one item (deleted post, private account, comments disabled): counted."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind


class BadPage(ExtractorError):
    """A page stayed unreadable (malformed JSON, truncated body) after its retries."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SourceStopped(ExtractorError):
    """A fatal failure for one source: the source stops, the other sources go on.

    The message says what to fix (which Airflow Connection or setting) and never echoes a secret.
    """

    def __init__(self, source: str, message: str, *, resume_at: datetime | None = None):
        super().__init__(f"source {source!r} stopped: {message}")
        self.source = source
        self.resume_at = resume_at


class CredentialsError(SourceStopped):
    """Missing, refused or expired credentials."""


class QuotaExhausted(SourceStopped):
    """The platform quota for these credentials is spent; ``resume_at`` says when it resets."""


class SourceUnavailable(SourceStopped):
    """The server kept failing (5xx, timeouts, connection errors) beyond the retry budget."""


class ConfigurationError(SourceStopped):
    """The source configuration is wrong for this platform (bad parameter, unknown channel)."""
