"""The ``doctor`` command: import a locustfile as Locust does, then list, check and time its
listeners, with the network blocked and a time limit per listener."""

from __future__ import annotations

import argparse
import contextlib
import functools
import inspect
import json
import os
import signal
import socket
import statistics
import sys
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn

import gevent
import gevent.monkey
import gevent.socket
import greenlet

from .._errors import describe_listener
from .._events import Events
from .._hooks import EventHook, SpawnedListener
from .._signature import check_listener_signature
from .._text import readable_path, shorten_middle

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "NetworkGuard",
    "TrafficBlocked",
    "add_parser",
    "run",
    "stand_in_environment",
    "synthetic_payload",
]

OURS: Final = "locust_events.events"
LOCUSTS: Final = "locust.events"
DEFAULT_BUDGET_US: Final = 50.0
DEFAULT_TIME_LIMIT: Final = 2.0
#: A listener is timed for about this long, in batches of about _BATCH_SECONDS each.
_MEASURE_SECONDS: Final = 0.2
_BATCH_SECONDS: Final = 0.002
_MAX_BATCHES: Final = 200
_MAX_BATCH_CALLS: Final = 10_000
#: The hooks timed without being asked for: the hot path of a load test.
_ALWAYS_TIMED: Final = ("request",)
#: The widest LISTENER and WHERE cells of the table; longer ones are shortened in the middle.
_NAME_WIDTH: Final = 48
_WHERE_WIDTH: Final = 40

EXIT_CLEAN: Final = 0
EXIT_PROBLEMS: Final = 1
EXIT_CANNOT_IMPORT: Final = 2


def add_parser(commands: SubParsers) -> None:
    """Add the ``doctor`` command to the command line."""
    parser = commands.add_parser(
        "doctor",
        help="list, check and time the listeners a locustfile registers",
        description=(
            "Import LOCUSTFILE as Locust does, list every listener hook by hook, check each "
            "signature against its hook, and time the synchronous listeners of 'request' (and "
            "of every --hook) on a synthetic payload, with the network blocked. Exit status: "
            "0 clean, 1 problems found, 2 the locustfile cannot be imported."
        ),
    )
    parser.add_argument("locustfile", metavar="LOCUSTFILE", help="the locustfile to examine")
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
    parser.set_defaults(run=run)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text!r}")
    return value


# --- What the doctor finds -------------------------------------------------------------------


@dataclass
class Timing:
    """How one synchronous listener behaved when the doctor called it."""

    #: "ok", "over budget", "network", "timeout", "blocks" or "raises".
    verdict: str
    #: Median time per call in microseconds; ``None`` when the first call went wrong.
    median_us: float | None
    #: How many calls were timed (a batch cut short by a problem is not counted).
    calls: int
    #: What a person reads.
    detail: str


@dataclass
class Listener:
    """One registration of a listener on one hook."""

    hook: str
    registry: str
    func: Callable[..., Any] = field(repr=False)
    #: "sync", or "spawned" into :attr:`pool`.
    runs: str = "sync"
    pool: str | None = None
    #: "ok", "invalid", or "not checked" when the hook declares nothing.
    signature: str = "not checked"
    #: The names a fire calls it with, where it takes only some of what the hook passes.
    takes: frozenset[str] | None = None
    timing: Timing | None = None
    name: str = field(init=False)
    file: str | None = field(init=False)
    line: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.name = describe_listener(self.func)
        self.file, self.line = _location(self.func)

    @property
    def where(self) -> str:
        """``file:line`` as a person opens it: relative to the working directory when inside it,
        else to the import path entry (``site-packages``) that holds it."""
        if self.file is None:
            return "unknown"
        file = readable_path(self.file)
        return f"{file}:{self.line}" if self.line is not None else file

    def as_json(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "registry": self.registry,
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "runs": self.runs,
            "pool": self.pool,
            "signature": self.signature,
            "timing": None if self.timing is None else vars(self.timing),
        }


@dataclass
class Hook:
    """One hook of one registry and the listeners registered on it."""

    name: str
    registry: str
    #: The keyword arguments its fires pass (our declaration), ``None`` when undeclared.
    passes: tuple[str, ...] | None
    listeners: list[Listener]


