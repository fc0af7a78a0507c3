"""Credentials of a source, read from its Airflow Connection at task run time (never at DAG parse time).

The Connection is looked up through Airflow itself, which also reads ``AIRFLOW_CONN_<ID>`` environment
variables in JSON or URI form. What each platform reads:

- Mastodon: ``password`` = access token (optional: public timelines need none).
- Bluesky: ``login`` = handle, ``password`` = app password.
- Reddit: ``login`` = client id, ``password`` = client secret, ``extra.user_agent`` (Reddit asks for one).
- YouTube: ``password`` = API key (or ``extra.api_key``).

The replay server accepts any credentials; demo sources use the placeholder connection ``maraude_replay``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from extractors.base import CredentialsError

if TYPE_CHECKING:
    from extractors.sources import SourceConfig


@dataclass(frozen=True)
class Credentials:
    """Login, secret and extra settings of one source. ``repr`` never shows the secret."""

    login: str | None = None
    password: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_empty(self) -> bool:
        return not (self.login or self.password or self.extra)

    def secret(self, extra_key: str | None = None) -> str | None:
        """The password, else ``extra[extra_key]``."""
        if self.password:
            return self.password
        value = self.extra.get(extra_key) if extra_key else None
        return value if isinstance(value, str) and value else None


ANONYMOUS = Credentials()


def resolve(source: SourceConfig) -> Credentials:
    """The credentials of ``source`` from its Airflow Connection, or :data:`ANONYMOUS` without one.

    Raises :class:`CredentialsError` naming the Connection id (never its content) when it cannot be read.
    """
    if not source.connection_id:
        return ANONYMOUS
    # Airflow is imported here, when a task runs, so DAG parsing never reads connections.
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(source.connection_id)
    except Exception as error:  # Airflow raises different types depending on where it runs
        raise CredentialsError(
            source.name,
            f"Airflow Connection '{source.connection_id}' could not be read ({type(error).__name__}); "
            f"create it in Admin > Connections or set AIRFLOW_CONN_{source.connection_id.upper()}",
        ) from None
    try:
        extra = connection.extra_dejson or {}
    except Exception:
        raise CredentialsError(
            source.name, f"Airflow Connection '{source.connection_id}' has an 'extra' field that is not JSON"
        ) from None
    return Credentials(login=connection.login or None, password=connection.password or None, extra=dict(extra))
