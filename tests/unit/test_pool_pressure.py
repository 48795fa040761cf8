"""Pressure made visible: fires (simulated users) that wait for room in a full pool are
counted, with the time they waited, warned about at most once per interval and told to the
pool's ``on_users_waiting`` watchers. Bounded by counts and events, never by how fast the
machine is."""

from __future__ import annotations

import logging
import threading

import gevent
import gevent.event
import pytest

from locust_events import EventHook, Events, ListenerPool, UsersWaiting
from locust_events._listener_stats import POOL_COLUMNS, aggregate, snapshot
from locust_events._pool_warnings import WARNING_INTERVAL, _RateLimit

#: How many times a test yields at most while waiting for a figure; at once when it works.
_PATIENCE = 5_000


def _until(condition: object) -> None:
    for _ in range(_PATIENCE):
        if condition():  # type: ignore[operator]
            return
        gevent.sleep(0.001)
    raise AssertionError("the condition never held")


def _wait_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "users wait for room" in r.getMessage()]


def _fill(hook: EventHook, pool: ListenerPool, first: int) -> list[gevent.Greenlet]:
    """One call running, one queued (maxsize=1), then three firers waiting for room."""
    hook.fire(n=first)
    _until(lambda: pool.stats.running == 1)
    hook.fire(n=first + 1)
    firers = [gevent.spawn(hook.fire, n=first + 2 + i) for i in range(3)]
    waited_before = pool.stats.waited
    _until(lambda: pool.stats.waited == waited_before + 3)
    return firers


def test_a_listener_slower_than_the_fires_makes_users_wait_counted_and_warned_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    hook, pool = EventHook("request"), ListenerPool(size=1, maxsize=1, name="webhook pool")
    gate = gevent.event.Event()

    def post_to_webhook(**kwargs: object) -> None:
        gate.wait()

    hook.add_listener(post_to_webhook, spawn=pool)
    reports: list[UsersWaiting] = []
    pool.on_users_waiting(reports.append)
    assert (pool.stats.waited, pool.stats.time_waited) == (0, 0.0)

    firers = _fill(hook, pool, 0)
    _until(lambda: len(reports) == 1)
    gate.set()
    gevent.joinall(firers, timeout=30)
    assert pool.join(timeout=30)
    first = pool.stats
    assert (first.waited, first.completed) == (3, 5)
    assert first.time_waited > 0.0

    gate.clear()  # a second round within the interval: the figures grow, the warning waits
    firers = _fill(hook, pool, 10)
    gate.set()
    gevent.joinall(firers, timeout=30)
    assert pool.join(timeout=30)
    second = pool.stats
    assert (second.waited, second.completed) == (6, 10)
    assert second.time_waited > first.time_waited

    warnings = _wait_warnings(caplog)
    assert len(warnings) == 1, warnings
    for part in (
        "webhook pool",
        "post_to_webhook",
        "'request'",
        "size",
        "on_full='drop'",
        "batch listener",
    ):
        assert part in warnings[0], (part, warnings[0])
    assert len(reports) == 1
    assert reports[0].pool == "webhook pool"
    assert reports[0].stats.waited == 1  # told as the first firer began to wait
    assert any("post_to_webhook" in name for name in reports[0].listeners)
    pool.close(timeout=30)


def test_a_watcher_runs_in_a_greenlet_of_its_own_and_may_stop_the_firing_users() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, maxsize=1)
    gate = gevent.event.Event()
    hook.add_listener(lambda **kwargs: gate.wait(), spawn=pool)
    users: list[gevent.Greenlet] = []

    @pool.on_users_waiting
    def stop_the_test(report: UsersWaiting) -> None:
        gevent.killall(users)  # as runner.quit() kills the users

    def user() -> None:
        for n in range(1_000):
            hook.fire(n=n)

    users.extend(gevent.spawn(user) for _ in range(3))
    gevent.joinall(users, timeout=30)
    assert all(u.dead for u in users)
    assert pool.stats.waited >= 1
    gate.set()
    assert pool.close(timeout=30)


