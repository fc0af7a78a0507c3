"""Where Maraude keeps its runtime files, resolved once from the environment.

Everything that holds data lives under ``MARAUDE_HOME`` (default ``<repo>/var``), which git ignores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Paths of the runtime directories and files. Build one with :func:`get_settings`."""

    home: Path

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def read_copy_path(self) -> Path:
        """Read-only snapshot for outreach and evaluators, refreshed after each scoring run."""
        return self.home / "warehouse_read.duckdb"

    @property
    def vault_path(self) -> Path:
        return self.home / "vault.duckdb"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def base_dir(self) -> Path:
        return self.home / "base"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def staging_dir(self) -> Path:
        return self.home / "staging"

    def ensure_dirs(self) -> None:
        """Create the runtime directories; secrets and staging are private to the owner."""
        for path in (self.home, self.base_dir, self.models_dir):
            path.mkdir(parents=True, exist_ok=True)
        for private in (self.secrets_dir, self.staging_dir):
            private.mkdir(parents=True, exist_ok=True)
            private.chmod(0o700)


def get_settings(home: str | os.PathLike | None = None) -> Settings:
    """Settings for ``home``, else ``$MARAUDE_HOME``, else ``<repo>/var``."""
    chosen = home or os.environ.get("MARAUDE_HOME") or REPO_ROOT / "var"
    return Settings(home=Path(chosen).resolve())
