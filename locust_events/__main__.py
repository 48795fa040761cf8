"""The command line: ``python -m locust_events bench`` times fire on this machine."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m locust_events")
    commands = parser.add_subparsers(dest="command", required=True)
    bench = commands.add_parser(
        "bench",
        help="time fire and measure() against direct calls, compiled and pure side by side",
        description="Prints what fire and measure() cost here, as ratios against direct calls "
        "of the same listener timed in the same run (Locust and blinker rows where installed).",
    )
    bench.add_argument(
        "--seconds", type=float, default=0.5, help="time spent on each row (default: 0.5)"
    )
    options = parser.parse_args(argv)
    from ._bench import run

    run(seconds=options.seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
