"""``locust-events COMMAND`` (or ``python -m locust_events COMMAND``): hands over to the command."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final, Protocol

from .._version import __version__, loop_description
from . import bench, demo, doctor, target

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["COMMANDS", "Command", "main", "version_text"]


class Command(Protocol):
    """The shape of every command: a module that adds its parser, and runs what was parsed."""

    def add_parser(self, subparsers: SubParsers) -> None:
        """Add the command (named as its module) and its options to ``subparsers``."""

    def run(self, args: argparse.Namespace) -> int:
        """Do what ``args`` asks; return the process's exit status."""


#: Every command, by name, in the order ``--help`` lists them.
COMMANDS: Final[Mapping[str, Command]] = {
    "bench": bench,
    "doctor": doctor,
    "demo": demo,
    "target": target,
}


def version_text() -> str:
    """The version, the Python it runs on and which calling loop is in use (and why)."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"locust-events {__version__} on {python}; calling loop: {loop_description()}"


def _program_name() -> str:
    invoked = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "locust-events" if invoked.startswith("locust-events") else "python -m locust_events"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); return its exit status."""
    parser = argparse.ArgumentParser(
        prog=_program_name(),
        description="Tools for the locust_events event dispatcher.",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps --version on one line
    )
    parser.add_argument("--version", action="version", version=version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        command.add_parser(commands)
    args = parser.parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
