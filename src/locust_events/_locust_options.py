"""The Locust options a user sets per run: the Listeners tab, its sampling, the drain at quit.

Added to Locust's own parser through its ``init_command_line_parser`` hook, so they are in
``locust --help`` and are read, as Locust's own options are, from the command line, from
``locust.conf`` (``listeners-sample-every = 10``) and from an environment variable: the
variables this package read before the options existed (``LOCUST_EVENTS_LISTENERS_TAB``,
``LOCUST_EVENTS_SAMPLE_EVERY``), and ``LOCUST_EVENTS_DRAIN_TIMEOUT``.
"""

from __future__ import annotations

import argparse
from typing import Any, Final

from ._settings import LISTENERS_TAB_VARIABLE, SAMPLE_EVERY_VARIABLE, on_or_off

__all__ = ["DRAIN_TIMEOUT_VARIABLE", "add_options", "drain_timeout_option"]

#: The environment variable of ``--listeners-drain-timeout``.
DRAIN_TIMEOUT_VARIABLE: Final = "LOCUST_EVENTS_DRAIN_TIMEOUT"


def _switch(text: str) -> bool:
    try:
        return on_or_off(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error}") from None


def _whole_number(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a whole number, at least 1 (1 times every listener call, 100 one "
            "call in a hundred)"
        )
    return int(text)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give the seconds the listener pools get to deliver their calls at quit, "
            "a number of at least 0 (10 by default)"
        )
    return seconds


def add_options(parser: Any, **kwargs: Any) -> None:
    """Listener of ``init_command_line_parser``: add this package's options to Locust's.

    A fire whose ``parser`` is not an argument parser (a test firing the hook by hand) is not
    Locust's start-up: there is nothing to add the options to."""
    if not callable(getattr(parser, "add_argument_group", None)):
        return
    group = parser.add_argument_group(
        "locust-events", "Listeners tab and listener pools (locust_events)"
    )
    group.add_argument(
        "--listeners-tab",
        type=_switch,
        default=None,
        metavar="on|off",
        env_var=LISTENERS_TAB_VARIABLE,
        help="Show the Listeners tab in the web UI (on by default; a headless run never has it)",
    )
    group.add_argument(
        "--listeners-sample-every",
        type=_whole_number,
        default=None,
        metavar="N",
        env_var=SAMPLE_EVERY_VARIABLE,
        help="Time one listener call in N for the Listeners tab; every call is counted (100)",
    )
    group.add_argument(
        "--listeners-drain-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        env_var=DRAIN_TIMEOUT_VARIABLE,
        help="Seconds the pools of spawned listeners get to deliver their calls at quit (10)",
    )


def drain_timeout_option(options: Any) -> float | None:
    """``--listeners-drain-timeout`` as Locust parsed it, None when not given."""
    chosen = getattr(options, "listeners_drain_timeout", None)
    return None if chosen is None else float(chosen)
