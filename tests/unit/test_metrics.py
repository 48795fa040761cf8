"""Custom metrics without Locust: recording, folding per process, merging across workers."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
import subprocess
import sys

import pytest

from locust_events.metrics import MetricFigures, MetricRegistry, bucket_bounds


def test_counter_adds_per_label_and_each_collect_hands_over_what_came_since_the_last() -> None:
    registry = MetricRegistry()
    orders = registry.counter("orders")
    orders.add()
    orders.add(2, label="/cart")
    first = registry.collect()
    orders.add(5, label="/cart")
    second = registry.collect()
    assert first == {"orders": {"kind": "counter", "series": {"": 1, "/cart": 2}}}
    assert second == {"orders": {"kind": "counter", "series": {"/cart": 5}}}
    assert registry.collect() == {}  # nothing recorded since: nothing to send


def test_merged_totals_are_the_sum_of_every_report_of_every_worker_counted_once() -> None:
    figures = MetricFigures()
    recorded = {"w1": 0, "w2": 0}
    workers = {name: MetricRegistry() for name in recorded}
    rng = random.Random(7)
    for _ in range(50):  # reports alternate between the workers
        name = rng.choice(list(workers))
        for _ in range(rng.randrange(5)):
            value = rng.randrange(1, 4)
            workers[name].counter("hits").add(value, label=rng.choice("ab"))
            recorded[name] += value
        folds = workers[name].collect()
        if folds:
            figures.add(name, folds)
    assert figures.value("hits") == sum(recorded.values())
    assert figures.value("hits", worker="w1") == recorded["w1"]
    assert figures.value("hits", label="a") + figures.value("hits", label="b") == sum(
        recorded.values()
    )


def test_summary_merges_count_sum_min_and_max_exactly() -> None:
    figures = MetricFigures()
    for worker, values in (("w1", [3.0, 9.5, 4.0]), ("w2", [0.5, 7.0])):
        registry = MetricRegistry()
        size = registry.summary("payload_kb")
        for value in values:
            size.record(value)
        figures.add(worker, registry.collect())
    (row,) = [row for row in figures.rows() if row["worker"] == "all"]
    assert (row["count"], row["sum"], row["min"], row["max"]) == (5, 24.0, 0.5, 9.5)
    assert row["mean"] == pytest.approx(24.0 / 5)


def true_percentile(values: list[float], q: float) -> float:
    """The value of rank floor(q * (n - 1)) among the sorted values, as the histogram states."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@pytest.mark.parametrize("relative_error", [0.01, 0.05])
def test_merged_percentiles_are_within_the_stated_relative_error_of_every_recorded_value(
    relative_error: float,
) -> None:
    rng = random.Random(11)
    figures = MetricFigures()
    everything: list[float] = []
    for worker in ("w1", "w2", "w3"):
        registry = MetricRegistry()
        latency = registry.histogram("latency_ms", relative_error=relative_error)
        for _ in range(4):  # several reports per worker
            for _ in range(500):
                value = rng.lognormvariate(3, 1.2)  # a long tail, as response times have
                latency.record(value, label=rng.choice(["/", "/api"]))
                everything.append(value)
            figures.add(worker, registry.collect())
    assert figures.count("latency_ms") == len(everything)
    assert figures.value("latency_ms") == pytest.approx(sum(everything))
    for q in (0.0, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0):
        expected = true_percentile(everything, q)
        assert figures.percentile("latency_ms", q) == pytest.approx(expected, rel=relative_error)


def test_zero_values_count_and_the_percentiles_below_them_are_zero() -> None:
    registry = MetricRegistry()
    waits = registry.histogram("queue_wait_ms")
    for value in (0, 0, 0, 10):
        waits.record(value)
    figures = MetricFigures()
    figures.add("local", registry.collect())
    assert figures.percentile("queue_wait_ms", 0.5) == 0.0
    assert figures.percentile("queue_wait_ms", 1.0) == pytest.approx(10, rel=0.01)


def test_a_report_carries_at_most_one_count_per_bucket_whatever_the_number_of_values() -> None:
    registry = MetricRegistry()
    latency = registry.histogram("latency_ms", relative_error=0.01, lowest=0.01, highest=1e6)
    rng = random.Random(3)
    for _ in range(100_000):
        latency.record(10 ** rng.uniform(-4, 8))  # beyond both edges too
    fold = registry.collect()["latency_ms"]["series"][""]
    _, lowest, highest = bucket_bounds(0.01, 0.01, 1e6)
    indices = fold[5]
    assert len(indices) <= highest - lowest + 1 <= 1000
    assert min(indices) >= lowest
    assert max(indices) <= highest
    assert sum(fold[6]) == 100_000


@pytest.mark.parametrize("order", ["ascending", "descending", "shuffled"])
def test_each_value_is_counted_in_the_bucket_its_definition_names_in_any_order(
    order: str,
) -> None:
    # Buckets far apart and beyond both edges, so that the counts' span grows on both sides.
    values = [10**exponent * mantissa for exponent in range(-5, 11) for mantissa in (1, 3.7)]
    values += [0.5, 0.5, 0.505, 2e-3]
    values.sort(reverse=order == "descending")
    if order == "shuffled":
        random.Random(7).shuffle(values)
    registry = MetricRegistry()
    latency = registry.histogram("latency_ms", relative_error=0.02, lowest=1e-3, highest=1e9)
    for value in values:
        latency.record(value)
    gamma, lowest, highest = bucket_bounds(0.02, 1e-3, 1e9)
    expected: dict[int, int] = {}
    for value in values:
        index = min(max(math.ceil(math.log(value) / math.log(gamma)), lowest), highest)
        expected[index] = expected.get(index, 0) + 1
    count, total, low, high, zeros, indices, counts = registry.collect()["latency_ms"]["series"][""]
    assert dict(zip(indices, counts, strict=True)) == expected
    assert indices == sorted(indices)  # ascending, each once
    assert (count, zeros, low, high) == (len(values), 0, min(values), max(values))
    assert total == pytest.approx(sum(values))


