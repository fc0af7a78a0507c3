"""The local replay server: the platforms' APIs over the demo corpus or recorded payloads, with faults.

``serve()`` runs it in a background thread and yields its base URL; ``maraude replay`` serves it in the
foreground. Source files give ``base_url: replay`` (or ``replay/youtube/v3``): :func:`replay_base_url`
puts the running server's URL in its place.
"""

from extractors.replay.server import Faults, ReplayServer, serve

REPLAY_PREFIX = "replay"


def replay_base_url(base_url: str, server_url: str) -> str:
    """``base_url`` with a leading ``replay`` replaced by ``server_url`` (other URLs unchanged)."""
    if base_url == REPLAY_PREFIX or base_url.startswith(REPLAY_PREFIX + "/"):
        return server_url.rstrip("/") + base_url[len(REPLAY_PREFIX):]
    return base_url


__all__ = ["Faults", "REPLAY_PREFIX", "ReplayServer", "replay_base_url", "serve"]
