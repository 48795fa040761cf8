"""What custom metrics cost: recording on the hot path (callgrind), merging on the master (timed).

``python benchmarks/metrics_cost.py`` (valgrind on PATH) counts the instructions of one
recording into each kind of metric, against the baseline the project holds it to: a fire of
a hook with one synchronous listener of a trivial function. Each case runs 100 rounds of
1,000 calls and once as none, to subtract the interpreter's start-up; hash randomisation is
off so that the counts repeat.

``--merge`` times the master's side instead: one report interval of 100 simulated workers
(each report: a counter, a summary and a histogram, split over 10 request names, values
spread like response times), added to the master's figures, then the merged totals and
percentiles computed once, as the table or an exporting listener asks for them. Printed
against Locust's report interval (3 s).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.callgrind_count import callgrind_instructions  # noqa: E402

ROUNDS = 100
CALLS_PER_ROUND = 1000

#: Builds the case named by ``sys.argv[1]`` as ``call``, then makes ``sys.argv[2]`` rounds.
_SETUP = """
import sys
from locust_events import Events
from locust_events.metrics import MetricRegistry

metrics = MetricRegistry()
case, rounds = sys.argv[1], int(sys.argv[2])
if case == "call":
    def trivial(name, value):
        pass
    def round_():
        for _ in range(1000):
            trivial(name="/x", value=12.5)
elif case == "fire":
    def trivial(name, value):
        pass
    hook = Events().add_hook("recorded", "name", "value")
    hook.add_listener(trivial)
    fire = hook.fire
    def round_():
        for _ in range(1000):
            fire(name="/x", value=12.5)
elif case == "counter":
    add = metrics.counter("c").add
    def round_():
        for _ in range(1000):
            add(1, "/x")
elif case == "summary":
    record = metrics.summary("s").record
    def round_():
        for _ in range(1000):
            record(12.5, "/x")
else:
    record = metrics.histogram("h").record
    def round_():
        for value in VALUES:
            record(value, "/x")
    # response times spread over many buckets, the same every run
    VALUES = [1.0 + (i * 7919) % 2000 / 3.0 for i in range(1000)]
for _ in range(rounds):
    round_()
"""

CASES = (
    ("fire of a hook, one trivial synchronous listener", "fire"),
    ("  a direct call of that trivial Python function", "call"),
    ("counter.add(1, label)", "counter"),
    ("summary.record(value, label)", "summary"),
    ("histogram.record(value, label)", "histogram"),
)


def recording_report() -> None:
    per_call = {}
    for _, case in CASES:
        full, empty = (
            callgrind_instructions("-c", _SETUP, case, str(rounds)) for rounds in (ROUNDS, 0)
        )
        per_call[case] = (full - empty) / (ROUNDS * CALLS_PER_ROUND)
    print("recording one value, instructions under callgrind (ratio to the fire)")
    for label, case in CASES:
        print(f"    {label:<52} {per_call[case]:8.1f}  {per_call[case] / per_call['fire']:5.2f}x")


WORKERS = 100
NAMES = [f"/api/endpoint/{i}" for i in range(10)]
VALUES_PER_REPORT = 3000  # 1,000 requests a second per worker, 3 s between reports


def simulated_reports(seed: int) -> list[tuple[str, dict[str, object]]]:
    """One report of each of the workers, as their metric registries fold them."""
    from locust_events.metrics import MetricRegistry

    rng = random.Random(seed)
    reports = []
    for worker in range(WORKERS):
        registry = MetricRegistry()
        requests = registry.counter("requests")
        sizes = registry.summary("response_bytes")
        latency = registry.histogram("response_ms")
        for _ in range(VALUES_PER_REPORT):
            name = rng.choice(NAMES)
            requests.add(1, name)
            sizes.record(rng.randrange(100, 5000), name)
            latency.record(rng.lognormvariate(4, 1), name)
        reports.append((f"worker-{worker}", registry.collect()))
    return reports


def merge_report() -> None:
    from locust_events.metrics import MetricFigures

    reports = simulated_reports(1)
    buckets = sum(len(state[5]) for state in reports[0][1]["response_ms"]["series"].values())  # type: ignore[index]
    figures = MetricFigures()
    for worker, folds in simulated_reports(0):  # the state after a first interval
        figures.add(worker, folds)
    best_merge = best_rows = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for worker, folds in reports:
            figures.add(worker, folds)
            # what an exporting listener of metrics_merged reads after each report
            figures.value("requests")
            figures.percentile("response_ms", 0.99)
        merged = time.perf_counter()
        figures.rows()  # every worker's rows with their percentiles: the table, the CSV
        done = time.perf_counter()
        best_merge = min(best_merge, merged - started)
        best_rows = min(best_rows, done - merged)
    interval = 3.0
    print(
        f"master, {WORKERS} workers, one report each ({len(NAMES)} names, "
        f"{buckets} histogram buckets per report), best of 5"
    )
    print(
        f"    merging the {WORKERS} reports, reading a total and a p99 after each "
        f"{best_merge * 1000:8.1f} ms  ({best_merge / interval:.1%} of Locust's "
        f"{interval:.0f} s report interval)"
    )
    print(f"    every row of every worker (the CSV, the quit table)   {best_rows * 1000:8.1f} ms")


if __name__ == "__main__":
    if "--merge" in sys.argv:
        merge_report()
    else:
        recording_report()
