"""Secret keys: the pseudonym key (keyed hashes of accounts and posts) and the vault key (encryption
of identities and the handle blind index). Two distinct keys, so that whoever can recompute a
pseudonym still cannot read the vault.

Lookup order, for each key: environment (``MARAUDE_PSEUDONYM_KEY``, ``MARAUDE_VAULT_KEY``), then,
inside a running Airflow task only, the Airflow Variables ``maraude_pseudonym_key`` /
``maraude_vault_key``, then the key files ``<MARAUDE_HOME>/secrets/pseudonym.key`` and ``vault.key``.
A key is 32 random bytes written as URL-safe base64 or hex (``maraude.privacy`` never logs it).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from maraude.settings import Settings, get_settings

PSEUDONYM_KEY_ENV = "MARAUDE_PSEUDONYM_KEY"
VAULT_KEY_ENV = "MARAUDE_VAULT_KEY"
PSEUDONYM_KEY_VERSION_ENV = "MARAUDE_PSEUDONYM_KEY_VERSION"
PSEUDONYM_KEY_VARIABLE = "maraude_pseudonym_key"
VAULT_KEY_VARIABLE = "maraude_vault_key"
PSEUDONYM_KEY_VERSION_VARIABLE = "maraude_pseudonym_key_version"
PSEUDONYM_KEY_FILE = "pseudonym.key"
VAULT_KEY_FILE = "vault.key"
DEFAULT_KEY_VERSION = "k1"
MIN_KEY_BYTES = 32
_VERSION_FORMAT = re.compile(r"^k[0-9]{1,4}$")


class KeyConfigurationError(RuntimeError):
    """A key is missing or malformed; the message says how to configure it (never shows a key)."""


@dataclass(frozen=True)
class Keys:
    """The secrets privacy needs. ``repr`` hides them so they cannot end up in a log."""

    pseudonym_key: bytes = field(repr=False)
    pseudonym_key_version: str
    vault_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.pseudonym_key) < MIN_KEY_BYTES or len(self.vault_key) < MIN_KEY_BYTES:
            raise KeyConfigurationError(f"keys must hold at least {MIN_KEY_BYTES} bytes")
        if self.pseudonym_key == self.vault_key:
            raise KeyConfigurationError("the pseudonym key and the vault key must differ")
        if not _VERSION_FORMAT.match(self.pseudonym_key_version):
            raise KeyConfigurationError(
                f"{PSEUDONYM_KEY_VERSION_ENV} must look like 'k1', 'k2'... or '1', '2'... "
                f"(got {self.pseudonym_key_version!r})"
            )


def generate_key_text() -> str:
    """A new random key, as the text to put in an environment variable, Variable or key file."""
    return base64.urlsafe_b64encode(secrets.token_bytes(MIN_KEY_BYTES)).decode("ascii")


def decode_key(text: str, *, source: str) -> bytes:
    """Bytes of a key given as hex or URL-safe base64; ``source`` names where it came from."""
    cleaned = text.strip()
    try:
        if re.fullmatch(r"[0-9a-fA-F]{64,}", cleaned):
            raw = bytes.fromhex(cleaned)
        else:
            raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (ValueError, binascii.Error):
        raise KeyConfigurationError(f"the key in {source} is neither hex nor URL-safe base64") from None
    if len(raw) < MIN_KEY_BYTES:
        raise KeyConfigurationError(
            f"the key in {source} holds {len(raw)} bytes; use {MIN_KEY_BYTES} random bytes "
            "(python -c 'from privacy.keys import generate_key_text; print(generate_key_text())')"
        )
    return raw


def _in_airflow_task() -> bool:
    """True while an Airflow task runs (the task runner exports its context into the environment)."""
    return bool(os.environ.get("AIRFLOW_CTX_DAG_ID"))


def _airflow_variable(name: str) -> str | None:
    """The Airflow Variable ``name``, read only at task runtime (never while a DAG file is parsed)."""
    if not _in_airflow_task():
        return None
    try:
        from airflow.sdk import Variable
    except ImportError:
        return None
    value = Variable.get(name, default=None)
    return str(value) if value else None


def _from_sources(env_name: str, variable_name: str, file_path: Path) -> bytes | None:
    value = os.environ.get(env_name)
    if value:
        return decode_key(value, source=f"${env_name}")
    value = _airflow_variable(variable_name)
    if value:
        return decode_key(value, source=f"Airflow Variable {variable_name}")
    if file_path.exists():
        return decode_key(file_path.read_text(encoding="ascii"), source=str(file_path))
    return None


def _create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    text = generate_key_text()
    # O_EXCL: never overwrite a key that appeared meanwhile (it would orphan every pseudonym).
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
    return decode_key(text, source=str(path))


def _missing_key_message(env_name: str, variable_name: str, file_path: Path) -> str:
    return (
        f"no {variable_name.removeprefix('maraude_').replace('_', ' ')} configured. Set ${env_name}, or the Airflow "
        f"Variable {variable_name}, or write a key file {file_path} (mode 0600); generate a key with "
        "python -c 'from privacy.keys import generate_key_text; print(generate_key_text())'. "
        "`maraude demo` creates local key files. Losing the key makes every pseudonym and the vault unusable: "
        "keep a copy in your secret store."
    )


def load_keys(settings: Settings | None = None, *, create: bool = False) -> Keys:
    """Load both keys (see the module docstring for the order); ``create=True`` writes local key
    files with mode 0600 for a key that is configured nowhere (``maraude demo`` does this).

    Raises :class:`KeyConfigurationError` that says how to configure a missing key.
    """
    settings = settings or get_settings()
    loaded = {}
    for label, env_name, variable_name, file_name in (
        ("pseudonym", PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_VARIABLE, PSEUDONYM_KEY_FILE),
        ("vault", VAULT_KEY_ENV, VAULT_KEY_VARIABLE, VAULT_KEY_FILE),
    ):
        file_path = settings.secrets_dir / file_name
        found = _from_sources(env_name, variable_name, file_path)
        if found is None:
            if not create:
                raise KeyConfigurationError(_missing_key_message(env_name, variable_name, file_path))
            found = _create_key_file(file_path)
        loaded[label] = found
    version = (
        os.environ.get(PSEUDONYM_KEY_VERSION_ENV)
        or _airflow_variable(PSEUDONYM_KEY_VERSION_VARIABLE)
        or DEFAULT_KEY_VERSION
    )
    version = version.strip()
    # "2" and "k2" name the same version; pseudonyms always carry the "k" form.
    if version.isdigit():
        version = f"k{version}"
    return Keys(pseudonym_key=loaded["pseudonym"], pseudonym_key_version=version, vault_key=loaded["vault"])
