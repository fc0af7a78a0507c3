"""Platform modules and their registry.

Each module in this package defines one subclass of :class:`Platform` (client, URL building, constants,
error classification) and a ``from_payload`` function mapping one raw payload to a :class:`RawPost`.
Adding a platform means adding a module here: :func:`registry` finds it with ``pkgutil``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from extractors.base import RawPost, Reject

if TYPE_CHECKING:
    from extractors.credentials import Credentials
    from extractors.http import HttpClient
    from extractors.sources import SourceConfig


@dataclass(frozen=True)
class Item:
    """What a platform yields while walking a source, in walk order.

    ``position`` is the item's place in the source's ordering (a timeline id or an ISO timestamp), from
    which the next cursor is computed; exactly one of ``post``, ``reject``, ``skipped`` is set.
    ``interrupted`` marks a page that stayed unreadable: what lies behind it was not seen.
    """

    position: str | None = None
    post: RawPost | None = None
    reject: Reject | None = None
    skipped: str | None = None
    interrupted: bool = False


def iso_position(moment: datetime) -> str:
    """A timestamp position that sorts as a string: UTC, microseconds, ``Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Platform:
    """Base of the platform clients. A subclass declares its constants and walks one source.

    Subclasses set ``name``, ``default_base_url``, ``default_requests_per_minute``, ``param_types`` and
    implement :meth:`items` and :meth:`classify` (which error responses are transient, per item or fatal).
    """

    name: ClassVar[str]
    default_base_url: ClassVar[str]
    default_requests_per_minute: ClassVar[float]
    needs_credentials: ClassVar[bool] = False
    param_types: ClassVar[dict[str, type | tuple[type, ...]]] = {}
    required_params: ClassVar[tuple[tuple[str, ...], ...]] = ()
    """Groups of parameter names of which at least one must be given."""
    query_help: ClassVar[str] = ""

    def __init__(self, source: SourceConfig, http: HttpClient, credentials: Credentials, stats: Counter[str]):
        self.source = source
        self.http = http
        self.credentials = credentials
        self.stats = stats
        self.base_url = source.base_url.rstrip("/")

    # -- configuration

    @classmethod
    def params_from_query(cls, query: str | None) -> dict[str, Any]:
        """Source parameters for ``maraude extract --query`` (see ``query_help``)."""
        raise NotImplementedError

    # -- walking

    def walks_forward(self, cursor: str | None) -> bool:
        """True when items come oldest first, so a cut walk can still advance the cursor safely."""
        return False

    def position_key(self, position: str) -> Any:
        """Sort key of a position; ISO timestamps from :func:`iso_position` sort as strings."""
        return position

    def items(self, cursor: str | None) -> Iterator[Item]:
        """Walk the source from its newest items back to ``cursor`` (or forward from it)."""
        raise NotImplementedError

    def newer_than_cursor(self, position: str | None, cursor: str | None) -> bool:
        if cursor is None or position is None:
            return True
        return self.position_key(position) > self.position_key(cursor)

    # -- helpers

    def connection_hint(self) -> str:
        """Which Airflow Connection to fix, for error messages (the id only, never its content)."""
        if self.source.connection_id:
            return f"Airflow Connection '{self.source.connection_id}'"
        return f"the source's connection_id (none is set for source '{self.source.name}')"


@cache
def registry() -> dict[str, type[Platform]]:
    """Platform name -> class, for every module of this package."""
    found: dict[str, type[Platform]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Platform)
                and value is not Platform
                and value.__module__ == module.__name__
            ):
                found[value.name] = value
    return found


def get_platform(name: str) -> type[Platform]:
    """The platform class called ``name``; ``KeyError`` lists the known ones."""
    known = registry()
    if name not in known:
        raise KeyError(f"unknown platform {name!r}; known platforms: {', '.join(sorted(known))}")
    return known[name]


def platform_names() -> list[str]:
    return sorted(registry())
