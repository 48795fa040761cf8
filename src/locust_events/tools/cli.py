"""``locust-events COMMAND`` (or ``python -m locust_events COMMAND``): hands over to the command."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence

from .._version import __version__, loop_description
from . import bench, demo, doctor, target


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
    # One line per command: each module adds its parser and sets ``run``.
    bench.add_parser(commands)
    doctor.add_parser(commands)
    demo.add_parser(commands)
    target.add_parser(commands)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
