"""The figures the Listeners tab and the quit-time profile show mean what their titles say.

Durations come from a clock the tests move by hand (the profiler reads ``_perf_counter`` of
its module at each call), so every figure here is exact, whatever the machine's speed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from locust_events import Events, ListenerPool, _profiling
from locust_events._histogram import BUCKETS, add, merge, quantile
from locust_events._listener_stats import aggregate, snapshot, to_csv
from locust_events._listener_tab_table import _duration, table_rows

from .conftest import REQUEST_PAYLOAD


class Clock:
    """A clock that only moves when a listener says it took time."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def spend(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock()
    monkeypatch.setattr(_profiling, "_perf_counter", fake)
    return fake


def fire(registry: Events, count: int) -> None:
    for _ in range(count):
        registry.request.fire(**REQUEST_PAYLOAD)


def row_of(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [row for row in rows if row["listener_full"].endswith(name)]
    return found


def test_the_quit_profile_scales_a_sampled_total_to_every_call(
    registry: Events, clock: Clock
) -> None:
    def slow(**kwargs: Any) -> None:
        clock.spend(0.001)

    def quick(**kwargs: Any) -> None:
        clock.spend(0.0001)

    registry.request.add_listener(quick)
    registry.request.add_listener(slow)
    profiler = registry.start_profiling(sample_every=100)
    fire(registry, 1000)  # 10 calls of each timed
    slow_profile, _quick_profile = profiler.profiles  # the costliest first
    assert slow_profile.listener.endswith("slow")
    assert slow_profile.total_seconds == pytest.approx(0.010)  # what the sample measured
    assert slow_profile.estimated_total_seconds == pytest.approx(1.0)
    table = profiler.table()
    slow_line = next(line for line in table.splitlines() if "slow" in line)
    assert "~1.000" in slow_line
    assert "0.010" not in slow_line


def test_a_spawned_listener_shows_what_users_pay_apart_from_how_long_it_runs(
    registry: Events, clock: Clock
) -> None:
    def webhook(**kwargs: Any) -> None:
        clock.spend(0.018)  # its own network I/O: the users do not wait for it

    def count(**kwargs: Any) -> None:
        clock.spend(0.000003)

    registry.request.add_listener(webhook, spawn=True)
    registry.request.add_listener(count)
    registry.start_profiling(sample_every=1)
    fire(registry, 20)
    assert registry.join(30)
    rows = snapshot(registry)["listeners"]
    spawned, sync = row_of(rows, "webhook"), row_of(rows, "count")
    assert spawned["mean_us"] == 18000.0  # how long it runs
    assert spawned["user_mean_us"] == 0.0  # the enqueue, on a clock that did not move
    assert spawned["user_total_s"] == 0.0
    assert sync["user_mean_us"] == sync["mean_us"] == 3.0  # a sync call is all the user's
    assert sync["user_total_s"] == pytest.approx(20 * 0.000003)
    assert next(row["listener_full"] for row in rows).endswith("count")  # what users pay first


def test_one_slow_call_moves_the_mean_not_the_median_or_the_95th_percentile(
    registry: Events, clock: Clock
) -> None:
    calls = iter([0.001] + [0.000003] * 99)

    def listener(**kwargs: Any) -> None:
        clock.spend(next(calls))

    registry.request.add_listener(listener)
    registry.start_profiling(sample_every=1)
    fire(registry, 100)
    (row,) = snapshot(registry)["listeners"]
    assert row["mean_us"] == pytest.approx(12.97, abs=0.05)
    assert row["max_us"] == 1000.0
    assert row["p50_us"] == pytest.approx(3.0, rel=0.05)
    assert row["p95_us"] == pytest.approx(3.0, rel=0.05)
    assert row["user_p95_us"] == row["p95_us"]


def test_percentiles_come_from_a_bounded_histogram_that_adds_up_over_workers() -> None:
    histogram: dict[int, int] = {}
    for step in range(100_000):
        add(histogram, step * 1e-6)
    assert len(histogram) <= BUCKETS
    median = quantile(histogram, 0.5)
    assert median == pytest.approx(0.05, rel=0.05)
    other: dict[int, int] = {}
    merge(other, [[3, 2], [BUCKETS + 5, 1], [-1, 4]])  # out-of-range buckets are ignored
    assert other == {3: 2}
    assert quantile({}, 0.5) is None


def test_json_figures_are_numbers_or_null_never_empty_strings(
    registry: Events, clock: Clock
) -> None:
    registry.request.add_listener(lambda **kwargs: clock.spend(0.001))
    registry.request.add_listener(lambda **kwargs: clock.spend(0.002), spawn=True)
    registry.request.add_batch_listener(lambda batch: None, max_size=2)
    registry.start_profiling(sample_every=1)
    fire(registry, 4)
    assert registry.join(30)
    for row in snapshot(registry)["listeners"]:
        for key in ("mean_wait_ms", "max_wait_ms", "user_mean_us", "p50_us", "user_total_s"):
            assert row[key] is None or isinstance(row[key], float), (key, row)
    rows = {row["kind"]: row for row in snapshot(registry)["listeners"]}
    assert rows["sync"]["mean_wait_ms"] is None
    assert isinstance(rows["spawned"]["mean_wait_ms"], float)
    assert rows["batch"]["user_mean_us"] is None  # a batch listener's append is not timed
    names = {"worker", "hook", "listener", "listener_full", "kind", "pool"}
    for row in json.loads(json.dumps(snapshot(registry)))["listeners"]:
        assert all(row[key] != "" for key in set(row) - names), row


def test_reset_starts_every_figure_afresh_and_keeps_counting(
    registry: Events, clock: Clock
) -> None:
    registry.request.add_listener(lambda **kwargs: clock.spend(0.001))
    profiler = registry.start_profiling(sample_every=1)
    fire(registry, 5)
    profiler.reset()
    (profile,) = profiler.profiles
    assert (profile.calls, profile.timed_calls, profile.max_seconds) == (0, 0, 0.0)
    assert profile.durations == {}
    fire(registry, 2)
    assert (profile.calls, profile.timed_calls) == (2, 2)


def test_a_reset_counts_a_pools_counters_from_then(registry: Events) -> None:
    pool = ListenerPool(size=1, maxsize=10, name="p")
    registry.request.add_listener(lambda **kwargs: None, spawn=pool)
    fire(registry, 3)
    assert pool.join(30)
    at_reset = {"p": {"submitted": 3, "completed": 3, "failed": 0, "dropped": 0}}
    fire(registry, 2)
    assert pool.join(30)
    (row,) = snapshot(registry, since=at_reset)["pools"]
    assert (row["submitted"], row["completed"]) == (2, 2)
    pool.close(5)


def listener_row(**fields: Any) -> dict[str, Any]:
    row = {
        "hook": "request",
        "listener_full": "app.on_request",
        "kind": "sync",
        "pool": "",
        "calls": 10,
        "errors": 0,
        "timed_calls": 1,
        "total_seconds": 0.001,
        "max_seconds": 0.001,
        "durations": [[80, 1]],
        "wait_total_seconds": 0.0,
        "wait_max_seconds": 0.0,
    }
    row.update(fields)
    return row


def test_a_worker_report_lacking_fields_shows_what_it_has_and_breaks_nothing() -> None:
    old_version = listener_row()
    for missing in ("listener_full", "durations", "wait_max_seconds", "errors"):
        del old_version[missing]
    old_version["listener"] = "app.on_request"
    figures = aggregate(
        {
            "w1": {"listeners": [listener_row()], "pools": [{"pool": "p", "pending": 1}]},
            "w2": {"listeners": [old_version, "not a row", {"calls": "x"}], "pools": [None]},
            "w3": {"listeners": "garbage"},
            "w4": "garbage",
        }
    )
    total = next(row for row in figures["listeners"] if row["worker"] == "all")
    assert (total["calls"], total["errors"], total["timed_calls"]) == (20, 0, 2)
    assert [row["worker"] for row in figures["listeners"]] == ["all", "w1", "w2"]
    assert [row["worker"] for row in figures["pools"]] == ["all", "w1"]
    json.dumps(figures)
    table_rows(figures)
    to_csv(figures)


def test_a_summed_pool_never_has_more_pending_than_its_high_water_mark() -> None:
    pool = {"pool": "p", "pending": 58, "running": 1, "high_water": 58, "submitted": 59}
    figures = aggregate({"w1": {"pools": [pool]}, "w2": {"pools": [dict(pool, pending=57)]}})
    for row in figures["pools"]:
        assert row["pending"] <= row["high_water"], row


def test_a_pools_batch_events_count_in_its_pending_and_high_water_alike(registry: Events) -> None:
    import gevent.event

    release = gevent.event.Event()
    pool = ListenerPool(size=1, maxsize=1000, name="batches")
    registry.request.add_batch_listener(lambda batch: release.wait(), max_size=50, pool=pool)
    registry.request.add_listener(lambda **kwargs: release.wait(), spawn=pool)
    fire(registry, 115)
    (row,) = snapshot(registry)["pools"]
    assert row["pending"] + row["running"] >= 115
    assert row["pending"] <= row["high_water"]
    release.set()
    assert pool.join(30)
    pool.close(5)


def test_firers_waiting_for_room_are_told_apart_from_what_the_queue_holds(
    registry: Events,
) -> None:
    import gevent
    import gevent.event

    release = gevent.event.Event()
    pool = ListenerPool(size=1, maxsize=5, name="small")
    registry.request.add_listener(lambda **kwargs: release.wait(), spawn=pool)
    firers = [gevent.spawn(fire, registry, 1) for _ in range(12)]
    gevent.sleep(0)  # the firers run until each queued its call or waits for room
    while pool.stats.running == 0:
        gevent.sleep(0.001)  # the worker took the first call
    (row,) = snapshot(registry)["pools"]
    assert (row["running"], row["pending"], row["high_water"]) == (1, 11, 5)
    assert (row["queued"], row["waiting_for_room"]) == (5, 6)
    assert row["queued"] <= row["high_water"]
    release.set()
    gevent.joinall(firers, timeout=30)
    assert pool.join(30)
    pool.close(5)


def test_names_that_start_like_spreadsheet_formulas_are_written_as_text() -> None:
    names = ["=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "plain"]
    snap = {
        "listeners": [dict(listener_row(), listener=name, worker="w") for name in names],
        "pools": [{"worker": "w", "pool": "=cmd|' /C calc'!A0", "pending": -1}],
    }
    rows = list(csv.reader(io.StringIO(to_csv(snap))))
    written = [row[2] for row in rows[1 : 1 + len(names)]]
    assert written == ["'=HYPERLINK(1)", "'+1", "'-1", "'@SUM(A1)", "'\tx", "plain"]
    pool_row = rows[-1]
    assert pool_row[1] == "'=cmd|' /C calc'!A0"
    assert pool_row[2] == "-1"  # numbers stay numbers


def test_the_tab_shows_the_users_listeners_and_says_how_many_it_left_out() -> None:
    figures = aggregate(
        {
            "local": {
                "listeners": [
                    listener_row(listener_full="app.on_request"),
                    listener_row(listener_full="app.never_called", calls=0, timed_calls=0),
                    listener_row(listener_full="locust.stats.RequestStats.log"),
                ],
                "pools": [{"pool": "p", "pending": 2, "queued": 2, "running": 1, "high_water": 4}],
            }
        }
    )
    figures["listeners"] = [row for row in figures["listeners"] if row["worker"] == "all"]
    shown = [row["listener"] for row in table_rows(figures)]
    assert shown[0] == "app.on_request"
    assert "app.never_called" not in shown
    assert not any(name.startswith("locust.") for name in shown)
    assert shown[-1].startswith("2 more:")
    pool = next(row for row in table_rows(figures) if row["kind"] == "pool")
    assert pool["pool_now"] == "2 · - · 1 · 4 · -"  # this report has no waiting or dropped count


@pytest.mark.parametrize("exponent", range(-6, 11))
def test_a_duration_cell_is_at_most_five_characters_however_slow_the_run(exponent: int) -> None:
    """The Listeners tab's columns fit the page on a slow machine too: durations grow with
    its load, and their figures must not widen the table."""
    for mantissa in (1.0, 1.234, 4.99, 9.9996):
        text = _duration(mantissa * 10.0**exponent)
        assert len(text) <= 5, text
        assert "e" not in text, text


def test_durations_keep_three_significant_digits_with_a_unit_letter() -> None:
    shown = [_duration(v) for v in (12.345, 999.96, 9_999.4, 12_345, 999_600, 1_234_567)]
    assert shown == ["12.3", "1,000", "9,999", "12.3k", "1M", "1.23M"]
