"""``python -m locust_events COMMAND``: parses the command line and hands over to the command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import _bench, _demo, _doctor, target


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); return its exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m locust_events",
        description="Tools for the locust_events event dispatcher.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # One line per command: each module adds its parser and sets ``run``.
    _bench.add_parser(commands)
    _doctor.add_parser(commands)
    _demo.add_parser(commands)
    target.add_parser(commands)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
