"""Sampled profiling: every call and error counted, one call in N timed, and the rows it makes."""

from __future__ import annotations

from typing import Any

import gevent.event
import pytest

from locust_events import Events
from locust_events._listener_stats import aggregate, shorten_listener, snapshot, to_csv

from .conftest import REQUEST_PAYLOAD


def quick(**kwargs: Any) -> None:
    pass


def broken(**kwargs: Any) -> None:
    raise RuntimeError("bug")


def fire_requests(registry: Events, count: int) -> None:
    for _ in range(count):
        registry.request.fire(**REQUEST_PAYLOAD)


def by_name(registry: Events) -> dict[str, Any]:
    assert registry.profiler is not None
    return {p.listener.rsplit(".", 1)[-1]: p for p in registry.profiler.profiles}


@pytest.mark.parametrize(("fires", "every", "timed"), [(25, 10, 3), (30, 10, 3), (7, 1, 7)])
def test_every_call_is_counted_and_the_first_then_every_nth_is_timed(
    registry: Events, fires: int, every: int, timed: int
) -> None:
    registry.request.add_listener(quick)
    registry.request.add_listener(broken)
    registry.start_profiling(sample_every=every)
    fire_requests(registry, fires)
    profiles = by_name(registry)
    assert profiles["quick"].calls == fires
    assert profiles["quick"].timed_calls == timed
    assert profiles["broken"].calls == fires
    assert profiles["broken"].errors == fires
    assert profiles["broken"].timed_calls == timed
    assert registry.error_count == fires
    assert 0 < profiles["quick"].max_seconds <= profiles["quick"].total_seconds


def test_spawned_calls_are_counted_and_sampled_with_their_queue_wait(registry: Events) -> None:
    registry.request.add_listener(quick, spawn=True)
    registry.request.add_listener(broken, spawn=True)
    registry.start_profiling(sample_every=4)
    fire_requests(registry, 10)
    assert registry.join(30)
    profiles = by_name(registry)
    for name in ("quick", "broken"):
        assert profiles[name].calls == 10
        assert profiles[name].timed_calls == 3  # calls 1, 5 and 9
        assert profiles[name].spawned
        assert profiles[name].pool == registry.pool.name
        assert profiles[name].queue_wait_max_seconds > 0
    assert profiles["broken"].errors == 10
    assert registry.error_count == 10


def test_a_profiled_spawned_listener_is_called_as_is_and_counted_by_its_pool(
    registry: Events,
) -> None:
    registry.request.add_listener(quick, spawn=True)
    (enqueue,) = registry.request._listeners
    registry.start_profiling(sample_every=100)
    assert registry.request._listeners == (enqueue,)  # no wrapper on the fire's path
    fire_requests(registry, 3)
    assert registry.join(30)
    profiler = registry.stop_profiling()
    fire_requests(registry, 2)  # after the profiler stopped: not counted
    assert registry.join(30)
    assert profiler is not None
    (profile,) = profiler.profiles
    assert (profile.calls, profile.timed_calls, profile.timed_fires) == (3, 1, 1)


def test_a_spawned_call_past_its_timeout_counts_as_an_error_in_its_profile(
    registry: Events,
) -> None:
    never = gevent.event.Event()

    def stuck(**kwargs: Any) -> None:
        never.wait()

    registry.request.add_listener(stuck, spawn=True, timeout=0.01)
    registry.start_profiling(sample_every=2)
    fire_requests(registry, 3)
    assert registry.join(30)
    (profile,) = by_name(registry).values()
    assert (profile.calls, profile.errors) == (3, 3)


def test_sampling_off_is_the_plain_listeners(registry: Events) -> None:
    registry.request.add_listener(quick)
    registry.start_profiling(sample_every=100)
    assert registry.request._listeners != (quick,)
    registry.stop_profiling()
    assert registry.request._listeners == (quick,)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_a_bad_sample_rate_is_refused_with_the_fix(registry: Events, bad: Any) -> None:
    with pytest.raises(ValueError, match="sample_every must be a whole number"):
        registry.start_profiling(sample_every=bad)


def test_a_snapshot_has_a_row_per_listener_and_per_pool(registry: Events) -> None:
    registry.request.add_listener(quick)
    registry.request.add_listener(broken, spawn=True)
    registry.start_profiling(sample_every=5)
    fire_requests(registry, 12)
    assert registry.join(30)
    snap = snapshot(registry, "local")
    sync = next(r for r in snap["listeners"] if r["listener"].endswith("quick"))
    spawned = next(r for r in snap["listeners"] if r["listener"].endswith("broken"))
    assert (sync["kind"], sync["calls"], sync["errors"], sync["mean_wait_ms"]) == (
        "sync",
        12,
        0,
        None,
    )
    assert (spawned["kind"], spawned["calls"], spawned["errors"]) == ("spawned", 12, 12)
    assert spawned["pool"] == registry.pool.name
    assert isinstance(spawned["mean_wait_ms"], float)
    (pool,) = snap["pools"]
    assert pool["pool"] == registry.pool.name
    assert (pool["submitted"], pool["failed"], pool["pending"], pool["running"]) == (12, 12, 0, 0)
    assert pool["high_water"] >= 1
    lines = to_csv(snap).splitlines()
    assert lines[0].startswith("Worker,Hook,Listener,Kind,Pool,Calls,Errors")
    assert "" in lines
    assert any(line.startswith("Worker,Pool,Pending now") for line in lines)


