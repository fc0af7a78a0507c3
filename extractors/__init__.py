"""Maraude extractors: collect public posts from platform APIs (or the local replay server).

``extractors.collect(source, cursor)`` runs one source; platform modules live in ``extractors.platforms``;
language detection (lingua, loaded lazily) in ``extractors.language``.
"""

from extractors.collector import CollectResult, collect

__all__ = ["CollectResult", "collect"]
