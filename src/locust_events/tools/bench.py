"""What ``fire`` and ``measure()`` cost, as ratios against direct calls timed in the same run.

``python -m locust_events bench`` prints the table with :mod:`timeit` (each row's median and
the quartiles of its rounds; ``--json`` for one JSON document) and checks the project's
performance targets, exiting 1 when one is not met. ``benchmarks/`` times the same cases with
pytest-benchmark, and ``tox -e bench`` writes the docs' performance page from them. Locust and
blinker rows appear where they are installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import platform
import statistics
import time
import timeit
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
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
    "Target",
    "Timing",
    "Timings",
    "Verdict",
    "add_parser",
    "as_json",
    "compiled_fire_allocation",
    "group_baselines",
    "peak_allocation",
    "report",
    "run",
    "time_every_case",
    "verdicts",
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


@dataclass(frozen=True)
class Timing:
    """One row's seconds per call over its timed rounds: the median and the spread."""

    median: float
    #: The first and third quartiles: half the rounds took between them.
    q1: float
    q3: float
    #: The quickest and the slowest round.
    low: float
    high: float
    rounds: int

    @classmethod
    def of(cls, per_call: Sequence[float]) -> Timing:
        """The timing of rounds that took ``per_call`` seconds per call each."""
        ordered = sorted(per_call)
        if len(ordered) > 1:
            q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        else:
            q1 = q3 = ordered[0]
        median = statistics.median(ordered)
        return cls(median, q1, q3, ordered[0], ordered[-1], len(ordered))


#: Each row's timing, by group and label.
Timings = dict[str, dict[str, Timing]]


@dataclass(frozen=True)
class Verdict:
    """A target checked against one run: the ratio measured, and whether it is within."""

    target: Target
    ratio: float
    limit: float

    @property
    def met(self) -> bool:
        return self.ratio <= self.limit


def verdicts(timings: Timings, limit_scale: float = 1.0) -> list[Verdict]:
    """Each target whose two rows were timed, its limit multiplied by ``limit_scale``."""
    found = []
    for target in TARGETS:
        rows = timings.get(target.group, {})
        if target.label in rows and target.against in rows:
            ratio = rows[target.label].median / rows[target.against].median
            found.append(Verdict(target, ratio, target.limit * limit_scale))
    return found


