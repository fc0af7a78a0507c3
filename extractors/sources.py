"""Source configuration: the YAML file the DAGs and ``maraude run --sources`` read.

::

    sources:
      - name: mastodon_galere          # unique, used for the cursor in ingest_state
        platform: mastodon             # one of extractors.platforms.platform_names()
        base_url: https://piaille.fr
        connection_id: null            # Airflow Connection id holding credentials (null: none needed)
        params: {hashtag: galere}
        schedule: "@hourly"
        limit: 500                     # at most this many posts per run
        max_requests_per_minute: 60

Errors name the file, the source and the field, so the data team can fix the file directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from extractors.platforms import get_platform, platform_names


class SourceConfigError(ValueError):
    """The sources file is invalid; the message names the file, the source and the field."""


@dataclass(frozen=True)
class SourceConfig:
    """One configured source: where to collect, with which credentials, how fast and how much."""

    name: str
    platform: str
    base_url: str
    params: dict[str, Any] = field(default_factory=dict)
    connection_id: str | None = None
    schedule: str | None = None
    limit: int | None = None
    max_requests_per_minute: float | None = None

    def requests_per_minute(self) -> float:
        return self.max_requests_per_minute or get_platform(self.platform).default_requests_per_minute


_FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    # field: (accepted types, required)
    "name": (str, True),
    "platform": (str, True),
    "base_url": (str, False),
    "params": (dict, False),
    "connection_id": ((str, type(None)), False),
    "schedule": ((str, type(None)), False),
    "limit": ((int, type(None)), False),
    "max_requests_per_minute": ((int, float, type(None)), False),
}


def _type_names(types: type | tuple[type, ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join("null" if t is type(None) else t.__name__ for t in types)


def validate_source(raw: Any, *, where: str) -> SourceConfig:
    """One source from its YAML mapping; :class:`SourceConfigError` prefixed with ``where``."""
    if not isinstance(raw, dict):
        raise SourceConfigError(f"{where}: each source must be a mapping, got {type(raw).__name__}")
    label = f"{where} (source {raw.get('name')!r})" if isinstance(raw.get("name"), str) else where
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise SourceConfigError(f"{label}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(_FIELDS)}")
    for key, (types, required) in _FIELDS.items():
        if key not in raw:
            if required:
                raise SourceConfigError(f"{label}: missing field '{key}'")
            continue
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise SourceConfigError(
                f"{label}: field '{key}' must be {_type_names(types)}, got {type(value).__name__}"
            )
    if not raw["name"].strip():
        raise SourceConfigError(f"{label}: field 'name' is empty")
    try:
        platform = get_platform(raw["platform"])
    except KeyError:
        raise SourceConfigError(
            f"{label}: field 'platform' is {raw['platform']!r}, not one of {', '.join(platform_names())}"
        ) from None
    for key in ("limit", "max_requests_per_minute"):
        if raw.get(key) is not None and raw[key] <= 0:
            raise SourceConfigError(f"{label}: field '{key}' must be positive")
    params = dict(raw.get("params") or {})
    for key, value in params.items():
        if key not in platform.param_types:
            raise SourceConfigError(
                f"{label}: field 'params.{key}' is not a {platform.name} parameter; "
                f"allowed: {', '.join(platform.param_types)}"
            )
        expected = platform.param_types[key]
        if isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,)):
            raise SourceConfigError(f"{label}: field 'params.{key}' must be {_type_names(expected)}, got bool")
        if not isinstance(value, expected):
            raise SourceConfigError(
                f"{label}: field 'params.{key}' must be {_type_names(expected)}, got {type(value).__name__}"
            )
    for group in platform.required_params:
        if not any(params.get(key) for key in group):
            raise SourceConfigError(f"{label}: {platform.name} needs field 'params.{' or params.'.join(group)}'")
    return SourceConfig(
        name=raw["name"],
        platform=raw["platform"],
        base_url=raw.get("base_url") or platform.default_base_url,
        params=params,
        connection_id=raw.get("connection_id"),
        schedule=raw.get("schedule"),
        limit=raw.get("limit"),
        max_requests_per_minute=raw.get("max_requests_per_minute"),
    )


def load_sources(path: str | os.PathLike) -> list[SourceConfig]:
    """Every source of a YAML sources file, validated (see the module docstring for the format)."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceConfigError(f"{path}: no such sources file") from None
    except yaml.YAMLError as error:
        raise SourceConfigError(f"{path}: not valid YAML ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("sources"), list):
        raise SourceConfigError(f"{path}: expected a top-level 'sources:' list")
    sources: list[SourceConfig] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(document["sources"]):
        source = validate_source(raw, where=f"{path}: sources[{index}]")
        if source.name in seen:
            raise SourceConfigError(
                f"{path}: sources[{index}] (source {source.name!r}): duplicate name, "
                f"already used by sources[{seen[source.name]}]"
            )
        seen[source.name] = index
        sources.append(source)
    return sources