@dataclass
class Problem:
    """Something that makes the exit status 1, with what to do about it."""

    #: "invalid signature", or a :class:`Timing` verdict other than "ok".
    kind: str
    listener: Listener
    message: str
    fix: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "hook": self.listener.hook,
            "registry": self.listener.registry,
            "listener": self.listener.name,
            "where": self.listener.where,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class Report:
    """Everything the doctor found in one locustfile."""

    locustfile: str
    locust_version: str
    #: Whether ``locust.events`` has our hooks (the integration is on) or Locust's own.
    shared: bool
    budget_us: float
    time_limit: float
    timed_hooks: list[str]
    hooks: list[Hook]
    problems: list[Problem] = field(default_factory=list)

    @property
    def listeners(self) -> list[Listener]:
        return [listener for hook in self.hooks for listener in hook.listeners]

    @property
    def exit_status(self) -> int:
        return EXIT_PROBLEMS if self.problems else EXIT_CLEAN

    def summary(self) -> str:
        if not self.problems:
            return f"clean: {len(self.listeners)} listener(s), no problem found"
        kinds: dict[str, int] = {}
        for problem in self.problems:
            kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
        counted = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        return f"{len(self.problems)} problem(s): {counted}"


# --- Running the command ---------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    """Examine ``args.locustfile``, print the report and return the exit status."""
    path = os.path.abspath(args.locustfile)
    try:
        import locust
        from locust.util.load_locustfile import load_locustfile
    except ImportError as error:
        return _fail(
            args,
            path,
            f"Locust is not installed ({error}), and the doctor imports your locustfile with "
            "it: install the 'locust' extra, pip install 'locust-events[locust]'",
        )
    if not os.path.isfile(path):
        return _fail(args, path, f"cannot import {args.locustfile}: no such file")
    try:
        # The locustfile may print; a --json reader gets nothing but the document on stdout.
        with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
            load_locustfile(path)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit too: nothing the locustfile does may end us.
        return _fail(args, path, f"cannot import {path}: {_describe_import_error(error, path)}")

    from .. import events

    hooks = collect_hooks(events, locust.events)
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
    )
    check_signatures(report)
    time_listeners(report)
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


# --- Listing and checking --------------------------------------------------------------------


def collect_hooks(ours: Events, locusts: object) -> list[Hook]:
    """Every hook of ``ours`` and, unless they are the same objects, of Locust's ``locusts``.

    Hooks come in our registry's order, a hook of Locust's right after ours of the same name.
    """
    hooks = [_our_hook(ours, name, hook, OURS) for name, hook in ours.hooks.items()]
    our_hooks = {id(hook) for hook in ours.hooks.values()}
    for name, hook in vars(locusts).items():
        if id(hook) in our_hooks:
            continue
        if isinstance(hook, EventHook):
            hooks.append(_our_hook(ours, name, hook, LOCUSTS))
        elif isinstance(handlers := getattr(hook, "_handlers", None), list):
            # Locust's hooks declare nothing: check and time them as our hook of that name.
            ours_of_that_name = ours.hooks.get(name)
            passes = None if ours_of_that_name is None else _passes(ours, ours_of_that_name)
            listeners = [Listener(name, LOCUSTS, handler) for handler in handlers]
            hooks.append(Hook(name, LOCUSTS, passes, listeners))
    order = {name: index for index, name in enumerate(dict.fromkeys(h.name for h in hooks))}
    return sorted(hooks, key=lambda hook: order[hook.name])


def _our_hook(ours: Events, name: str, hook: EventHook[Any], registry: str) -> Hook:
    listeners = []
    # ``listeners`` holds what was registered, ``_entries`` (in the same order) what fire calls
    # for each when not profiling: the listener itself or the SpawnedListener that queues it.
    for func, called in zip(hook.listeners, hook._entries, strict=True):
        listener = Listener(name, registry, func)
        if isinstance(called, SpawnedListener):
            listener.runs, listener.pool = "spawned", called.pool.name
        listeners.append(listener)
    return Hook(name, registry, _passes(ours, hook), listeners)


