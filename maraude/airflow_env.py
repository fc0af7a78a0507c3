"""Airflow settings that depend on where Maraude runs, exported before Airflow is imported.

AIRFLOW_HOME is the repository root so that the top-level airflow.cfg is read; the metadata DB and
logs go under ``MARAUDE_HOME/airflow`` (var/airflow by default). Values already in the environment
win, so a deployment can point Airflow at Postgres or another executor without touching code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from maraude.settings import REPO_ROOT, Settings


def airflow_environment(settings: Settings) -> dict[str, str]:
    """The environment variables Airflow needs for the local default under ``settings.home``."""
    airflow_dir = settings.home / "airflow"
    return {
        "AIRFLOW_HOME": str(REPO_ROOT),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_dir / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(airflow_dir / "logs"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_dir / "passwords.json"),
    }


def configure(settings: Settings) -> None:
    """Export :func:`airflow_environment` (without overriding what the caller set) and create the folders."""
    for key, value in airflow_environment(settings).items():
        os.environ.setdefault(key, value)
    (settings.home / "airflow" / "logs").mkdir(parents=True, exist_ok=True)
    # Airflow's workers start `airflow` by name: the venv's bin must be on PATH.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def migrate_metadata_db() -> None:
    """Create or upgrade Airflow's metadata DB (idempotent, a few seconds)."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    if done.returncode != 0:
        raise RuntimeError(f"`airflow db migrate` failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
