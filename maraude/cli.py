"""The ``maraude`` command. Each area registers its own sub-commands; heavy imports happen when a command runs."""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules exposing ``register(commands, bench_commands)``; each adds its sub-commands with
# ``set_defaults(func=...)`` where func(args) returns the exit code.
AREA_MODULES = (
    "maraude.commands",
    "extractors.cli",
    "privacy.cli",
    "models.cli",
    "models.train_cli",
)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser, with every area's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="maraude",
        description="Maraude: find, among public posts, young people drifting away, for a human to reach out.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    bench = commands.add_parser("bench", help="benchmarks that print figures (posts/s, peak memory)")
    bench_commands = bench.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    for name in AREA_MODULES:
        importlib.import_module(name).register(commands, bench_commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
