"""``python -m locust_events``: the command line, one subcommand per job (``demo``, ``target``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo(users=args.users, spawn_rate=args.spawn_rate, run_time=args.run_time)


def _target(args: argparse.Namespace) -> int:
    from .target import main as serve

    serve(port=args.port, fail_every=args.fail_every)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m locust_events``; each subcommand sets ``run`` to its function."""
    parser = argparse.ArgumentParser(
        prog="python -m locust_events",
        description="locust-events: Locust's event system as a gevent-cooperative dispatcher.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run a real headless Locust test against a local target and show what the "
        "listeners saw (needs the locust extra)",
    )
    demo.add_argument("--users", type=int, default=300, help="simulated users (default 300)")
    demo.add_argument("--spawn-rate", type=float, default=100, help="users per second")
    demo.add_argument("--run-time", type=int, default=15, help="seconds of load (default 15)")
    demo.set_defaults(run=_demo)

    target = commands.add_parser(
        "target", help="serve the examples' local target on 127.0.0.1 until interrupted"
    )
    target.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    target.add_argument(
        "--fail-every", type=int, default=0, help="answer every n-th /api/data with 503"
    )
    target.set_defaults(run=_target)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen subcommand; returns the process's exit code."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
