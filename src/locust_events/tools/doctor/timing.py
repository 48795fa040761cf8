"""Calling each synchronous listener on a synthetic payload: timed, with a time limit, judged."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import time
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final, Literal

import gevent
import greenlet

from ..._unswitched import FIX
from ..request_payload import REQUEST_PAYLOAD
from .network_guard import NetworkGuard
from .report import LOCUSTS, Listener, Problem, Report, Timing

__all__ = [
    "RUN_ONCE",
    "examine",
    "realistic_response",
    "stand_in_environment",
    "synthetic_payload",
    "time_listeners",
]

#: Hooks Locust fires once per run or per test, not per request or on a timer: a listener's
#: time there holds up a start or a stop, never a user's requests. Each listener is called
#: once and not measured against the per-call budget; waiting for I/O is no problem there.
RUN_ONCE: Final = frozenset(
    {
        "init_command_line_parser",
        "init",
        "test_start",
        "test_stopping",
        "test_stop",
        "spawning_complete",
        "reset_stats",
        "quitting",
        "quit",
    }
)
#: The request types of Locust's HTTP users, whose ``request`` fires pass a response object.
_HTTP_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})

#: A listener is timed for about this long, in batches of about _BATCH_SECONDS each.
_MEASURE_SECONDS: Final = 0.2
_BATCH_SECONDS: Final = 0.002
_MAX_BATCHES: Final = 200
_MAX_BATCH_CALLS: Final = 10_000


def stand_in_environment(parsed_options: Any = None) -> Any:
    """A Locust ``Environment`` of the doctor's own: host 127.0.0.1, no runner, fresh events.

    Listeners that register listeners on ``environment.events`` fill its throwaway registry,
    not the locustfile's. ``parsed_options``: the options Locust's parser gave (with those
    the locustfile's ``init_command_line_parser`` listeners added). Without Locust, a
    ``SimpleNamespace`` alike.
    """
    try:
        from locust.env import Environment
    except ImportError:
        return types.SimpleNamespace(
            host="http://127.0.0.1",
            runner=None,
            web_ui=None,
            parsed_options=parsed_options,
            stats=None,
        )
    # Without events=, it makes a registry of its own.
    return Environment(host="http://127.0.0.1", parsed_options=parsed_options)


def realistic_response(url: str, length: int, elapsed_ms: float) -> Any:
    """A response as Locust's HTTP users pass it to ``request`` listeners: a ``requests``
    ``Response`` of 200 with headers, a JSON body of ``length`` bytes, its request and its
    time. ``None`` where ``requests`` is not installed."""
    try:
        import datetime

        import requests
        from requests.structures import CaseInsensitiveDict
    except ImportError:
        return None
    prefix, suffix = b'{"data": "', b'"}'
    body = prefix + b"x" * max(0, length - len(prefix) - len(suffix)) + suffix
    response = requests.Response()
    response.status_code = 200
    response.reason = "OK"
    response.url = url
    response.encoding = "utf-8"
    response.headers = CaseInsensitiveDict(
        {"Content-Type": "application/json", "Content-Length": str(len(body))}
    )
    response._content = body
    response.request = requests.Request("GET", url).prepare()
    response.elapsed = datetime.timedelta(milliseconds=elapsed_ms)
    return response


def synthetic_payload(hook: str, passes: Iterable[str], environment: Any) -> dict[str, Any]:
    """Plausible keyword arguments for a fire of ``hook``: Locust's shapes, local stand-ins.

    Names the doctor does not know get ``None``. Nothing here points anywhere but 127.0.0.1.
    """
    now = time.time()
    cpu_usage, memory_usage = 50.0, 100 * 2**20
    known: dict[str, Any] = {
        **REQUEST_PAYLOAD,
        "context": {},  # a listener may write to it: one of its own for each listener
        "start_time": now,
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
    if hook == "request" and str(known["request_type"]).upper() in _HTTP_METHODS:
        known["response"] = realistic_response(
            known["url"], known["response_length"], known["response_time"]
        )
    return {name: known.get(name) for name in passes}


def time_listeners(report: Report, parsed_options: Any = None) -> None:
    """Call every synchronous listener of the timed hooks that was not called yet (at
    start-up): a listener of a run-once hook once, the others for about 0.2 s. Record how
    each behaved, and the problems."""
    with _output_discarded(), NetworkGuard() as guard:
        for hook in report.hooks:
            once = hook.name in RUN_ONCE
            for listener in hook.listeners:
                if listener.timing is None and (
                    hook.name not in report.timed_hooks
                    or listener.runs != "sync"
                    or listener.signature in ("invalid", "needs undeclared")
                ):
                    continue
                if listener.timing is None:
                    environment = stand_in_environment(parsed_options)
                    payload = synthetic_payload(hook.name, hook.passes or (), environment)
                    if listener.takes is not None:  # called as a fire calls it
                        payload = {
                            name: payload[name] for name in payload if name in listener.takes
                        }
                    budget = None if once else report.budget_us
                    listener.timing = examine(
                        listener.func,
                        payload,
                        report.time_limit,
                        guard,
                        once=once,
                        budget_us=budget,
                    )
                problem = timing_problem(listener, listener.timing, report)
                if problem is not None:
                    report.problems.append(problem)


def timing_problem(listener: Listener, timing: Timing, report: Report) -> Problem | None:
    """The problem a listener's behaviour makes, with its fix; ``None`` when it makes none.

    A listener of a run-once hook may wait for I/O: only an error or the time limit is a
    problem there. Spawning is advised only where the hook takes spawned listeners, and for a
    listener of Locust's own hooks, after the line that puts Locust on this dispatcher.
    """
    if timing.verdict == "ok" or (timing.once and timing.verdict in ("network", "blocks")):
        return None
    if listener.hook in report.in_place_hooks:
        spawn = (
            f"make it quicker, or bound what it waits for: Locust waits for the listeners of "
            f"{listener.hook!r} before it goes on, so they cannot be spawned"
        )
        fixes = dict.fromkeys(("over budget", "network", "timeout", "blocks"), spawn)
    else:
        if listener.registry == LOCUSTS:
            how = (
                f"add '{FIX}' at the top of the locustfile (Locust's hooks then take spawned "
                "listeners), then register it with add_listener(func, spawn=True)"
            )
        else:
            how = "spawn it: add_listener(func, spawn=True)"
        fixes = {
            "over budget": f"{how}, or make it cheaper",
            "network": f"{how}: the user that fires should not wait for the network",
            "timeout": f"{how}, and bound what it waits for",
            "blocks": f"{how}: the user that fires waits while it blocks",
        }
    fixes["raises"] = (
        "fix it, or handle the error inside the listener (the doctor called it with a "
        "synthetic payload, so check whether a real one would do the same)"
    )
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
    func: Callable[..., Any],
    payload: dict[str, Any],
    time_limit: float,
    guard: NetworkGuard,
    *,
    once: bool = False,
    budget_us: float | None = None,
) -> Timing:
    """Call ``func(**payload)`` until its median time per call is stable, and judge it.

    A first call shows whether the listener behaves: one that reaches for the network, outlives
    the time limit, switches to the gevent hub (it waits for I/O, a sleep or a lock) or raises
    is reported as such and not timed further. The others are called in batches for about
    0.2 s; the median of the batches' time per call is compared with ``budget_us`` (``None``:
    no budget). ``once``: the hook runs once per run (``init``, ``test_start``...), so the
    listener is called once, as Locust would: twice could register its listeners twice.
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
        with _time_limit(time_limit):
            started = time.perf_counter()
            func(**payload)
            samples.append(time.perf_counter() - started)
            calls = 1
            deadline = started + _MEASURE_SECONDS
            while (
                not once
                and not switched
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
        return Timing("network", None, calls, detail, once)
    if timed_out:
        how = "while it waited (it yields to the gevent hub)" if switched else ""
        detail = f"did not return within the time limit of {time_limit:g} s {how}".strip()
        return Timing("timeout", None, calls, detail, once)
    if switched:
        detail = "it yields to the gevent hub during the call: it waits for I/O, a lock or a sleep"
        return Timing("blocks", None, calls, detail, once)
    if error is not None:
        return Timing("raises", None, calls, f"raises {describe_error(error)}", once)
    median_us = statistics.median(samples) * 1e6
    if budget_us is not None and median_us > budget_us:
        detail = f"{median_us:.1f} us per call (median), over the budget of {budget_us:g} us"
        return Timing("over budget", median_us, calls, detail, once)
    if once:
        return Timing("ok", median_us, calls, f"{median_us:.1f} us, called once", once)
    return Timing("ok", median_us, calls, f"{median_us:.1f} us per call (median)", once)


def describe_error(error: BaseException) -> str:
    """``Type: message``; never raises, also for an exception whose ``str()`` raises."""
    kind = type(error).__name__
    try:
        message = str(error)
    except Exception as broken:
        message = f"<its message cannot be printed: str() raised {type(broken).__name__}>"
    return f"{kind}: {message}" if message else kind
