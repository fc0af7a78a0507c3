"""Shared test setup: an isolated MARAUDE_HOME and Airflow home, test keys, a migrated warehouse.

Airflow reads its configuration when first imported, so its environment is set in
``pytest_configure``, before any test module imports it. Nothing here touches the real var/.
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


TEST_KEYS = {
    "MARAUDE_PSEUDONYM_KEY": base64.b64encode(b"test-pseudonym-key-32-bytes-long").decode(),
    "MARAUDE_VAULT_KEY": base64.b64encode(b"test-vault-key-is-32-bytes-long!").decode(),
    "MARAUDE_PSEUDONYM_KEY_VERSION": "k1",
}


def pytest_configure(config):
    home = Path(tempfile.mkdtemp(prefix="maraude-test-home-"))
    os.environ["MARAUDE_HOME"] = str(home)
    from maraude import airflow_env
    from maraude.settings import get_settings

    settings = get_settings(home)
    airflow_env.configure(settings)
    # Obviously-test keys for the whole session, provided as a deployment would (environment).
    for name, value in TEST_KEYS.items():
        os.environ[name] = value
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")


@pytest.fixture
def test_keys(monkeypatch):
    """The session's test keys, restored after the test (for tests that change or remove them)."""
    for name, value in TEST_KEYS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def warehouse_path(tmp_path):
    """A fresh, migrated warehouse file."""
    from maraude import warehouse

    path = tmp_path / "warehouse.duckdb"
    warehouse.migrate(path)
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository (CI lays a copy there)."""
    if not SHARED.exists():
        pytest.skip("../shared is not present beside the repository")
    return SHARED
