"""What ``fire`` and ``measure()`` cost, as ratios against direct calls timed in the same run.

``python -m locust_events bench`` prints the table with :mod:`timeit`; ``benchmarks/`` times the
same cases with pytest-benchmark. Locust and blinker rows appear where they are installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import statistics
import time
import timeit
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import _measure, _native

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = [
    "CALLS_PER_ROUND",
    "CASES",
    "TARGETS",
    "Case",
    "add_parser",
    "peak_allocation",
    "report",
    "run",
    "time_every_case",
]

#: Calls per timed round, so that the timer's own cost stays small beside them.
CALLS_PER_ROUND = 1_000
ROUND = range(CALLS_PER_ROUND)
CONTEXT: dict[str, Any] = {}

Round = Callable[[], None]


def no_op(**kwargs: Any) -> None:
    """The listener: Locust's listeners take ``**kwargs``, so a direct call builds their dict."""


def _calls(target: Callable[..., object]) -> Round:
    """A round of calls of ``target`` with the request's keywords: the same code times a direct
    call (``target`` the listener) and a fire (``target`` a hook's ``fire``).

    The keywords are :data:`~.request_payload.REQUEST_PAYLOAD` written out (a test checks
    that they are the same), because the call's shape is what is timed: a keyword call
    hands the names to the callee without a dict, where ``**payload`` would copy a dict on
    every call, into the baseline too.
    """

    def round_() -> None:
        for _ in ROUND:
            target(
                request_type="GET",
                name="/api/data",
                response_time=12.5,
                response_length=512,
                exception=None,
                context=CONTEXT,
                start_time=1_700_000_000.0,
                url="http://127.0.0.1/api/data",
                response=None,
            )

    return round_


def _direct_call() -> Round:
    return _calls(no_op)


def _ten_direct_calls() -> Round:
    listeners = (no_op,) * 10

    def round_() -> None:
        for _ in ROUND:
            for listener in listeners:
                listener(
                    request_type="GET",
                    name="/api/data",
                    response_time=12.5,
                    response_length=512,
                    exception=None,
                    context=CONTEXT,
                    start_time=1_700_000_000.0,
                    url="http://127.0.0.1/api/data",
                    response=None,
                )

    return round_


def _fires(hook: Any) -> Round:
    return _calls(hook.fire)


def _measures(hook: Any) -> Round:
    measure = hook.measure

    def round_() -> None:
        for _ in ROUND:
            with measure("GET", "/api"):
                pass

    return round_


def _hook(core: type, measurement: type, listeners: int) -> Any:
    """A hook on ``core`` with ``listeners`` no-op listeners; ``measure`` as EventHook's."""

    class Hook(core):  # type: ignore[misc]
        __slots__ = ()

        def measure(self, request_type: str, name: str) -> Any:
            return measurement(self, request_type, name, 0, None)

    return Hook((no_op,) * listeners)


def _compiled(listeners: int) -> Any:
    if importlib.util.find_spec("locust_events._speedups") is None:
        return None
    from .. import _speedups

    return _hook(_speedups.HookCore, _speedups.Measurement, listeners)


def _pure(listeners: int) -> Any:
    return _hook(_native.HookCore, _measure.Measurement, listeners)


def _locust(listeners: int) -> Any:
    if importlib.util.find_spec("locust") is None:
        return None
    # Importing Locust monkey-patches with gevent, as Locust always does.
    locust_event: Any = importlib.import_module("locust.event")
    hook = locust_event.EventHook()
    for _ in range(listeners):
        hook.add_listener(no_op)
    return hook


def _blinker_sends() -> Round | None:
    if importlib.util.find_spec("blinker") is None:
        return None
    import blinker

    signal = blinker.Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver, weak=False)  # nothing else keeps it alive once we return
    send = signal.send

    def round_() -> None:
        for _ in ROUND:
            send(
                None,
                request_type="GET",
                name="/api/data",
                response_time=12.5,
                response_length=512,
                exception=None,
                context=CONTEXT,
                start_time=1_700_000_000.0,
                url="http://127.0.0.1/api/data",
                response=None,
            )

    return round_


def _on(make_hook: Callable[[int], Any], listeners: int, rounds: Callable[[Any], Round]) -> Any:
    def make() -> Round | None:
        hook = make_hook(listeners)
        return None if hook is None else rounds(hook)

    return make


@dataclass(frozen=True)
class Case:
    """One row of the table: ``make`` returns its round, or ``None`` where it cannot run."""

    group: str
    label: str
    make: Callable[[], Round | None]
    baseline: bool = False


ONE, TEN, NONE = "1 listener", "10 listeners", "0 listeners"
DIRECT, TEN_DIRECT = "direct call of the listener", "ten direct calls"

