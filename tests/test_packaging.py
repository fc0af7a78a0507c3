"""Our top-level package names are generic (models, features, extractors): make sure they are ours."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["maraude", "extractors", "privacy", "features", "models"])
def test_imported_package_is_the_one_in_this_repository(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().parent == REPO_ROOT / name


def test_console_script_lists_every_contract_command():
    from maraude.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for command in ("demo", "run", "classify", "extract", "redact", "bench", "train", "reveal", "forget", "review"):
        assert command in commands, f"maraude {command} is part of the CLI contract"
    bench = commands["bench"]._subparsers._group_actions[0].choices
    for what in ("classify", "pipeline", "redact", "extract"):
        assert what in bench
