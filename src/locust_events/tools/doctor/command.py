"""The ``doctor`` command line: its options, and the run from a locustfile to an exit status."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import traceback
from typing import TYPE_CHECKING, Final

from ..._install import extra_install_command
from ..._special_hooks import InPlaceHook
from .listing import check_signatures, collect_hooks, report_never_called
from .network_guard import NetworkGuard
from .rendering import render_json, render_text
from .report import EXIT_CANNOT_IMPORT, LOCUSTS, OURS, Report
from .startup import FIRED, StartUpFailed, replay_start_up
from .timing import time_listeners

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["DEFAULT_BUDGET_US", "DEFAULT_TIME_LIMIT", "add_parser", "run"]

DEFAULT_BUDGET_US: Final = 50.0
DEFAULT_TIME_LIMIT: Final = 2.0
#: The hooks timed without being asked for: the hot path of a load test.
_ALWAYS_TIMED: Final = ("request",)


def add_parser(subparsers: SubParsers) -> None:
    """Add the ``doctor`` command to the command line."""
    parser = subparsers.add_parser(
        "doctor",
        help="list, check and time the listeners a locustfile registers",
        description=(
            "Import LOCUSTFILE as Locust does and fire its start-up hooks as Locust does "
            "(init_command_line_parser, then init with an Environment and a local runner), "
            "list every listener hook by hook, check each signature against its hook, and time "
            "the synchronous listeners of 'request' (and of every --hook) on a synthetic "
            "payload, with the network blocked. Exit status: 0 clean, 1 problems found, 2 the "
            "locustfile cannot be imported."
        ),
    )
    parser.add_argument(
        "-f",
        "--locustfile",
        dest="locustfile_option",
        metavar="LOCUSTFILE",
        help="the locustfile to examine, as Locust takes it (or give it without -f)",
    )
    parser.add_argument(
        "locustfile", metavar="LOCUSTFILE", nargs="?", help="the locustfile to examine"
    )
    parser.add_argument(
        "--hook",
        action="append",
        default=[],
        metavar="NAME",
        help="also time the synchronous listeners of this hook (repeatable)",
    )
    parser.add_argument(
        "--budget",
        type=_positive,
        default=DEFAULT_BUDGET_US,
        metavar="MICROSECONDS",
        help=f"flag listeners slower than this per call, median (default {DEFAULT_BUDGET_US:g})",
    )
    parser.add_argument(
        "--time-limit",
        type=_positive,
        default=DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"longest a listener may run before it is reported (default {DEFAULT_TIME_LIMIT:g})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


def _locustfile(args: argparse.Namespace) -> str | None:
    """The locustfile given with ``-f`` or alone; ``None`` when neither or two different."""
    given = {name for name in (args.locustfile_option, args.locustfile) if name}
    return given.pop() if len(given) == 1 else None


def run(args: argparse.Namespace) -> int:
    """Examine the locustfile, print the report and return the exit status."""
    locustfile = _locustfile(args)
    if locustfile is None:
        given = [name for name in (args.locustfile_option, args.locustfile) if name]
        message = (
            f"give one locustfile, not two ({' and '.join(given)})"
            if given
            else "give the locustfile to examine: locust-events doctor -f locustfile.py"
        )
        return _fail(args, "", message)
    path = os.path.abspath(locustfile)
    try:
        import locust
        from locust.util.load_locustfile import load_locustfile
    except ImportError as error:
        return _fail(
            args,
            path,
            f"Locust is not installed ({error}), and the doctor imports your locustfile with "
            f"it: install what the 'locust' extra needs, {extra_install_command('locust')}",
        )
    if not os.path.isfile(path):
        return _fail(args, path, f"cannot import {args.locustfile}: no such file")
    try:
        # The locustfile may print; a --json reader gets nothing but the document on stdout.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            user_classes, _ = load_locustfile(path)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit too: nothing the locustfile does may end us.
        return _fail(args, path, f"cannot import {path}: {_describe_import_error(error, path)}")

    from ... import events

    def passes(name: str) -> frozenset[str] | None:
        hook = events.hooks.get(name)
        return None if hook is None else hook.passes

    try:
        # Listeners print; a --json reader gets nothing but the document on stdout.
        with (
            contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext(),
            NetworkGuard() as guard,
        ):
            start_up = replay_start_up(path, user_classes, passes, args.time_limit, guard)
    except StartUpFailed as error:
        return _fail(args, path, str(error))

    hooks = collect_hooks(events, locust.events, leave_out=start_up.locusts_own)
    known = {hook.name for hook in hooks}
    unknown = [name for name in args.hook if name not in known]
    if unknown:
        return _fail(
            args, path, f"no hook named {', '.join(map(repr, unknown))}; hooks: {sorted(known)}"
        )
    report = Report(
        locustfile=path,
        locust_version=locust.__version__,
        shared=not any(hook.registry == LOCUSTS for hook in hooks),
        budget_us=args.budget,
        time_limit=args.time_limit,
        timed_hooks=list(dict.fromkeys([*_ALWAYS_TIMED, *args.hook])),
        hooks=hooks,
        fired_hooks=list(FIRED),
        in_place_hooks=frozenset(
            name for name, hook in events.hooks.items() if isinstance(hook, InPlaceHook)
        ),
    )
    fired_registry = OURS if report.shared else LOCUSTS
    for listener in report.listeners:
        if listener.registry == fired_registry:
            listener.timing = start_up.timings.get((listener.hook, id(listener.func)))
    check_signatures(report)
    report_never_called(report)
    time_listeners(report, getattr(start_up.environment, "parsed_options", None))
    # Number the problems in the order of the table's rows.
    row = {id(listener): index for index, listener in enumerate(report.listeners)}
    report.problems.sort(key=lambda problem: row[id(problem.listener)])
    _print(render_json(report) if args.json else render_text(report))
    return report.exit_status


def _print(text: str) -> None:
    try:
        print(text, flush=True)
    except BrokenPipeError:  # the reader left (``| head``): nothing more to say, and no trace
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _fail(args: argparse.Namespace, path: str, message: str) -> int:
    """Say why the locustfile cannot be examined at all: exit status 2."""
    sys.stderr.write(f"locust_events doctor: {message}\n")
    if args.json:
        document = {
            "locustfile": path,
            "error": message,
            "hooks": [],
            "listeners": [],
            "problems": [],
            "timings": [],
            "verdict": {"exit_status": EXIT_CANNOT_IMPORT, "clean": False, "summary": message},
        }
        _print(json.dumps(document, indent=2))
    return EXIT_CANNOT_IMPORT


def _describe_import_error(error: BaseException, path: str) -> str:
    """The error as its traceback ends: the exception line(s), then the frame that raised it
    (after the locustfile's own last frame, when it was raised in something it imported)."""
    # A SyntaxError's own lines say where; its traceback ends in Locust's loader.
    frames = [] if isinstance(error, SyntaxError) else traceback.extract_tb(error.__traceback__)
    frames = [frame for frame in frames if not frame.filename.startswith("<frozen ")]
    in_locustfile = [frame for frame in frames if frame.filename == path]
    shown = in_locustfile[-1:] + [frame for frame in frames[-1:] if frame not in in_locustfile]
    what = "".join(traceback.format_exception_only(type(error), error)).strip()
    where = "".join(traceback.format_list(shown)).rstrip()
    return f"{what}\n{where}" if where else what