#: Every row, grouped; each group's baseline is timed in the same run as its rows.
CASES: tuple[Case, ...] = (
    Case(ONE, DIRECT, _direct_call, baseline=True),
    Case(ONE, "compiled fire", _on(_compiled, 1, _fires)),
    Case(ONE, "pure fire", _on(_pure, 1, _fires)),
    Case(ONE, "Locust's EventHook.fire", _on(_locust, 1, _fires)),
    Case(ONE, "blinker Signal.send", _blinker_sends),
    Case(ONE, "compiled measure(), empty block", _on(_compiled, 1, _measures)),
    Case(ONE, "pure measure(), empty block", _on(_pure, 1, _measures)),
    Case(TEN, TEN_DIRECT, _ten_direct_calls, baseline=True),
    Case(TEN, "compiled fire", _on(_compiled, 10, _fires)),
    Case(TEN, "pure fire", _on(_pure, 10, _fires)),
    Case(TEN, "Locust's EventHook.fire", _on(_locust, 10, _fires)),
    Case(NONE, DIRECT, _direct_call, baseline=True),
    Case(NONE, "compiled fire", _on(_compiled, 0, _fires)),
    Case(NONE, "pure fire", _on(_pure, 0, _fires)),
    Case(NONE, "Locust's EventHook.fire", _on(_locust, 0, _fires)),
)


@dataclass(frozen=True)
class Target:
    """A performance target of the project: ``label`` costs at most ``limit`` times ``against``."""

    group: str
    label: str
    against: str
    limit: float


TARGETS: tuple[Target, ...] = (
    Target(ONE, "compiled fire", DIRECT, 1.10),
    Target(TEN, "compiled fire", TEN_DIRECT, 1.10),
    Target(NONE, "compiled fire", DIRECT, 0.25),
    Target(ONE, "pure fire", "Locust's EventHook.fire", 1.00),
    Target(ONE, "compiled measure(), empty block", DIRECT, 2.00),
)

#: Median seconds (or another measure) per call, by group and label.
Results = dict[str, dict[str, float]]


def report(
    results: Results,
    write: Callable[[str], None],
    unit: str = "ns/call",
    scale: float = 1e9,
    baselines: Mapping[str, str] | None = None,
) -> None:
    """Write each group as ratios against its baseline, then the targets against theirs.

    ``results`` are seconds per call, shown in ``unit`` after multiplying by ``scale``.
    ``baselines`` names the baseline of groups that are not among :data:`CASES`.
    """
    baselines = {**(baselines or {}), **{case.group: case.label for case in CASES if case.baseline}}
    for group, medians in results.items():
        base = medians.get(baselines.get(group, ""))
        write(f"{group}  (baseline: {baselines.get(group)})")
        for label, median in medians.items():
            shown = f"{median / base:6.2f}x" if base else "   n/a"
            write(f"    {label:<40} {median * scale:9.1f} {unit}  {shown}")
    write("the project's performance targets (ratio, at most)")
    for target in TARGETS:
        medians = results.get(target.group, {})
        if target.label not in medians or target.against not in medians:
            continue
        ratio = medians[target.label] / medians[target.against]
        verdict = "met" if ratio <= target.limit else "not met"
        write(
            f"    {target.group}: {target.label} / {target.against} = {ratio:.2f}"
            f"  (at most {target.limit:.2f}: {verdict})"
        )


def peak_allocation(call: Callable[[], object], count: int, runs: int = 5) -> int:
    """The fewest bytes ``count`` calls of ``call()`` held at once, over ``runs`` runs.

    0 means no call allocated anything. An allocation made by every call shows in every run;
    the least of several runs leaves out what the interpreter now and then allocates on its
    own (Python 3.10 does, a few bytes, even in an empty loop).
    """
    peaks = []
    for _ in range(runs):
        calls = itertools.repeat(None, count)  # made before tracing: it is not the call's
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            for _ in calls:
                call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        peaks.append(peak - before)
    return min(peaks)


def _median_per_call(round_: Round, seconds: float) -> float:
    timer = timeit.Timer(round_)
    round_()  # warm up: let the interpreter specialise the loop
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while len(times) < 5 or time.perf_counter() < deadline:
        times.append(timer.timeit(number=1))
    return statistics.median(times) / CALLS_PER_ROUND


def time_every_case(seconds: float = 0.5, write: Callable[[str], None] = print) -> Results:
    """Time every case for about ``seconds`` each and write the table."""
    results: Results = {}
    for case in CASES:
        round_ = case.make()
        if round_ is not None:
            results.setdefault(case.group, {})[case.label] = _median_per_call(round_, seconds)
    report(results, write)
    compiled = _compiled(0)
    if compiled is not None:
        fire = compiled.fire
        allocated = peak_allocation(lambda: fire(name="/api", context=CONTEXT), 10_000)
        write(f"memory allocated by 10,000 compiled fires without listeners: {allocated} bytes")
    return results


def add_parser(subparsers: SubParsers) -> None:
    """Add the ``bench`` command to the command line."""
    parser = subparsers.add_parser(
        "bench",
        help="time fire and measure() against direct calls, compiled and pure side by side",
        description="Prints what fire and measure() cost here, as ratios against direct calls "
        "of the same listener timed in the same run (Locust and blinker rows where installed).",
    )
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time spent on each row (default: 0.5)"
    )


def run(args: argparse.Namespace) -> int:
    """Print the table: each row timed for ``args.seconds``."""
    time_every_case(seconds=args.seconds)
    return 0