def _passes(ours: Events, hook: EventHook[Any]) -> tuple[str, ...] | None:
    """What ``hook`` passes, in the order its declaration gives (else alphabetical)."""
    if hook.passes is None:
        return None
    declaration = type(ours).hook_declarations.get(hook.name)
    if declaration is not None and frozenset(declaration.passes or ()) == hook.passes:
        return declaration.passes
    return tuple(sorted(hook.passes))


def check_signatures(report: Report) -> None:
    """Check every listener against what its hook passes, as ``add_listener`` does."""
    for hook in report.hooks:
        if hook.passes is None:
            continue
        for listener in hook.listeners:
            try:
                listener.takes = check_listener_signature(
                    hook.name, frozenset(hook.passes), listener.func
                )
            except TypeError as error:
                listener.signature = "invalid"
                what, fix = _split_signature_error(str(error), hook.name)
                report.problems.append(Problem("invalid signature", listener, what, fix))
            else:
                listener.signature = "ok"


def _split_signature_error(message: str, hook: str) -> tuple[str, str]:
    """What is wrong and the fix, from the message of :func:`check_listener_signature`.

    After "Cannot add listener ... to hook 'name': " it lists problems as "what is wrong; what
    to do", joined by "; ", then says what the hook passes.
    """
    problems = message.split(f"to hook {hook!r}: ", 1)[-1]
    problems, _, passes = problems.partition(". The hook passes: ")
    parts = problems.split("; ")
    if len(parts) % 2:  # not the shape expected: give the message whole
        return message, "see the message"
    what = "; ".join(parts[0::2]) + (f". The hook passes: {passes}" if passes else "")
    return what, "; ".join(parts[1::2])


def _location(func: Callable[..., Any]) -> tuple[str | None, int | None]:
    """The file and first line of a listener's code, from ``inspect``; ``None`` when unknown."""
    target: Any = getattr(func, "__func__", func)
    while isinstance(target, functools.partial):
        target = target.func
    with contextlib.suppress(ValueError):
        target = inspect.unwrap(target)
    if not (inspect.isfunction(target) or inspect.isclass(target)):
        target = type(target)  # a callable object: its class is where to look
    try:
        file = inspect.getsourcefile(target) or inspect.getfile(target)
    except TypeError:
        return None, None
    code = getattr(target, "__code__", None)
    if code is not None:
        return file, int(code.co_firstlineno)
    try:
        return file, inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return file, None


# --- Timing ----------------------------------------------------------------------------------


def stand_in_environment() -> Any:
    """A Locust ``Environment`` of the doctor's own: host 127.0.0.1, no runner, fresh events.

    Listeners that register listeners on ``environment.events`` (``init`` ones do) fill its
    throwaway registry, not the locustfile's. Without Locust, a ``SimpleNamespace`` alike.
    """
    try:
        from locust.env import Environment
    except ImportError:
        return types.SimpleNamespace(
            host="http://127.0.0.1", runner=None, web_ui=None, parsed_options=None, stats=None
        )
    return Environment(host="http://127.0.0.1")  # without events=, it makes a registry of its own


def synthetic_payload(hook: str, passes: Iterable[str], environment: Any) -> dict[str, Any]:
    """Plausible keyword arguments for a fire of ``hook``: Locust's shapes, local stand-ins.

    Names the doctor does not know get ``None``. Nothing here points anywhere but 127.0.0.1.
    """
    now = time.time()
    cpu_usage, memory_usage = 50.0, 100 * 2**20
    known: dict[str, Any] = {
        "request_type": "GET",
        "name": "/doctor",
        "response_time": 12.5,
        "response_length": 512,
        "exception": None,
        "context": {},
        "start_time": now,
        "url": "http://127.0.0.1/doctor",
        "response": None,
        "environment": environment,
        "runner": None,
        "web_ui": None,
        "parser": argparse.ArgumentParser(prog="locust"),
        "user_instance": types.SimpleNamespace(environment=environment),
        "tb": None,
        "client_id": "doctor-worker",
        "data": {},
        "user_count": 1,
        "exit_code": 0,
        "cpu_usage": cpu_usage,
        "usage_percent": cpu_usage,
        "memory_usage": memory_usage,
        "stats": {"cpu_usage": cpu_usage, "memory_usage": memory_usage},
        "timestamp": now,
    }
    if hook == "user_error":
        known["exception"] = RuntimeError("a task failed (the doctor's stand-in)")
    return {name: known.get(name) for name in passes}


