"""Locust's start-up as the doctor replays it: the parser hook, the Environment, then ``init``.

Listeners that ``init`` listeners register (as locust-plugins and most integrations do) exist
only once ``init`` fired, so the doctor fires it before it lists anything, as ``locust.main``
does: the command line parser with ``init_command_line_parser``'s options, an Environment on
Locust's global events with a local runner, then ``init``. Each listener is called once, as
Locust's fire calls it, with the network blocked and the time limit on; how it behaved is kept
for the report. No test starts and no user runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ..._signature import examine_listener_signature
from ..._unswitched import warn_if_unswitched
from .network_guard import NetworkGuard
from .report import Timing
from .timing import examine

__all__ = ["DOCTOR_HOST", "StartUp", "StartUpFailed", "replay_start_up"]

#: The host the doctor's Environment gets, whatever the options say: nothing is sent anyway.
DOCTOR_HOST: Final = "http://127.0.0.1"
#: The hooks the doctor fires, in Locust's order.
FIRED: Final = ("init_command_line_parser", "init")


class StartUpFailed(Exception):
    """Locust's start-up cannot be replayed (its parser refused the options)."""


@dataclass
class StartUp:
    """What replaying Locust's start-up left: the Environment, and each listener's call."""

    environment: Any
    #: How each listener called behaved, by (hook name, ``id`` of the listener).
    timings: dict[tuple[str, int], Timing] = field(default_factory=dict)
    #: The listeners Locust itself registered meanwhile (its runner's), by (hook name, ``id``).
    locusts_own: set[tuple[str, int]] = field(default_factory=set)


def _listeners_of(hook: Any) -> list[Callable[..., Any]]:
    """The listeners a fire of ``hook`` (ours or Locust's) calls now, in order."""
    listeners = getattr(hook, "listeners", None)
    if listeners is None:
        listeners = getattr(hook, "_handlers", [])
    return [listener for listener in listeners if listener is not warn_if_unswitched]


def _registered(events: Any) -> set[tuple[str, int]]:
    """Every listener of every hook of ``events`` (ours or Locust's), by (hook name, ``id``)."""
    return {
        (name, id(listener))
        for name, hook in vars(events).items()
        if hasattr(hook, "add_listener")
        for listener in _listeners_of(hook)
    }


def _fire(
    name: str,
    hook: Any,
    payload: dict[str, Any],
    passes: frozenset[str] | None,
    time_limit: float,
    guard: NetworkGuard,
    timings: dict[tuple[str, int], Timing],
) -> None:
    """Call each listener of ``hook`` once, as a fire would; an invalid one is left to the
    signature check (Locust would fail it on the spot)."""
    for listener in _listeners_of(hook):
        arguments = payload
        if passes is not None:
            check = examine_listener_signature(name, passes, listener)
            if check.problems:
                continue
            if check.takes is not None:
                arguments = {key: value for key, value in payload.items() if key in check.takes}
        timings[(name, id(listener))] = examine(listener, arguments, time_limit, guard, once=True)


def replay_start_up(
    path: str,
    user_classes: dict[str, Any],
    passes: Callable[[str], frozenset[str] | None],
    time_limit: float,
    guard: NetworkGuard,
) -> StartUp:
    """Build the parser and the Environment and fire ``init`` as ``locust -f path`` does.

    :param passes: what our hook of a name passes (``None``: anything), to call each listener
        with the names it takes.
    :raises StartUpFailed: Locust's parser refused the command line.
    """
    import locust
    from locust.argument_parser import get_empty_argument_parser, setup_parser_arguments
    from locust.env import Environment

    timings: dict[tuple[str, int], Timing] = {}
    parser = get_empty_argument_parser(add_help=True)
    setup_parser_arguments(parser)  # type: ignore[no-untyped-call]  # Locust leaves it untyped
    name = "init_command_line_parser"
    hook = locust.events.init_command_line_parser
    _fire(name, hook, {"parser": parser}, passes(name), time_limit, guard, timings)
    try:
        options = parser.parse_args(["-f", path, "--headless"])
    except SystemExit as error:
        raise StartUpFailed(
            f"Locust's command line parser refused '-f {path} --headless' (exit status "
            f"{error.code}; its message is above): check the options your locustfile, its "
            "plugins or a Locust configuration file add"
        ) from None
    options.host = DOCTOR_HOST
    before = _registered(locust.events)
    environment = Environment(
        user_classes=list(user_classes.values()),
        events=locust.events,
        host=DOCTOR_HOST,
        parsed_options=options,
        locustfile=os.path.basename(path),
        parsed_locustfiles=[path],
        available_user_classes=user_classes,
    )
    runner = environment.create_local_runner()
    # The doctor starts no test: the runner's CPU monitor would fire usage_monitor by itself.
    runner.greenlet.kill(block=False)
    locusts_own = _registered(locust.events) - before
    payload = {"environment": environment, "runner": runner, "web_ui": None}
    _fire("init", locust.events.init, payload, passes("init"), time_limit, guard, timings)
    return StartUp(environment, timings, locusts_own)
