"""Spawned listeners: a bounded pool of worker greenlets runs them, and nothing is lost."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

import gevent
import gevent.event
import gevent.monkey
import gevent.pool
import pytest

from locust_events import (
    EventHook,
    Events,
    ListenerPool,
    PoolClosed,
    PoolFull,
)
from locust_events._pool import default_pool, queue_of


@pytest.fixture
def pool() -> ListenerPool:
    return ListenerPool(size=4, maxsize=100, name="test pool")


class Inbox:
    """A spawned listener that records the greenlet it ran in and what it got."""

    def __init__(self, pause: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.greenlets: set[object] = set()
        self.pause = pause

    def __call__(self, **kwargs: Any) -> None:
        self.greenlets.add(gevent.getcurrent())
        if self.pause:
            gevent.sleep(self.pause)
        self.calls.append(kwargs)


def test_a_spawned_listener_runs_in_a_pool_worker_not_in_the_caller(
    hook: EventHook, pool: ListenerPool
) -> None:
    inbox = Inbox()
    hook.add_listener(inbox, spawn=pool)
    hook.fire(n=1)
    assert inbox.calls == []  # firing only queued the call
    assert pool.join(timeout=5)
    assert inbox.calls == [{"n": 1}]
    assert gevent.getcurrent() not in inbox.greenlets


def test_spawn_true_uses_the_pool_of_the_owning_registry(registry: Events) -> None:
    inbox = Inbox()
    registry.test_stop.add_listener(inbox, spawn=True)
    assert registry.test_stop.pools == frozenset({registry.pool})
    assert registry.pools == frozenset({registry.pool})
    registry.test_stop.fire(environment="env")
    assert registry.join(timeout=5)
    assert inbox.calls == [{"environment": "env"}]


def test_spawn_true_on_a_standalone_hook_uses_the_process_wide_pool(hook: EventHook) -> None:
    hook.add_listener(Inbox(), spawn=True)
    assert hook.pools == frozenset({default_pool()})


def test_spawn_listener_is_the_decorator_form(registry: Events) -> None:
    @registry.quit.spawn_listener
    def on_quit(exit_code: int) -> None:
        pass

    assert registry.quit.listeners == (on_quit,)
    assert registry.quit.pools == frozenset({registry.pool})


def test_a_bad_spawn_argument_is_a_type_error(hook: EventHook) -> None:
    with pytest.raises(TypeError, match="spawn must be"):
        hook.add_listener(Inbox(), spawn="yes")  # type: ignore[arg-type]


def test_spawned_listeners_are_signature_checked_like_synchronous_ones(registry: Events) -> None:
    def positional_only(client_id: str, /) -> None:
        pass

    with pytest.raises(TypeError, match="'worker_connect'"):
        registry.worker_connect.add_listener(positional_only, spawn=True)


def test_synchronous_and_spawned_listeners_share_a_hook_in_order(
    hook: EventHook, pool: ListenerPool
) -> None:
    log: list[str] = []
    hook.add_listener(lambda **kwargs: log.append("sync 1"))
    hook.add_listener(lambda **kwargs: log.append("spawned"), spawn=pool)
    hook.add_listener(lambda **kwargs: log.append("sync 2"))
    hook.fire()
    assert log == ["sync 1", "sync 2"]
    pool.join(timeout=5)
    assert log == ["sync 1", "sync 2", "spawned"]


def test_a_spawned_listener_is_removed_like_any_other(hook: EventHook, pool: ListenerPool) -> None:
    inbox = Inbox()
    hook.add_listener(inbox, spawn=pool)
    assert hook.listeners == (inbox,)
    hook.remove_listener(inbox)
    hook.fire()
    pool.join(timeout=5)
    assert inbox.calls == []
    assert len(hook) == 0


def test_each_spawned_call_gets_its_own_copy_of_the_kwargs_as_at_fire_time(
    hook: EventHook, pool: ListenerPool
) -> None:
    seen: list[dict[str, Any]] = []

    def mutating(**kwargs: Any) -> None:
        kwargs["name"] = "changed by the first"
        seen.append(dict(kwargs))

    hook.add_listener(mutating, spawn=pool)
    hook.add_listener(lambda **kwargs: seen.append(dict(kwargs)), spawn=pool)
    payload = {"name": "original"}
    hook.fire(**payload)
    payload["name"] = "changed by the caller"
    pool.join(timeout=5)
    assert sorted(call["name"] for call in seen) == ["changed by the first", "original"]


def test_workers_start_on_first_use_and_no_greenlet_is_made_per_event(
    hook: EventHook, pool: ListenerPool
) -> None:
    inbox = Inbox()
    hook.add_listener(inbox, spawn=pool)
    assert pool._workers == []
    for n in range(500):
        hook.fire(n=n)
    pool.join(timeout=10)
    assert len(inbox.calls) == 500
    assert len(inbox.greenlets) <= pool.size
    assert inbox.greenlets <= set(pool._workers)


def test_five_thousand_greenlets_firing_a_hundred_events_each_deliver_every_one() -> None:
    pool = ListenerPool(size=8, maxsize=1_000)
    hook = EventHook("request")
    delivered = 0

    def yielding_listener(**kwargs: Any) -> None:
        nonlocal delivered
        gevent.sleep(0)
        delivered += 1

    hook.add_listener(yielding_listener, spawn=pool)

    def user() -> None:
        for n in range(100):
            hook.fire(n=n)

    users = gevent.pool.Group()
    for _ in range(5_000):
        users.spawn(user)
    users.join(raise_error=True)
    assert pool.join(timeout=120)
    stats = pool.stats
    assert delivered == 500_000
    assert stats.submitted == stats.completed == 500_000
    assert stats.dropped == stats.failed == stats.pending == stats.running == 0
    assert 0 < stats.high_water <= pool.maxsize


def test_on_full_block_makes_the_firing_greenlet_wait_and_loses_nothing(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=2, on_full="block")
    release = gevent.event.Event()
    inbox = Inbox()

    def gated(**kwargs: Any) -> None:
        release.wait()
        inbox(**kwargs)

    hook.add_listener(gated, spawn=pool)
    firing = gevent.spawn(lambda: [hook.fire(n=n) for n in range(5)])
    gevent.sleep(0.05)
    assert not firing.dead  # blocked: one call running, two queued, the fourth waits
    assert pool.stats.pending == 3  # the waiting call is pending too
    release.set()
    firing.join(timeout=5)
    assert pool.join(timeout=5)
    assert [call["n"] for call in inbox.calls] == [0, 1, 2, 3, 4]
    assert pool.stats.high_water == 2


def test_on_full_drop_counts_the_dropped_calls_and_warns_once(
    hook: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    pool = ListenerPool(size=1, maxsize=2, on_full="drop")
    hook.add_listener(Inbox(pause=0.01), spawn=pool)
    for n in range(10):
        hook.fire(n=n)
    assert pool.join(timeout=5)
    stats = pool.stats
    assert stats.completed == 2  # the queue held two; the worker had not started yet
    assert stats.dropped == 8
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "dropped 1 call(s)" in warnings[0].getMessage()
    assert "maxsize" in warnings[0].getMessage()


def test_on_full_raise_gives_the_caller_pool_full(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=1, on_full="raise")
    after = Inbox()
    hook.add_listener(Inbox(), spawn=pool)
    hook.add_listener(after)
    hook.fire(n=0)
    with pytest.raises(PoolFull, match=r"holds 1 pending calls.*maxsize"):
        hook.fire(n=1)
    assert hook.error_count == 0
    assert len(after.calls) == 1
    pool.join(timeout=5)


def test_a_spawned_listener_error_is_logged_counted_and_keeps_its_worker(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    pool = ListenerPool(size=1)
    outcomes: list[int] = []

    def sometimes_broken(n: int) -> None:
        if n % 2:
            raise RuntimeError(f"bug {n}")
        outcomes.append(n)

    registry.add_hook("tick", "n").add_listener(sometimes_broken, spawn=pool)
    for n in range(6):
        registry.tick.fire(n=n)  # type: ignore[attr-defined]
    pool.join(timeout=5)
    [worker] = pool._workers
    assert outcomes == [0, 2, 4]
    assert pool.stats.failed == 3
    assert pool.stats.completed == 3
    assert registry.error_count == 3
    assert registry.tick.error_count == 3  # type: ignore[attr-defined]
    assert "sometimes_broken" in caplog.text
    assert "raise RuntimeError" in caplog.text  # the traceback
    assert not worker.dead


def test_strict_mode_cannot_raise_to_anyone_from_a_worker_so_it_records(registry: Events) -> None:
    registry.strict = True
    registry.reset_stats.add_listener(lambda: 1 / 0, spawn=True)
    registry.reset_stats.fire()
    registry.join(timeout=5)
    assert registry.error_count == 1


def test_a_worker_killed_mid_call_is_replaced_and_its_call_counted_failed(
    hook: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    pool = ListenerPool(size=2)
    started = gevent.event.Event()
    inbox = Inbox()

    def hangs_first(n: int) -> None:
        if n == 0:
            started.set()
            gevent.sleep(60)
        inbox(n=n)

    hook.add_listener(hangs_first, spawn=pool)
    hook.fire(n=0)
    started.wait(timeout=5)
    [victim] = queue_of(pool).running
    victim.kill()
    gevent.sleep(0)
    assert not queue_of(pool).running
    for n in range(1, 5):
        hook.fire(n=n)
    assert pool.join(timeout=5)
    assert [call["n"] for call in inbox.calls] == [1, 2, 3, 4]
    assert pool.stats.failed == 1
    assert pool.stats.completed == 4
    assert "counted as failed" in caplog.text


def test_join_returns_false_when_the_timeout_passes_first(
    hook: EventHook, pool: ListenerPool
) -> None:
    hook.add_listener(Inbox(pause=0.3), spawn=pool)
    hook.fire()
    assert pool.join(timeout=0.01) is False
    assert pool.stats.running == 1
    assert pool.join(timeout=5) is True


def test_join_returns_by_its_deadline_while_a_worker_runs_a_burst_that_never_yields(
    hook: EventHook,
) -> None:
    """Between two calls, the round lets a join whose deadline passed return, though none of
    the calls yields; a join without a timeout waits for them all."""
    pool = ListenerPool(size=1, maxsize=1_000)
    real_sleep = gevent.monkey.get_original("time", "sleep")
    hook.add_listener(lambda **kwargs: real_sleep(0.001), spawn=pool)  # blocks, never yields
    for _ in range(1_000):
        hook.fire()
    assert pool.join(timeout=0.05) is False
    assert pool.stats.completed < 1_000
    assert pool.join() is True
    assert pool.stats.completed == 1_000


def test_join_of_an_unused_pool_returns_at_once(pool: ListenerPool) -> None:
    assert pool.join(timeout=0) is True


def test_close_drains_then_rejects_new_calls_clearly(hook: EventHook, pool: ListenerPool) -> None:
    inbox = Inbox(pause=0.01)
    hook.add_listener(inbox, spawn=pool)
    for n in range(10):
        hook.fire(n=n)
    assert pool.close(timeout=5) is True
    assert len(inbox.calls) == 10
    assert pool.closed
    assert pool._workers == []
    with pytest.raises(PoolClosed, match=r"'test pool' is closed"):
        hook.fire(n=11)


def test_close_with_a_short_timeout_counts_what_it_discards(
    hook: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    pool = ListenerPool(size=1, maxsize=50)
    hook.add_listener(Inbox(pause=0.05), spawn=pool)
    for n in range(20):
        hook.fire(n=n)
    assert pool.close(timeout=0.01) is False
    stats = pool.stats
    assert stats.dropped >= 18
    assert stats.completed + stats.failed + stats.dropped == 20
    assert "discarded" in caplog.text


def test_stats_show_pending_running_and_the_oldest_wait(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=10)
    release = gevent.event.Event()
    hook.add_listener(lambda **kwargs: release.wait(), spawn=pool)
    for _ in range(4):
        hook.fire()
    gevent.sleep(0.05)
    stats = pool.stats
    assert (stats.submitted, stats.running, stats.pending) == (4, 1, 3)
    assert stats.undelivered == 4
    assert stats.oldest_pending_age >= 0.04
    release.set()
    pool.join(timeout=5)
    assert pool.stats.completed == 4
    assert pool.stats.oldest_pending_age == 0.0


def test_firing_from_the_hub_with_a_full_queue_does_not_deadlock(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=1, on_full="block")
    inbox = Inbox(pause=0.01)
    hook.add_listener(inbox, spawn=pool)
    hub = gevent.get_hub()
    for n in range(5):
        hub.loop.run_callback(functools.partial(hook.fire, n=n))
    gevent.sleep(0.001)
    assert pool.join(timeout=5)
    assert sorted(call["n"] for call in inbox.calls) == [0, 1, 2, 3, 4]
    assert pool.stats.high_water <= 1


def test_firing_from_a_plain_thread_hands_the_calls_to_the_pool_hub(hook: EventHook) -> None:
    pool = ListenerPool(size=2, maxsize=5)
    inbox = Inbox()
    hook.add_listener(inbox, spawn=pool)
    thread_had_a_hub: list[object] = []

    def from_thread() -> None:
        for n in range(50):
            hook.fire(n=n)
        from gevent._hub_local import get_hub_if_exists

        thread_had_a_hub.append(get_hub_if_exists())

    thread = threading.Thread(target=from_thread)
    thread.start()
    # The thread waits for room while the pool is full: the hub must run meanwhile.
    for _ in range(10_000):
        if not thread.is_alive():
            break
        gevent.sleep(0.001)
    thread.join(timeout=10)
    assert pool.join(timeout=10)
    assert sorted(call["n"] for call in inbox.calls) == list(range(50))
    assert thread_had_a_hub == [None]  # no hub was made in the thread
    assert pool.stats.high_water <= 5
    assert inbox.greenlets <= set(pool._workers)


def test_raise_policy_from_a_thread_raises_in_that_thread_when_full(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=1, on_full="raise")
    hook.add_listener(Inbox(), spawn=pool)
    hook.fire(n=0)  # fills the queue: the worker has not run yet
    raised: list[BaseException] = []

    def from_thread() -> None:
        try:
            hook.fire(n=1)
        except PoolFull as error:
            raised.append(error)

    thread = threading.Thread(target=from_thread)
    thread.start()
    thread.join(timeout=10)
    assert len(raised) == 1
    assert pool.join(timeout=5)


def test_events_join_waits_for_every_pool_of_the_registry(registry: Events) -> None:
    other = ListenerPool(size=1, name="other")
    first, second = Inbox(pause=0.02), Inbox(pause=0.02)
    registry.test_stop.add_listener(first, spawn=True)
    registry.test_stop.add_listener(second, spawn=other)
    assert registry.pools == frozenset({registry.pool, other})
    registry.test_stop.fire(environment=None)
    assert registry.join(timeout=0) is False
    assert registry.join(timeout=5) is True
    assert len(first.calls) == len(second.calls) == 1


def test_drain_logs_one_line_of_what_is_undelivered(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    release = gevent.event.Event()

    def held(**kwargs: Any) -> None:
        release.wait()

    registry.test_stop.add_listener(held, spawn=True)
    registry.test_stop.fire(environment=None)
    registry.test_stop.fire(environment=None)
    for _ in range(10_000):  # until both calls run, however slow the machine
        if registry.pool.stats.running == 2:
            break
        gevent.sleep(0)
    assert registry.drain(timeout=0.01) is False
    [line] = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert "after 0.01 s" in line
    assert "Events listener pool: 0 pending, 2 running" in line
    release.set()
    assert registry.drain(timeout=30) is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": 0}, "size must be at least 1"),
        ({"maxsize": 0}, "maxsize must be at least 1"),
        ({"on_full": "wait"}, "on_full must be"),
    ],
)
def test_bad_pool_options_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ListenerPool(**options)


def test_a_pool_records_a_failure_through_the_hooks_public_record_failure(
    pool: ListenerPool,
) -> None:
    """The pool reports a listener's error through ``record_failure``, which a hook subclass
    may override: no private hook method is involved."""

    failures: list[tuple[object, str]] = []

    class RecordingHook(EventHook):
        def record_failure(self, listener: Any, error: Exception) -> None:
            failures.append((listener, str(error)))

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("listener broke")

    hook = RecordingHook("recording hook")
    hook.add_listener(broken, spawn=pool)
    hook.fire()
    assert pool.join(timeout=5)
    assert failures == [(broken, "listener broke")]
    assert pool.stats.failed == 1


def test_a_worker_takes_every_queued_call_per_wake_up(hook: EventHook) -> None:
    """A burst of fires costs the worker one wake-up, not a greenlet switch per call."""
    import greenlet

    pool = ListenerPool(size=1, maxsize=1_000, name="one worker")
    ran: list[int] = []
    hook.add_listener(lambda n: ran.append(n), spawn=pool)
    hook.fire(n=-1)
    assert pool.join(timeout=5)  # the worker started and sleeps on the empty queue
    (worker,) = pool._workers
    switches_into_the_worker = 0

    def count(event: str, args: tuple[Any, Any]) -> None:
        nonlocal switches_into_the_worker
        if event in ("switch", "throw") and args[1] is worker:
            switches_into_the_worker += 1

    previous = greenlet.settrace(count)
    try:
        for n in range(1_000):
            hook.fire(n=n)
        assert pool.join(timeout=5)
    finally:
        greenlet.settrace(previous)
    assert ran == [-1, *range(1_000)]
    assert switches_into_the_worker == 1


def test_a_burst_of_fires_wakes_each_sleeping_worker_once(hook: EventHook) -> None:
    import greenlet

    pool = ListenerPool(size=3, maxsize=1_000, name="three workers")
    hook.add_listener(lambda n: None, spawn=pool)
    hook.fire(n=0)
    assert pool.join(timeout=5)
    workers = set(pool._workers)
    switches: list[object] = []

    def count(event: str, args: tuple[Any, Any]) -> None:
        if event in ("switch", "throw") and args[1] in workers:
            switches.append(args[1])

    previous = greenlet.settrace(count)
    try:
        for n in range(500):
            hook.fire(n=n)
        assert pool.join(timeout=5)
    finally:
        greenlet.settrace(previous)
    assert sorted(map(id, switches)) == sorted(map(id, workers))
    assert pool.stats.completed == 501


real_sleep = gevent.monkey.get_original("time", "sleep")


def test_a_thread_backed_pool_runs_listeners_in_threads_and_close_waits_for_them(
    hook: EventHook,
) -> None:
    pool = ListenerPool(size=2, threads=True, name="thread pool")
    ran: list[tuple[int, int]] = []

    def blocking(n: int) -> None:
        real_sleep(0.01)  # a real, unpatched blocking call
        ran.append((n, threading.get_ident()))

    hook.add_listener(blocking, spawn=pool)
    for n in range(6):
        hook.fire(n=n)
    assert pool.close(timeout=60)
    assert sorted(n for n, _ in ran) == list(range(6))
    assert threading.get_ident() not in {thread for _, thread in ran}
    stats = pool.stats
    assert (stats.submitted, stats.completed, stats.pending, stats.running) == (6, 6, 0, 0)


def test_a_thread_backed_pool_records_a_listener_error_as_a_greenlet_pool_does(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = EventHook("blocking_hook")
    pool = ListenerPool(size=1, threads=True, name="thread pool")

    def broken(n: int) -> None:
        real_sleep(0.001)
        raise RuntimeError(f"write {n} failed")

    hook.add_listener(broken, spawn=pool)
    with caplog.at_level(logging.ERROR, logger="locust_events"):
        hook.fire(n=1)
        hook.fire(n=2)
        assert pool.join(timeout=60)
    assert hook.error_count == 2
    assert "RuntimeError: write 1 failed" in caplog.text
    assert (pool.stats.failed, pool.stats.completed) == (2, 0)


def test_a_thread_backed_pool_keeps_its_bound_and_counts_what_it_drops(hook: EventHook) -> None:
    release = gevent.monkey.get_original("_thread", "allocate_lock")()
    release.acquire()
    pool = ListenerPool(size=1, maxsize=2, on_full="drop", threads=True, name="small pool")
    ran: list[int] = []

    def waits_for_release(n: int) -> None:
        assert release.acquire(timeout=60)  # a real lock: blocks its thread, not the hub
        release.release()
        ran.append(n)

    hook.add_listener(waits_for_release, spawn=pool)
    hook.fire(n=0)
    gevent.sleep(0)  # the worker takes the call and hands it to a thread
    assert pool.stats.running == 1
    for n in range(1, 6):
        hook.fire(n=n)  # two are queued, three dropped
    stats = pool.stats
    assert (stats.submitted, stats.pending, stats.dropped) == (6, 2, 3)
    release.release()
    assert pool.join(timeout=60)
    assert ran == [0, 1, 2]
    assert (pool.stats.completed, pool.stats.dropped) == (3, 3)
    pool.close()


@pytest.mark.parametrize("threads", ["yes", 1, None])
def test_threads_must_be_true_or_false(threads: object) -> None:
    with pytest.raises(TypeError) as refused:
        ListenerPool(threads=threads, name="writer pool")  # type: ignore[arg-type]
    message = str(refused.value)
    assert "'writer pool'" in message
    assert f"threads must be True or False, not {threads!r}" in message
    assert "pass threads=True to run listeners that block" in message


def test_shutdown_waits_for_calls_running_in_a_thread_backed_pool(registry: Events) -> None:
    pool = ListenerPool(size=2, threads=True, name="report writer")
    written: list[int] = []

    def write_report(environment: object, **kwargs: Any) -> None:
        real_sleep(0.01)  # a real, unpatched blocking call
        written.append(threading.get_ident())

    registry.test_stop.add_listener(write_report, spawn=pool)
    for _ in range(4):
        registry.test_stop.fire(environment=None)
    assert pool.stats.pending == 4
    assert registry.shutdown(timeout=60)
    assert len(written) == 4
    assert threading.get_ident() not in written
    stats = pool.stats
    assert (stats.submitted, stats.completed, stats.pending, stats.running) == (4, 4, 0, 0)