def time_listeners(report: Report) -> None:
    """Call every synchronous listener of the timed hooks; record how each behaved."""
    with _output_discarded(), NetworkGuard() as guard:
        for hook in report.hooks:
            if hook.name not in report.timed_hooks:
                continue
            for listener in hook.listeners:
                if listener.runs != "sync" or listener.signature == "invalid":
                    continue
                environment = stand_in_environment()
                payload = synthetic_payload(hook.name, hook.passes or (), environment)
                if listener.takes is not None:  # called as a fire calls it
                    payload = {name: payload[name] for name in payload if name in listener.takes}
                listener.timing = examine(listener.func, payload, report, guard)
                if listener.timing.verdict != "ok":
                    report.problems.append(_timing_problem(listener, listener.timing))


def _timing_problem(listener: Listener, timing: Timing) -> Problem:
    if listener.registry == LOCUSTS:
        spawn = (
            f"register it on {OURS} with add_listener(func, spawn=True) instead "
            "(Locust's own hooks cannot spawn)"
        )
    else:
        spawn = "spawn it: add_listener(func, spawn=True)"
    fixes = {
        "over budget": f"{spawn}, or make it cheaper",
        "network": f"{spawn}: the user that fires should not wait for the network",
        "timeout": f"{spawn}, and bound what it waits for",
        "blocks": f"{spawn}: the user that fires waits while it blocks",
        "raises": (
            "fix it, or handle the error inside the listener (the doctor called it with a "
            "synthetic payload, so check whether a real one would do the same)"
        ),
    }
    return Problem(timing.verdict, listener, timing.detail, fixes[timing.verdict])