def group_baselines(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each group's baseline label: :data:`CASES`' own, and ``extra`` for other groups."""
    return {**(extra or {}), **{case.group: case.label for case in CASES if case.baseline}}


def report(
    timings: Timings,
    write: Callable[[str], None],
    baselines: Mapping[str, str] | None = None,
    limit_scale: float = 1.0,
    unit: str = "ns/call",
    scale: float = 1e9,
) -> None:
    """Write each group as ratios against its baseline, with the spread, then the targets.

    ``baselines`` names the baseline of groups that are not among :data:`CASES`; the timings
    are shown in ``unit`` after multiplying by ``scale`` (seconds per call in nanoseconds).
    """
    names = group_baselines(baselines)
    for group, rows in timings.items():
        base = rows.get(names.get(group, ""))
        write(f"{group}  (baseline: {names.get(group)})")
        write(f"    {'':<40} {'median':>9} {f'quartiles ({unit})':>21} {'rounds':>6}  ratio")
        for label, timing in rows.items():
            shown = f"{timing.median / base.median:6.2f}x" if base else "   n/a"
            spread = f"{timing.q1 * scale:9.1f} - {timing.q3 * scale:9.1f}"
            median = timing.median * scale
            write(f"    {label:<40} {median:9.1f} {spread:>21} {timing.rounds:6d} {shown}")
    write("the project's performance targets (ratio of medians, at most)")
    for verdict in verdicts(timings, limit_scale):
        target = verdict.target
        write(
            f"    {target.group}: {target.label} / {target.against} = {verdict.ratio:.2f}"
            f"  (at most {verdict.limit:.2f}: {'met' if verdict.met else 'not met'})"
        )


def as_json(timings: Timings, found: Sequence[Verdict], allocated: int | None) -> dict[str, Any]:
    """The run as one JSON document: every row (nanoseconds per call), every target."""
    names = group_baselines()
    groups = {}
    for group, rows in timings.items():
        base = rows.get(names.get(group, ""))
        groups[group] = {
            "baseline": names.get(group),
            "rows": [
                {
                    "label": label,
                    "median_ns": timing.median * 1e9,
                    "q1_ns": timing.q1 * 1e9,
                    "q3_ns": timing.q3 * 1e9,
                    "min_ns": timing.low * 1e9,
                    "max_ns": timing.high * 1e9,
                    "rounds": timing.rounds,
                    "ratio": timing.median / base.median if base else None,
                }
                for label, timing in rows.items()
            ],
        }
    return {
        "calls_per_round": CALLS_PER_ROUND,
        "calling_loop": "compiled" if _compiled(0) is not None else "pure Python",
        "python": platform.python_version(),
        "groups": groups,
        "targets": [
            {
                "group": verdict.target.group,
                "label": verdict.target.label,
                "against": verdict.target.against,
                "limit": verdict.limit,
                "ratio": verdict.ratio,
                "met": verdict.met,
            }
            for verdict in found
        ],
        "targets_met": all(verdict.met for verdict in found),
        "compiled_fire_allocation_bytes": allocated,
    }


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


def _per_call(round_: Round, seconds: float, rounds: int | None) -> Timing:
    """Time ``rounds`` rounds of ``round_``, or as many as fit in ``seconds`` (at least 5)."""
    timer = timeit.Timer(round_)
    round_()  # warm up: let the interpreter specialise the loop
    times: list[float] = []
    deadline = time.perf_counter() + seconds
    while (len(times) < rounds) if rounds else (len(times) < 5 or time.perf_counter() < deadline):
        times.append(timer.timeit(number=1) / CALLS_PER_ROUND)
    return Timing.of(times)


def time_every_case(seconds: float = 0.5, rounds: int | None = None) -> Timings:
    """Time every case that can run here: ``rounds`` rounds each, else about ``seconds``."""
    timings: Timings = {}
    for case in CASES:
        round_ = case.make()
        if round_ is not None:
            timings.setdefault(case.group, {})[case.label] = _per_call(round_, seconds, rounds)
    return timings


def compiled_fire_allocation() -> int | None:
    """Bytes 10,000 compiled fires without listeners hold at once (None: not compiled here)."""
    compiled = _compiled(0)
    if compiled is None:
        return None
    fire = compiled.fire
    return peak_allocation(lambda: fire(name="/api", context=CONTEXT), 10_000)


def add_parser(subparsers: SubParsers) -> None:
    """Add the ``bench`` command to the command line."""
    parser = subparsers.add_parser(
        "bench",
        help="time fire and measure() against direct calls, compiled and pure side by side",
        description="Prints what fire and measure() cost here, as ratios against direct calls "
        "of the same listener timed in the same run (Locust and blinker rows where installed), "
        "with the spread of the rounds, then the project's performance targets. Exits 1 when a "
        "target is not met.",
    )
    parser.add_argument(
        "--seconds", type=float, default=0.5, help="time spent on each row (default: 0.5)"
    )
    parser.add_argument(
        "--rounds",
        type=_positive_int,
        default=None,
        help="time exactly this many rounds of 1,000 calls per row instead of --seconds",
    )
    parser.add_argument(
        "--limit-scale",
        type=float,
        default=1.0,
        help="multiply every target's limit by this (0.9: 10%% tighter; default: 1)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"--rounds must be 1 or more, not {value}")
    return value


def run(args: argparse.Namespace) -> int:
    """Time every row, print the table (or JSON); 1 when a target is not met, else 0."""
    timings = time_every_case(seconds=args.seconds, rounds=args.rounds)
    found = verdicts(timings, args.limit_scale)
    allocated = compiled_fire_allocation()
    if args.json:
        print(json.dumps(as_json(timings, found, allocated), indent=2))
    else:
        report(timings, print, limit_scale=args.limit_scale)
        if allocated is not None:
            print(f"memory allocated by 10,000 compiled fires without listeners: {allocated} bytes")
    return 0 if all(verdict.met for verdict in found) else 1