def listener_row(hook: str, name: str, calls: int, timed: int, total: float, most: float) -> dict:
    return {
        "worker": "worker",
        "hook": hook,
        "listener": name,
        "listener_full": name,
        "kind": "sync",
        "pool": "",
        "calls": calls,
        "errors": 1,
        "timed_calls": timed,
        "total_seconds": total,
        "max_seconds": most,
        "wait_total_seconds": 0.0,
        "wait_max_seconds": 0.0,
    }


def pool_row(queued: int, high_water: int, dropped: int) -> dict:
    return {
        "worker": "worker",
        "pool": "p",
        "pending": queued,
        "running": 1,
        "high_water": high_water,
        "dropped": dropped,
        "oldest_pending_age": 0.5,
        "submitted": 10,
        "completed": 8,
        "failed": 1,
    }


def test_aggregate_sums_the_workers_and_keeps_each_one_marking_who_left() -> None:
    figures = {
        "w1": {
            "listeners": [listener_row("request", "a.f", 100, 1, 0.004, 0.004)],
            "pools": [pool_row(3, 7, 1)],
        },
        "w2": {
            "listeners": [listener_row("request", "a.f", 50, 1, 0.002, 0.002)],
            "pools": [pool_row(2, 9, 0)],
        },
    }
    result = aggregate(figures, gone={"w2"})
    total, w1, w2 = result["listeners"]
    assert (total["worker"], total["calls"], total["errors"]) == ("all", 150, 2)
    assert total["mean_us"] == 3000.0  # (4 ms + 2 ms) over 2 timed calls
    assert total["max_us"] == 4000.0
    assert (w1["worker"], w1["calls"]) == ("w1", 100)
    assert (w2["worker"], w2["calls"]) == ("w2 (gone)", 50)
    pool_total, pool_w1, pool_w2 = result["pools"]
    assert pool_total["worker"] == "all"
    assert (pool_total["pending"], pool_total["running"], pool_total["dropped"]) == (5, 2, 1)
    assert (pool_total["high_water"], pool_total["submitted"]) == (16, 20)
    assert (pool_w1["worker"], pool_w2["worker"]) == ("w1", "w2 (gone)")


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("example.on_request", "example.on_request"),
        ("locust.runners.Runner.__init__.<locals>.on_request", "locust.runners.Runner.on_request"),
        ("a" * 40 + ".Runner.__init__.<locals>.on_request", "…Runner.on_request"),
        (
            "locust_events.webui.attach.<locals>.send_figures",
            "locust_events.webui.attach.send_figures",
        ),
        ("a" * 30 + ".Handler." + "b" * 30, "…Handler." + "b" * 30),
    ],
)
def test_long_listener_names_lose_leading_modules_not_their_own_name(name: str, short: str) -> None:
    assert shorten_listener(name) == short


def test_a_fire_that_leaves_names_out_or_adds_some_reaches_the_listener_as_is(
    registry: Events,
) -> None:
    received: list[dict[str, Any]] = []

    def record(**kwargs: Any) -> None:
        received.append(kwargs)

    registry.request.add_listener(record)
    registry.start_profiling(sample_every=2)
    custom_client = {k: REQUEST_PAYLOAD[k] for k in ("request_type", "name", "response_time")}
    custom_client.update(response_length=1, exception=None, context={})
    registry.request.fire(**REQUEST_PAYLOAD)
    registry.request.fire(**custom_client)  # no start_time, url or response
    registry.request.fire(**REQUEST_PAYLOAD, extra="kept")
    registry.request.fire(**REQUEST_PAYLOAD)
    assert received == [
        REQUEST_PAYLOAD,
        custom_client,
        {**REQUEST_PAYLOAD, "extra": "kept"},
        REQUEST_PAYLOAD,
    ]
    (profile,) = by_name(registry).values()
    assert profile.calls == 4
    # The fires that pass exactly the hook's names are sampled apart from the others:
    # their 1st is timed, and the 1st of the two that do not.
    assert profile.timed_calls == 2


def test_errors_are_counted_on_every_way_through_the_wrapper(registry: Events) -> None:
    registry.request.add_listener(broken)
    registry.start_profiling(sample_every=3)
    for _ in range(4):
        registry.request.fire(**REQUEST_PAYLOAD)
        registry.request.fire(**REQUEST_PAYLOAD, extra=1)
    (profile,) = by_name(registry).values()
    assert (profile.calls, profile.errors) == (8, 8)
    assert registry.error_count == 8


def test_a_hook_whose_names_clash_with_the_wrappers_own_still_gets_every_call(
    registry: Events,
) -> None:
    received: list[dict[str, Any]] = []
    hook = registry.add_hook("clashing", "_listener", "value")
    hook.add_listener(lambda **kwargs: received.append(kwargs))
    registry.start_profiling(sample_every=5)
    hook.fire(_listener="mine", value=1)
    assert received == [{"_listener": "mine", "value": 1}]