@contextlib.contextmanager
def _output_discarded() -> Iterator[None]:
    """Send what listeners print to the null device: thousands of calls would flood the report."""
    with (
        open(os.devnull, "w") as sink,
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        yield


class _TimeLimitReached(BaseException):
    """Interrupts a listener that ran too long; a ``BaseException`` so ``except Exception``
    in the listener cannot swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_TimeLimitReached` in the calling greenlet after ``seconds``.

    A listener that waits is interrupted by a ``gevent.Timeout`` from the hub; one that keeps
    the CPU (or a blocking C call) never lets the hub run, so a SIGALRM timer interrupts it
    too where there is one (the main thread of a POSIX process).
    """
    caller = greenlet.getcurrent()
    armed = True

    def on_alarm(signum: int, frame: types.FrameType | None) -> None:
        # The hub may be running when the alarm comes: only the listener's greenlet is stopped.
        if armed and greenlet.getcurrent() is caller:
            raise _TimeLimitReached

    previous: Any = None
    try:
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    except (AttributeError, ValueError):  # no SIGALRM here, or not the main thread
        previous = None
    timeout = gevent.Timeout(seconds, _TimeLimitReached)
    timeout.start()
    try:
        yield
    finally:
        armed = False
        timeout.close()
        if previous is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def examine(
    func: Callable[..., Any], payload: dict[str, Any], report: Report, guard: NetworkGuard
) -> Timing:
    """Call ``func(**payload)`` until its median time per call is stable, and judge it.

    A first call shows whether the listener behaves: one that reaches for the network, outlives
    the time limit, switches to the gevent hub (it waits for I/O, a sleep or a lock) or raises
    is reported as such and not timed further. The others are called in batches for about
    0.2 s; the median of the batches' time per call is compared with the budget.
    """
    caller = greenlet.getcurrent()
    switched = False

    def on_switch(
        event: Literal["switch", "throw"], args: tuple[greenlet.greenlet, greenlet.greenlet]
    ) -> None:
        nonlocal switched
        if args[0] is caller:
            switched = True
        if previous_tracer is not None:
            previous_tracer(event, args)

    attempts_before = len(guard.attempts)
    samples: list[float] = []
    calls = 0
    error: BaseException | None = None
    timed_out = False
    previous_tracer = greenlet.settrace(on_switch)
    try:
        with _time_limit(report.time_limit):
            started = time.perf_counter()
            func(**payload)
            samples.append(time.perf_counter() - started)
            calls = 1
            deadline = started + _MEASURE_SECONDS
            while (
                not switched
                and len(guard.attempts) == attempts_before
                and len(samples) < _MAX_BATCHES
                and time.perf_counter() < deadline
            ):
                batch = max(1, min(_MAX_BATCH_CALLS, int(_BATCH_SECONDS / max(samples[-1], 1e-9))))
                batch_started = time.perf_counter()
                for _ in range(batch):
                    func(**payload)
                samples.append((time.perf_counter() - batch_started) / batch)
                calls += batch
    except KeyboardInterrupt:
        raise
    except _TimeLimitReached:
        timed_out = True
    except BaseException as caught:  # reported, never propagated: SystemExit included
        error = caught
    finally:
        greenlet.settrace(previous_tracer)

    attempts = guard.attempts[attempts_before:]
    if attempts:
        more = f" (and {len(attempts) - 1} more attempt(s))" if len(attempts) > 1 else ""
        detail = f"tried to {attempts[0]}{more}; the doctor blocked it"
        return Timing("network", None, calls, detail)
    if timed_out:
        how = "while it waited (it yields to the gevent hub)" if switched else ""
        detail = f"did not return within the time limit of {report.time_limit:g} s {how}".strip()
        return Timing("timeout", None, calls, detail)
    if switched:
        detail = "it yields to the gevent hub during the call: it waits for I/O, a lock or a sleep"
        return Timing("blocks", None, calls, detail)
    if error is not None:
        return Timing("raises", None, calls, f"raises {type(error).__name__}: {error}")
    median_us = statistics.median(samples) * 1e6
    if median_us > report.budget_us:
        detail = f"{median_us:.1f} us per call (median), over the budget of {report.budget_us:g} us"
        return Timing("over budget", median_us, calls, detail)
    return Timing("ok", median_us, calls, f"{median_us:.1f} us per call (median)")


# --- Keeping listeners off the network -------------------------------------------------------


class TrafficBlocked(ConnectionError):
    """Raised in a listener that reaches for the network while the doctor examines it."""


def _address(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(address)


class NetworkGuard:
    """Makes connections, sends and name look-ups raise :class:`TrafficBlocked`, and records them.

    Patches the stdlib's and gevent's socket classes (TLS ones too) and module functions while
    it is entered, and puts every original back on exit. Sockets a C extension makes on its
    own are out of its reach.
    """

    def __init__(self) -> None:
        #: What listeners tried, e.g. "connect to 127.0.0.1:8089", in order.
        self.attempts: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def __enter__(self) -> NetworkGuard:
        block = self._block

        def connect(sock: Any, address: Any, *args: Any) -> NoReturn:
            block(f"connect to {_address(address)}")

        def send(sock: Any, *args: Any, **kwargs: Any) -> NoReturn:
            try:
                peer = _address(sock.getpeername())
            except OSError:
                peer = "an unconnected socket"
            block(f"send to {peer}")

        def sendto(sock: Any, data: Any, *args: Any) -> NoReturn:
            block(f"send to {_address(args[-1] if args else None)}")

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> NoReturn:
            block(f"connect to {_address(address)}")

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> NoReturn:
            block(f"resolve {_address((host, port))}" if port else f"resolve {host}")

        def gethostbyname(host: Any, *args: Any) -> NoReturn:
            block(f"resolve {host}")

        socket_classes = {
            gevent.monkey.get_original("socket", "socket"),
            socket.socket,
            gevent.socket.socket,
        }
        # TLS sockets send through methods of their own; none exist unless ssl was imported.
        if "ssl" in sys.modules:
            socket_classes.add(gevent.monkey.get_original("ssl", "SSLSocket"))
            socket_classes.add(sys.modules["ssl"].SSLSocket)
        for cls in socket_classes:
            for name, replacement in (
                ("connect", connect),
                ("connect_ex", connect),
                ("send", send),
                ("sendall", send),
                ("sendmsg", send),
                ("sendto", sendto),
            ):
                self._replace(cls, name, replacement)
        for module in {socket, gevent.socket}:
            for name, function in (
                ("create_connection", create_connection),
                ("getaddrinfo", getaddrinfo),
                ("gethostbyname", gethostbyname),
                ("gethostbyname_ex", gethostbyname),
            ):
                self._replace(module, name, function)
        return self

    def __exit__(self, *exc_info: object) -> None:
        while self._undo:
            self._undo.pop()()

    def _block(self, what: str) -> NoReturn:
        self.attempts.append(what)
        raise TrafficBlocked(
            f"the locust_events doctor blocked an attempt to {what}: listeners may not reach "
            "the network while the doctor examines them"
        )

    def _replace(self, owner: Any, name: str, replacement: object) -> None:
        if name in vars(owner):
            original = vars(owner)[name]
            self._undo.append(lambda: setattr(owner, name, original))
        else:  # inherited: deleting ours uncovers it again
            self._undo.append(lambda: delattr(owner, name))
        setattr(owner, name, replacement)


# --- Output ----------------------------------------------------------------------------------


def _state(listener: Listener) -> str:
    if listener.signature == "invalid":
        return "INVALID signature"
    timing = listener.timing
    if timing is None:
        return "ok" if listener.signature == "ok" else "not checked"
    if timing.verdict == "ok":
        return f"ok, {timing.median_us:.1f} us/call"
    if timing.verdict == "over budget":
        return f"OVER BUDGET, {timing.median_us:.1f} us/call"
    return timing.verdict.upper()


def render_text(report: Report) -> str:
    """The report as a person reads it on a terminal: a table, then the problems and fixes."""
    if report.shared:
        registries = f"{LOCUSTS} has the same hooks as {OURS} (the Locust integration is on)"
    else:
        registries = (
            f"{LOCUSTS} has Locust's own hooks (the integration is off): both registries listed"
        )
    lines = [
        f"locust_events doctor: {report.locustfile}",
        f"Locust {report.locust_version}; {registries}",
        f"Timed: synchronous listeners of {', '.join(report.timed_hooks)}; "
        f"budget {report.budget_us:g} us per call; time limit {report.time_limit:g} s",
        "",
    ]
    rows = [("HOOK", "REGISTRY", "LISTENER", "WHERE", "RUNS", "CHECK")]
    for listener in report.listeners:
        runs = "sync" if listener.pool is None else f"spawned, pool {listener.pool!r}"
        state = _state(listener)
        name = shorten_middle(listener.name, _NAME_WIDTH)
        where = shorten_middle(listener.where, _WHERE_WIDTH)
        rows.append((listener.hook, listener.registry, name, where, runs, state))
    if len(rows) == 1:
        lines.append("No listener is registered on any hook.")
    else:
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
    empty = sum(1 for hook in report.hooks if not hook.listeners)
    if empty and len(rows) > 1:
        lines.append(f"({empty} hook(s) without listeners not shown)")
    if report.problems:
        lines += ["", "Problems:"]
        for number, problem in enumerate(report.problems, 1):
            listener = problem.listener
            lines.append(
                f"{number}. {problem.kind}: {listener.name} on {listener.registry}.{listener.hook}"
                f" ({listener.where})"
            )
            lines.append(f"   {problem.message}")
            lines.append(f"   fix: {problem.fix}")
    lines += ["", f"Verdict: {report.summary()} (exit status {report.exit_status})"]
    return "\n".join(lines)


def render_json(report: Report) -> str:
    """The report as one JSON document: hooks, listeners, problems, timings, verdict."""
    document = {
        "locustfile": report.locustfile,
        "locust_version": report.locust_version,
        "locust_hooks_shared": report.shared,
        "budget_us": report.budget_us,
        "time_limit_s": report.time_limit,
        "timed_hooks": report.timed_hooks,
        "hooks": [
            {
                "name": hook.name,
                "registry": hook.registry,
                "passes": None if hook.passes is None else list(hook.passes),
                "listeners": len(hook.listeners),
                "timed": hook.name in report.timed_hooks,
            }
            for hook in report.hooks
        ],
        "listeners": [listener.as_json() for listener in report.listeners],
        "problems": [problem.as_json() for problem in report.problems],
        "timings": [
            {
                "hook": listener.hook,
                "registry": listener.registry,
                "listener": listener.name,
                **vars(listener.timing),
            }
            for listener in report.listeners
            if listener.timing is not None
        ],
        "verdict": {
            "exit_status": report.exit_status,
            "clean": not report.problems,
            "summary": report.summary(),
        },
    }
    return json.dumps(document, indent=2)
