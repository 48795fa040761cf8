"""``python -m locust_events demo``: a real headless Locust run against the local target, explained.

Runs Locust in a child process with the examples' listeners and prints what they saw.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ._hooks import EventHook

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_parser", "measure_dispatch_cost", "run_demo"]

#: Locust's nine request keyword arguments, as one request event passes them.
_REQUEST: dict[str, Any] = {
    "request_type": "GET",
    "name": "/api/data",
    "response_time": 3.2,
    "response_length": 512,
    "exception": None,
    "context": {},
    "start_time": 1_700_000_000.0,
    "url": "http://127.0.0.1/api/data",
    "response": None,
}


def _no_op(**kwargs: Any) -> None:
    pass


def _time_per_call(round_: Any, calls: int) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        round_()
        best = min(best, time.perf_counter() - start)
    return best / calls * 1e9


def measure_dispatch_cost(
    listeners: int, spawned: int = 0, calls: int = 5_000
) -> tuple[float, float | None]:
    """What dispatching one request event costs, without the listeners' own work, in ns.

    Fires a hook with ``listeners`` no-op listeners, ``spawned`` of them spawned into a
    listener pool (and waits for the pool), with Locust's nine request arguments, and
    subtracts calling the same no-op listeners directly. Returns ours and, when Locust is
    installed, Locust's ``EventHook`` measured the same way, its spawned listeners doing what
    Locust leaves to its users: ``gevent.spawn`` per call. Needs a gevent hub that may run
    (call it from a greenlet); best of five rounds each.
    """
    import gevent
    import gevent.pool

    from ._pool import ListenerPool

    listeners = max(listeners, spawned, 1)
    payload = _REQUEST
    pool = ListenerPool(name="dispatch cost")
    ours = EventHook("request")
    for index in range(listeners):
        ours.add_listener(_no_op, spawn=pool if index < spawned else False)

    def direct() -> None:
        for _ in range(calls):
            for _ in range(listeners):
                _no_op(**payload)

    def fire_with(hook: Any, wait: Any) -> Any:
        fire = hook.fire

        def round_() -> None:
            for _ in range(calls):
                fire(**payload)
            wait()

        return round_

    baseline = _time_per_call(direct, calls)
    ours_ns = max(_time_per_call(fire_with(ours, pool.join), calls) - baseline, 0.0)
    pool.close()
    locust_ns: float | None = None
    if importlib.util.find_spec("locust") is not None:
        from locust.event import EventHook as LocustEventHook

        greenlets = gevent.pool.Group()

        def spawn_no_op(**kwargs: Any) -> None:
            greenlets.spawn(_no_op, **kwargs)

        theirs: Any = cast(Any, LocustEventHook)()
        for index in range(listeners):
            theirs.add_listener(spawn_no_op if index < spawned else _no_op)
        locust_ns = max(_time_per_call(fire_with(theirs, greenlets.join), calls) - baseline, 0.0)
    return ours_ns, locust_ns


def _child_cpu_seconds() -> float:
    try:
        import resource
    except ImportError:  # not on Unix: no CPU figure
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def add_parser(commands: SubParsers) -> None:
    """Add the ``demo`` command to the command line."""
    parser = commands.add_parser(
        "demo",
        help="run a real headless Locust test against a local target and show what the "
        "listeners saw (needs the locust extra)",
    )
    parser.add_argument("--users", type=int, default=300, help="simulated users (default 300)")
    parser.add_argument("--spawn-rate", type=float, default=100, help="users started per second")
    parser.add_argument("--run-time", type=int, default=15, help="seconds of load (default 15)")
    parser.set_defaults(
        run=lambda args: run_demo(
            users=args.users, spawn_rate=args.spawn_rate, run_time=args.run_time
        )
    )


def run_demo(users: int = 300, spawn_rate: float = 100, run_time: int = 15) -> int:
    """Run the demo and print its summary; returns 0 when the run went as it should."""
    if importlib.util.find_spec("locust") is None:
        print("The demo runs real Locust: install the locust extra first,")
        print("    python -m pip install -e '.[locust]'")
        return 1
    import gevent

    from .target import Target

    target = Target(fail_every=40).start()
    locustfile = Path(__file__).with_name("_demo_locustfile.py")
    with tempfile.TemporaryDirectory(prefix="locust-events-demo-") as workdir:
        report_path = Path(workdir) / "report.json"
        log_path = Path(workdir) / "locust.log"
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{run_time}s",
            "--host",
            target.url,
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--stop-timeout",
            "5",
        ]
        environment = {**os.environ, "LOCUST_EVENTS_DEMO_REPORT": str(report_path)}
        print(
            f"locust-events demo: {users} users against {target.url} for {run_time} s "
            "(real Locust, headless, in a child process)"
        )
        cpu_before = _child_cpu_seconds()
        started = time.monotonic()
        deadline = started + run_time + 60
        with open(log_path, "w") as log:
            # A fixed argument list: our own interpreter running Locust on our own locustfile.
            process = subprocess.Popen(  # noqa: S603
                command, cwd=workdir, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
            while process.poll() is None:
                if time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    break
                gevent.sleep(0.2)  # the target serves meanwhile
        elapsed = time.monotonic() - started
        cpu = _child_cpu_seconds() - cpu_before
        target.stop()
        if not report_path.exists():
            print(f"Locust exited with {process.returncode} and wrote no report; its log:")
            print(log_path.read_text())
            return 1
        report = json.loads(report_path.read_text())
    _print_summary(report, target, cpu=cpu, elapsed=elapsed, exit_code=process.returncode)
    complete = report["api_calls"] == report["locust_requests"]
    return 0 if complete and process.returncode == 0 else 1


def _print_summary(
    report: dict[str, Any], target: Any, *, cpu: float, elapsed: float, exit_code: int
) -> None:
    requests = report["api_calls"]
    error_rate = report["error_count"] / max(requests, 1) * 100
    buckets = ", ".join(f"{name}: {count}" for name, count in sorted(report["buckets"].items()))
    received = target.webhook_count
    by_event = ", ".join(f"{name} {count}" for name, count in sorted(target.webhooks.items()))
    ours = report["dispatch_ns"]
    theirs = report["locust_dispatch_ns"]
    load_cpu = report["load_cpu_seconds"]
    cpu_per_request = load_cpu / max(report["load_requests"], 1) * 1e6
    lines = [
        ("requests", f"{requests} seen by the listeners, {report['locust_requests']} counted "
         f"by Locust ({requests / max(elapsed, 1e-9):.0f} per second over the whole run)"),
        ("custom metrics", f"api_calls {requests}, errors {report['error_count']} "
         f"({error_rate:.2f}%), average {report['average_response_time']:.2f} ms, "
         f"max {report['max_response_time']:.1f} ms"),
        ("response times", buckets or "none"),
        ("webhook calls", f"{report['webhooks_posted']} posted by the spawned listener "
         f"({report['webhooks_failed']} failed), {received} received by the target ({by_event})"),
        ("listener pool", f"{report['pool_submitted']} calls queued, "
         f"{report['pool_completed']} completed, at most {report['pool_high_water']} waiting"),
        ("listener errors", str(report["listener_errors"])),
        ("dispatcher cost", f"{ours / 1000:.2f} us per request event to "
         f"{report['request_listeners']} request listeners, 1 of them spawned"
         + (f" (Locust's EventHook, gevent.spawn per spawned call: {theirs / 1000:.2f} us)"
            if theirs is not None else "")),
        ("Locust process", f"{cpu_per_request:.0f} us of CPU per request while users ran "
         f"({load_cpu:.1f} s; {cpu:.1f} s CPU in all, start-up included)"),
        ("exit code", str(exit_code)),
    ]  # fmt: skip
    for label, text in lines:
        print(f"  {label:<16} {text}")