def test_an_infinite_value_is_counted_in_the_last_bucket() -> None:
    registry = MetricRegistry()
    latency = registry.histogram("latency_ms", lowest=1, highest=1000)
    latency.record(5.0)
    latency.record(math.inf)
    _, _, highest = bucket_bounds(0.01, 1, 1000)
    count, total, low, high, _, indices, counts = registry.collect()["latency_ms"]["series"][""]
    assert (count, total, low, high) == (2, math.inf, 5.0, math.inf)
    assert indices[-1] == highest
    assert counts[-1] == 1


def test_a_negative_value_is_refused_naming_the_histogram_and_the_fix() -> None:
    registry = MetricRegistry()
    latency = registry.histogram("latency_ms")
    with pytest.raises(ValueError, match=r"histogram 'latency_ms'.*0 or more.*summary"):
        latency.record(-1.0)
    assert registry.collect() == {}  # the refused value left no trace


def test_declaring_a_name_again_returns_the_same_metric_or_names_the_conflict() -> None:
    registry = MetricRegistry()
    first = registry.histogram("latency_ms")
    assert registry.histogram("latency_ms") is first  # a locustfile imported twice
    with pytest.raises(ValueError, match=r"'latency_ms'.*declared already.*another name"):
        registry.counter("latency_ms")
    with pytest.raises(ValueError, match=r"relative_error must be between 0 and 1"):
        registry.histogram("other", relative_error=1.5)
    with pytest.raises(ValueError, match=r"non-empty string"):
        registry.counter("")


def test_a_worker_reporting_another_kind_under_the_same_name_is_refused() -> None:
    figures = MetricFigures()
    figures.add("w1", {"x": {"kind": "counter", "series": {"": 1}}})
    with pytest.raises(ValueError, match=r"metric 'x' of worker 'w2'.*declare it the same way"):
        figures.add("w2", {"x": {"kind": "summary", "series": {"": [1, 1.0, 1.0, 1.0]}}})


def test_a_gone_worker_keeps_its_figures_is_marked_and_counts_once_in_the_totals() -> None:
    figures = MetricFigures()
    figures.add("w1", {"hits": {"kind": "counter", "series": {"": 3}}})
    figures.add("w2", {"hits": {"kind": "counter", "series": {"": 4}}})
    figures.gone = {"w2"}
    rows = {row["worker"]: row for row in figures.rows()}
    assert rows["all"]["sum"] == 7
    assert rows["w2 (gone)"]["sum"] == 4
    assert "1 gone, counted with their last report: w2" in figures.table()
    parsed = list(csv.DictReader(io.StringIO(figures.to_csv())))
    assert [(row["Worker"], row["Sum"]) for row in parsed] == [
        ("all", "7"),
        ("w1", "3"),
        ("w2 (gone)", "4"),
    ]


def test_the_quit_table_shows_the_totals_with_percentiles() -> None:
    registry = MetricRegistry()
    latency = registry.histogram("latency_ms")
    for value in range(1, 101):
        latency.record(float(value), label="/")
    figures = MetricFigures()
    figures.add("local", registry.collect())
    table = figures.table()
    header = table.splitlines()[1].split()
    assert header[:3] == ["Metric", "Label", "Kind"]
    assert header[-4:] == ["50%", "90%", "95%", "99%"]
    assert "latency_ms  /" in table
    assert "Merged from 1 process(es)" in table


TWIN_SCENARIO = """
import json, random
from locust_events._metric_recording import Counter
from locust_events.metrics import MetricRegistry, bucket_bounds
rng = random.Random(5)
registry = MetricRegistry()
hits, sizes, latency = registry.counter("hits"), registry.summary("sizes"), registry.histogram("ms")
for _ in range(2000):
    hits.add(rng.choice([1, 2, 0.5]), label=rng.choice("ab"))
    sizes.record(rng.choice([3, -2.5, 10**6]), label=rng.choice("ab"))
    latency.record(rng.choice([0, 1e-9, 0.5, 7, 123.25, 1e12]), label=rng.choice("ab"))
print(json.dumps([Counter.__module__, registry.collect(), bucket_bounds(0.02, 0.1, 1e4)]))
"""


def test_the_compiled_recording_folds_exactly_as_the_pure_python_one() -> None:
    outputs = {}
    for pure in ("0", "1"):
        environment = {**os.environ, "LOCUST_EVENTS_PURE": pure}
        result = subprocess.run(
            [sys.executable, "-c", TWIN_SCENARIO],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            env=environment,
        )
        module, *folds = json.loads(result.stdout)
        outputs[pure] = folds
        if pure == "1":
            assert not module.endswith("_compiled")
    assert outputs["0"] == outputs["1"]