def test_a_watcher_that_raises_is_logged_and_the_firers_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, maxsize=1, name="p")
    gate = gevent.event.Event()
    hook.add_listener(lambda **kwargs: gate.wait(), spawn=pool)
    told = gevent.event.Event()

    @pool.on_users_waiting
    def broken(report: UsersWaiting) -> None:
        told.set()
        raise RuntimeError("watcher broke")

    firers = _fill(hook, pool, 0)
    assert told.wait(30)
    gevent.sleep(0)
    gate.set()
    gevent.joinall(firers, timeout=30, raise_error=True)
    assert pool.join(timeout=30)
    assert any("watcher" in r.getMessage() and r.exc_info for r in caplog.records)
    pool.close(timeout=30)


def test_a_thread_waiting_for_room_is_counted_too() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, maxsize=1)
    gate = gevent.event.Event()
    hook.add_listener(lambda **kwargs: gate.wait(), spawn=pool)
    hook.fire(n=0)
    _until(lambda: pool.stats.running == 1)
    hook.fire(n=1)  # the queue is full now
    done = threading.Event()

    def fire_from_a_thread() -> None:
        for n in range(2):  # one on its way to the hub, the next waits for room there
            hook.fire(n=n)
        done.set()

    thread = threading.Thread(target=fire_from_a_thread, daemon=True)
    thread.start()
    _until(lambda: pool.stats.waited == 1)
    gate.set()
    _until(done.is_set)
    thread.join(30)
    assert pool.join(timeout=30)
    stats = pool.stats
    assert (stats.waited, stats.completed) == (1, 4)
    assert stats.time_waited > 0.0
    pool.close(timeout=30)


def test_a_pool_that_never_fills_counts_no_waiting() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=2, maxsize=100)
    hook.add_listener(lambda **kwargs: None, spawn=pool)
    for n in range(50):
        hook.fire(n=n)
    assert pool.join(timeout=30)
    assert (pool.stats.waited, pool.stats.time_waited) == (0, 0.0)
    pool.close(timeout=30)


def test_the_warning_comes_the_first_time_then_once_per_interval_with_the_count_since() -> None:
    limit = _RateLimit()
    assert limit.due(100.0, 1, flush=False) == 1  # the first time, at once
    assert limit.due(100.0 + WARNING_INTERVAL / 2, 1, flush=False) == 0
    assert limit.due(100.0 + WARNING_INTERVAL / 2, 1, flush=False) == 0
    assert limit.due(100.0 + WARNING_INTERVAL, 1, flush=False) == 3
    assert limit.due(100.0 + WARNING_INTERVAL + 1, 0, flush=True) == 0  # nothing unreported


def test_on_users_waiting_refuses_what_it_cannot_call() -> None:
    pool = ListenerPool(name="webhook pool")
    with pytest.raises(TypeError, match=r"'webhook pool'.*on_users_waiting.*function"):
        pool.on_users_waiting("stop")  # type: ignore[arg-type]


def test_the_tab_rows_and_the_quit_summary_show_the_waits_and_the_time_outs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    registry = Events()
    pool = ListenerPool(size=1, maxsize=1, name="webhook pool", timeout=0.05)
    never = gevent.event.Event()
    registry.request.add_listener(lambda **kwargs: never.wait(), spawn=pool)
    users = [gevent.spawn(registry.request.fire, n=n) for n in range(4)]
    gevent.joinall(users, timeout=60)  # one runs, one is queued, two wait: all time out
    assert registry.join(timeout=60)

    stats = pool.stats
    assert 2 <= stats.waited <= 3  # room for one queued: the others wait (the first, perhaps)
    (row,) = snapshot(registry)["pools"]
    assert row["pool"] == "webhook pool"
    assert (row["waited"], row["timed_out"], row["failed"]) == (stats.waited, 4, 4)
    assert row["time_waited"] == round(stats.time_waited, 3)
    (total, *_) = aggregate({"a": {"listeners": [], "pools": [row]}, "b": {"pools": [row]}})[
        "pools"
    ]
    assert (total["waited"], total["timed_out"]) == (2 * stats.waited, 8)
    assert ("waited", "Users waited") in POOL_COLUMNS

    registry.shutdown(timeout=60)
    summary = [r.getMessage() for r in caplog.records if "in all: users waited" in r.getMessage()]
    assert len(summary) == 1, summary
    assert f"webhook pool in all: users waited for room {stats.waited} time(s)" in summary[0]
    assert "4 call(s) timed out" in summary[0]
