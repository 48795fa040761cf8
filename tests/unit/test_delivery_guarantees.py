"""Spawned listeners lose nothing and hang nobody, whatever fails around them.

Every call a pool takes ends exactly once (completed, failed or dropped), and the stats say
where it is meanwhile. Scenarios that hang when this breaks run in a child process with a
time limit, so that a regression fails the suite instead of hanging it.
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import subprocess
import sys
import textwrap
import time
import weakref
from collections.abc import Iterator
from typing import Any

import gevent
import gevent.event
import gevent.pool
import pytest

from locust_events import EventHook, Events, ListenerPool, PoolStats, UsageMonitor
from locust_events._errors import describe_listener

#: Seconds a child scenario may take; each is bounded by counts well within it.
CHILD_TIME_LIMIT = 60


def assert_every_call_accounted_for(stats: PoolStats, *, handed_over: int) -> None:
    """Each of the ``handed_over`` calls the test gave the pool has ended or is still held.

    ``handed_over`` is the test's own count: the pool derives ``submitted`` from the same
    counters, so comparing them with each other could never fail.
    """
    ended = stats.completed + stats.failed + stats.dropped
    assert ended + stats.pending + stats.running == handed_over, stats
    assert stats.submitted == handed_over, stats


def run_in_child(scenario: str) -> dict[str, Any]:
    """Run ``scenario`` (Python source printing one JSON line last) in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(scenario)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIME_LIMIT,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return outcome


class Gate:
    """A spawned listener that records each call and waits until the gate opens."""

    def __init__(self) -> None:
        self.opened = gevent.event.Event()
        self.started: list[int] = []
        self.delivered: list[int] = []

    def __call__(self, n: int, **kwargs: Any) -> None:
        self.started.append(n)
        self.opened.wait()
        self.delivered.append(n)


def settle(times: int = 5) -> None:
    """Let every ready greenlet run: a fixed number of hub turns, no wall-clock bound."""
    for _ in range(times):
        gevent.sleep(0)


# Every call ends exactly once, and the stats say where.


def test_a_firer_killed_while_waiting_for_room_still_has_its_call_delivered(
    hook: EventHook,
) -> None:
    pool = ListenerPool(size=1, maxsize=2, on_full="block")
    gate = Gate()
    hook.add_listener(gate, spawn=pool)
    firers = [gevent.spawn(hook.fire, n=n) for n in range(6)]
    settle()
    stats = pool.stats
    # One running, two queued, three firers waiting for room: all six pending or running.
    assert (stats.submitted, stats.running, stats.pending) == (6, 1, 5)
    assert_every_call_accounted_for(stats, handed_over=len(firers))
    gevent.killall(firers[3:], block=True)  # Locust stopping its users
    assert_every_call_accounted_for(pool.stats, handed_over=len(firers))
    assert pool.stats.pending == 5
    gate.opened.set()
    assert pool.join(timeout=10)
    assert sorted(gate.delivered) == list(range(6))
    stats = pool.stats
    assert (stats.submitted, stats.completed, stats.dropped) == (6, 6, 0)
    assert stats.high_water <= 2


def test_every_dropped_call_is_reported_in_the_log_with_the_count(
    hook: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    import re

    pool = ListenerPool(size=1, maxsize=1, on_full="drop")
    hook.add_listener(Gate(), spawn=pool)
    fired = 6
    hook.fire(n=0)
    settle()  # the worker runs it (and waits at the gate)
    for n in range(1, fired):
        hook.fire(n=n)  # the first is queued, the four others find the queue full
    pool.close(0)  # discards the queued one (logged as discarded) and stops the worker
    counts = [int(n) for n in re.findall(r"dropped (\d+) call\(s\)", caplog.text)]
    assert sum(counts) == 4
    assert "1 call(s) discarded" in caplog.text
    assert pool.stats.dropped == 5
    assert_every_call_accounted_for(pool.stats, handed_over=fired)


def test_close_answers_every_waiter_and_leaves_nothing_pending() -> None:
    outcome = run_in_child(
        """
        import json, gevent, gevent.event
        from locust_events import EventHook, ListenerPool, PoolClosed
        hook, pool, stuck = EventHook("h"), ListenerPool(size=1, maxsize=2), gevent.event.Event()
        hook.add_listener(lambda **kw: stuck.wait(), spawn=pool)
        answers = []
        def fire(n):
            try:
                hook.fire(n=n)
                answers.append("accepted")
            except PoolClosed:
                answers.append("PoolClosed")
        firers = [gevent.spawn(fire, n) for n in range(8)]
        for _ in range(5):
            gevent.sleep(0)
        delivered = pool.close(0.1)
        gevent.joinall(firers, timeout=10)
        stats = pool.stats
        print(json.dumps({
            "delivered": delivered, "answers": sorted(answers),
            "all_answered": all(f.dead for f in firers),
            "submitted": stats.submitted, "pending": stats.pending, "running": stats.running,
            "dropped": stats.dropped, "failed": stats.failed, "completed": stats.completed,
        }))
        """
    )
    assert outcome["all_answered"]
    assert outcome["delivered"] is False
    # Three firers got in (one running, two queued); the five waiting for room are told.
    assert outcome["answers"] == ["PoolClosed"] * 5 + ["accepted"] * 3
    assert outcome["pending"] == outcome["running"] == 0
    assert outcome["submitted"] == 8
    assert outcome["dropped"] + outcome["failed"] + outcome["completed"] == 8


def test_a_pool_made_in_a_helper_thread_serves_fires_from_the_main_thread() -> None:
    outcome = run_in_child(
        """
        import json, threading
        from locust_events import Events
        events, delivered = Events(), []
        thread = threading.Thread(
            target=lambda: events.test_stop.add_listener(
                lambda **kw: delivered.append(1), spawn=True
            )
        )
        thread.start()
        thread.join()
        for _ in range(5):
            events.test_stop.fire(environment=None)
        joined = events.join(3)
        print(json.dumps({"joined": joined, "delivered": len(delivered)}))
        """
    )
    assert outcome == {"joined": True, "delivered": 5}


def test_a_fire_from_another_thread_reaches_the_home_hub_through_the_pool_in_order() -> None:
    """A thread's fires wait in the pool for the home hub to take them, which one thread-safe
    signal tells it of; the thread schedules nothing on the hub's loop itself (that raced the
    loop's own bookkeeping, and could end a sleep in the home thread with ``LoopExit``)."""
    outcome = run_in_child(
        """
        import json, threading
        from locust_events import EventHook, ListenerPool
        from locust_events._pool import queue_of
        hook, pool, got = EventHook("h"), ListenerPool(size=1, maxsize=10), []
        hook.add_listener(lambda n: got.append(n), spawn=pool)
        hook.fire(n=0)
        assert pool.join(5)  # the workers run in this thread
        thread = threading.Thread(target=lambda: [hook.fire(n=n) for n in (1, 2, 3)])
        thread.start()
        thread.join()  # the hub does not run meanwhile: nothing here yields to it
        waiting = queue_of(pool).handover.inbox.waiting()
        print(json.dumps({"waiting": waiting, "joined": pool.join(5), "got": got}))
        """
    )
    assert outcome == {"waiting": 3, "joined": True, "got": [0, 1, 2, 3]}


def test_calls_handed_to_a_home_thread_that_ended_before_taking_them_run_in_the_new_home() -> None:
    """A thread's fires wait for the home hub to take them; if the home thread ends first,
    the thread that takes the pool over takes them, with what the old home left queued."""
    outcome = run_in_child(
        """
        import json, threading
        from locust_events import EventHook, ListenerPool
        from locust_events._pool import queue_of
        hook, got = EventHook("h"), []
        made, handed_over = threading.Event(), threading.Event()
        def home():  # never yields to its hub: it runs none of the calls
            global pool
            pool = ListenerPool(size=1, maxsize=10)  # its home: this thread
            hook.add_listener(lambda n: got.append(n), spawn=pool)
            hook.fire(n=0)
            made.set()
            handed_over.wait(30)
        thread = threading.Thread(target=home)
        thread.start()
        made.wait(30)
        firer = threading.Thread(target=lambda: [hook.fire(n=n) for n in (1, 2)])
        firer.start()
        firer.join()
        waiting = queue_of(pool).handover.inbox.waiting()
        handed_over.set()
        thread.join()
        print(json.dumps({"waiting": waiting, "joined": pool.join(5), "got": sorted(got)}))
        """
    )
    assert outcome == {"waiting": 2, "joined": True, "got": [0, 1, 2]}


def test_join_returns_by_its_deadline_while_calls_are_on_their_way_from_a_thread() -> None:
    outcome = run_in_child(
        """
        import json, threading
        from locust_events import EventHook, ListenerPool
        from locust_events._pool import queue_of
        hook, pool = EventHook("h"), ListenerPool(size=1, maxsize=10)
        hook.add_listener(lambda **kw: None, spawn=pool)
        # The pool's home thread ends with a call handed over that it never took.
        def home():
            global pool_of_thread
            pool_of_thread = ListenerPool(size=1, maxsize=10)
        thread = threading.Thread(target=home)
        thread.start()
        thread.join()
        queue_of(pool_of_thread).handover.in_transit += 1  # on its way, and no hub takes it
        print(json.dumps({"joined": pool_of_thread.join(0.2), "own": pool.join(0.2)}))
        """
    )
    assert outcome == {"joined": False, "own": True}


def test_drain_returns_after_the_call_running_at_its_deadline_not_after_the_queue(
    registry: Events,
) -> None:
    started: list[int] = []

    def blocks_the_hub(n: int, **kwargs: Any) -> None:
        started.append(n)
        time.sleep(0.3)  # not cooperative: nothing else runs meanwhile

    registry.add_hook("export", "n").add_listener(blocks_the_hub, spawn=True)
    for n in range(4):
        registry.hooks["export"].fire(n=n)
    assert registry.drain(0.1) is False
    # Workers look at the deadline between calls: only the call running at it delays drain.
    assert started == [0]
    assert registry.join(10)
    assert sorted(started) == [0, 1, 2, 3]


@pytest.mark.parametrize("on_full", ["block", "drop"])
def test_a_thread_firing_into_a_stuck_pool_stays_within_the_bound(on_full: str) -> None:
    outcome = run_in_child(
        f"""
        import json, threading, gevent, gevent.event
        from locust_events import EventHook, ListenerPool, PoolClosed
        hook, stuck = EventHook("h"), gevent.event.Event()
        pool = ListenerPool(size=1, maxsize=10, on_full={on_full!r})
        hook.add_listener(lambda **kw: stuck.wait(), spawn=pool)
        fired, refused = [0], []
        def from_thread():
            try:
                for n in range(2000):
                    hook.fire(n=n)
                    fired[0] += 1
            except PoolClosed:
                refused.append(True)
        thread = threading.Thread(target=from_thread)
        thread.start()
        for _ in range(2000):  # the hub takes what the thread hands over
            gevent.sleep(0.001)
            if not thread.is_alive():
                break
        alive, stats = thread.is_alive(), pool.stats
        pool.close(0)
        thread.join(10)
        print(json.dumps({{
            "alive_while_full": alive, "refused_at_close": refused, "fired": fired[0],
            "submitted": stats.submitted, "pending": stats.pending, "running": stats.running,
            "dropped": stats.dropped, "completed": stats.completed, "failed": stats.failed,
            "high_water": stats.high_water, "thread_ended": not thread.is_alive(),
        }}))
        """
    )
    assert outcome["high_water"] <= 10
    ended = outcome["completed"] + outcome["failed"] + outcome["dropped"]
    assert outcome["submitted"] == ended + outcome["pending"] + outcome["running"]
    assert outcome["thread_ended"]
    if on_full == "block":
        # One running, ten queued, ten more on their way, one thread waiting: then it waits.
        assert outcome["alive_while_full"]
        assert outcome["pending"] + outcome["running"] <= 2 * 10 + 2
        assert outcome["refused_at_close"] == [True]
    else:
        assert outcome["fired"] == outcome["submitted"] == 2000
        assert outcome["pending"] + outcome["running"] <= 2 * 10 + 1
        assert outcome["dropped"] >= 2000 - 2 * 10 - 1


def test_a_forked_child_starts_with_empty_pools() -> None:
    outcome = run_in_child(
        """
        import json, os, gevent, gevent.event
        from locust_events import EventHook, ListenerPool
        hook, pool, gate = EventHook("h"), ListenerPool(size=1, maxsize=100), gevent.event.Event()
        delivered = []
        def deliver(n, **kw):
            gate.wait()
            delivered.append(n)
        hook.add_listener(deliver, spawn=pool)
        for n in range(10):
            hook.fire(n=n)
        gevent.sleep(0)  # call 0 is running, 1-9 are queued
        read, write = os.pipe()
        pid = gevent.fork()
        if pid == 0:
            gate.set()
            pool.join(1)
            hook.fire(n=100)  # the child's own calls are delivered by the child
            joined = pool.join(5)
            stats = pool.stats
            report = [delivered, joined, stats.submitted, stats.completed]
            os.write(write, json.dumps(report).encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        child_delivered, joined, submitted, completed = json.loads(os.read(read, 65536))
        gate.set()
        pool.join(5)
        print(json.dumps({"parent": sorted(delivered), "child": sorted(child_delivered),
                          "child_stats": [joined, submitted, completed]}))
        """
    )
    assert outcome["parent"] == list(range(10))
    # The child may finish the call it was running at fork; it never runs the queued ones.
    assert set(outcome["child"]) <= {0, 100}
    assert 100 in outcome["child"]
    assert outcome["child_stats"] == [True, 1, 1]  # the child counts its own call only


# Recording an error is never itself the failure.


class RaisingHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        raise OSError("the log disk is full")


@pytest.fixture
def raising_log_handler() -> Iterator[None]:
    logger = logging.getLogger("locust_events")
    handler = RaisingHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


@pytest.mark.usefixtures("raising_log_handler")
def test_a_logging_handler_that_raises_does_not_stop_a_spawned_listener_pool(
    registry: Events,
) -> None:
    delivered: list[int] = []

    def fails_first(n: int, **kwargs: Any) -> None:
        if n == 0:
            raise ValueError("webhook refused")
        delivered.append(n)

    hook = registry.add_hook("export", "n")
    hook.add_listener(fails_first, spawn=True)
    for n in range(3):
        hook.fire(n=n)
    assert registry.join(5)
    assert delivered == [1, 2]
    stats = registry.pool.stats
    assert (stats.failed, stats.completed) == (1, 2)
    assert registry.error_count == 1


@pytest.mark.usefixtures("raising_log_handler")
def test_a_logging_handler_that_raises_does_not_break_a_fire(hook: EventHook) -> None:
    later: list[int] = []

    def fails(**kwargs: Any) -> None:
        raise ValueError("boom")

    hook.add_listener(fails)
    hook.add_listener(lambda **kwargs: later.append(1))
    hook.fire()
    assert later == [1]
    assert hook.error_count == 1


class Unnameable:
    """A listener whose every attribute look-up raises, and which raises when called."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name} here")

    def __call__(self, **kwargs: Any) -> None:
        raise ValueError("and it fails")


def test_a_listener_that_cannot_be_named_is_still_logged_and_skipped(
    hook: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    later: list[int] = []
    hook.add_listener(Unnameable())
    hook.add_listener(lambda **kwargs: later.append(1))
    hook.fire()
    assert later == [1]
    assert hook.error_count == 1
    assert "Unnameable object at" in caplog.text
    assert "Unnameable object at" in describe_listener(Unnameable())


def test_remove_listener_finds_the_very_object_before_comparing(hook: EventHook) -> None:
    class BrokenEquality:
        def __eq__(self, other: object) -> bool:
            raise RuntimeError("cannot compare")

        __hash__ = object.__hash__

        def __call__(self, **kwargs: Any) -> None:
            pass

    def b(**kwargs: Any) -> None:
        pass

    a = BrokenEquality()
    hook.add_listener(a)
    hook.add_listener(b)
    hook.remove_listener(b)
    assert hook.listeners == (a,)
    with pytest.raises(ValueError, match="not registered"):
        hook.remove_listener(b)


def test_a_listener_failing_on_every_fire_logs_its_first_error_then_a_count(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: Any) -> None:
        raise KeyError("missing")

    registry.error_log_interval = 3600
    registry.reset_stats.add_listener(broken)
    for _ in range(1000):
        registry.reset_stats.fire()
    records = [r for r in caplog.records if r.name == "locust_events"]
    assert len(records) == 1
    assert records[0].exc_info is not None  # the first error comes with its traceback
    assert registry.error_count == 1000
    registry.error_log_interval = 0
    registry.reset_stats.fire()
    records = [r for r in caplog.records if r.name == "locust_events"]
    assert len(records) == 2
    assert "1000 more time(s)" in records[1].getMessage()
    assert records[1].exc_info is None
    assert registry.error_count == 1001


def test_strict_mode_still_raises_every_error(registry: Events) -> None:
    def broken(**kwargs: Any) -> None:
        raise KeyError("missing")

    registry.strict = True
    registry.reset_stats.add_listener(broken)
    for _ in range(3):
        with pytest.raises(KeyError):
            registry.reset_stats.fire()
    assert registry.error_count == 3


def test_a_sampler_that_raises_once_is_logged_counted_and_sampling_goes_on(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    samples = iter([RuntimeError("psutil hiccup")])

    def sampler() -> tuple[float, int]:
        failure = next(samples, None)
        if failure is not None:
            raise failure
        return 10.0, 1024

    fired: list[float] = []
    registry.usage_monitor.add_listener(lambda cpu_usage, **kwargs: fired.append(cpu_usage))
    monitor = UsageMonitor(registry, interval=0.001, sampler=sampler)
    monitor.start()
    for _ in range(5000):  # bounded by samples, not by time
        if len(fired) >= 2:
            break
        gevent.sleep(0.001)
    monitor.stop()
    assert len(fired) >= 2
    assert monitor.error_count == 1
    assert "psutil hiccup" in caplog.text


# Listeners that would silently never run.


async def async_listener(**kwargs: Any) -> None:
    pass


def generator_listener(**kwargs: Any) -> Iterator[None]:
    yield


class AsyncCallable:
    async def __call__(self, **kwargs: Any) -> None:
        pass


@pytest.mark.parametrize("spawn", [False, True], ids=["sync", "spawned"])
@pytest.mark.parametrize(
    "listener",
    [
        async_listener,
        generator_listener,
        functools.partial(async_listener),
        functools.partial(generator_listener),
        AsyncCallable(),
    ],
    ids=["async-def", "generator", "partial-of-async", "partial-of-generator", "async-call"],
)
def test_listeners_that_would_never_run_are_refused(
    registry: Events, listener: Any, spawn: bool
) -> None:
    with pytest.raises(TypeError) as refused:
        registry.test_stop.add_listener(listener, spawn=spawn)
    message = str(refused.value)
    assert "'test_stop'" in message
    assert "plain 'def'" in message
    assert "spawn=True" in message
    assert registry.test_stop.listeners == ()


# Bad input: an error naming the pool or hook, the parameter and the fix.


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"size": 1.5}, "size"),
        ({"size": "3"}, "size"),
        ({"size": True}, "size"),
        ({"maxsize": 2.5}, "maxsize"),
        ({"maxsize": None}, "maxsize"),
    ],
)
def test_pool_sizes_must_be_integers(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(TypeError, match=rf"'exports': {parameter} must be an int, not"):
        ListenerPool(name="exports", **options)


@pytest.mark.parametrize(
    "hook_name", ["spawning_complete", "cpu_warning", "usage_monitor", "quitting", "quit"]
)
def test_fire_with_positional_arguments_names_the_hook_and_the_fix(
    registry: Events, hook_name: str
) -> None:
    with pytest.raises(TypeError) as refused:
        registry.hooks[hook_name].fire(300)
    assert str(refused.value) == (
        f"Cannot fire hook {hook_name!r} with 1 positional argument(s): fire() takes "
        "keyword arguments only; pass each one by name, as fire(name=value)"
    )


def test_both_calling_loops_word_the_positional_error_alike() -> None:
    from locust_events import _native

    speedups = pytest.importorskip("locust_events._speedups")
    messages = []
    for core in (_native.HookCore, speedups.HookCore):

        class Hook(core):  # type: ignore[misc, valid-type]
            name = "request"

        with pytest.raises(TypeError) as refused:
            Hook().fire(1, 2)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]
    assert "'request' with 2 positional" in messages[0]


def test_a_listener_whose_signature_raises_is_accepted_and_checked_by_its_fire(
    registry: Events,
) -> None:
    class Odd:
        @property
        def __signature__(self) -> Any:
            raise RuntimeError("cannot tell")

        def __call__(self, **kwargs: Any) -> None:
            self.got = kwargs

    odd = Odd()
    registry.spawning_complete.add_listener(odd)
    registry.spawning_complete.fire(user_count=3)
    assert odd.got == {"user_count": 3}


def test_a_removed_listener_keeps_its_profile_row_but_not_the_listener(registry: Events) -> None:
    class PerUser:
        def __call__(self, **kwargs: Any) -> None:
            pass

    alive: list[weakref.ref[PerUser]] = []
    with registry.profiling() as profiler:
        for _ in range(2000):
            listener = PerUser()
            alive.append(weakref.ref(listener))
            registry.reset_stats.add_listener(listener)
            registry.reset_stats.fire()
            registry.reset_stats.remove_listener(listener)
            del listener
    gc.collect()
    assert sum(ref() is not None for ref in alive) == 0
    rows = [p for p in profiler.profiles if p.hook == "reset_stats"]
    assert len(rows) == 2000
    assert all(row.calls == 1 for row in rows)


# One shutdown path.


def test_shutdown_drains_logs_once_and_is_idempotent(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="locust_events")
    stuck = gevent.event.Event()
    registry.start_profiling()
    registry.reset_stats.add_listener(lambda **kwargs: stuck.wait(), spawn=True)
    for _ in range(3):
        registry.reset_stats.fire()
    assert registry.shutdown(0.05) is False
    assert registry.shutdown(0.05) is False
    undelivered = [r for r in caplog.records if "not delivered" in r.getMessage()]
    profiles = [r for r in caplog.records if "Listener profile" in r.getMessage()]
    assert len(undelivered) == 1
    assert "3 call(s)" in undelivered[0].getMessage()
    assert len(profiles) == 1
    stuck.set()
    assert registry.join(5)


def test_lifecycle_quit_shuts_the_registry_down(registry: Events) -> None:
    from locust_events import Lifecycle

    delivered: list[int] = []
    registry.quit.add_listener(lambda **kwargs: delivered.append(1), spawn=True)
    Lifecycle(registry).quit()
    assert delivered == [1]
    assert registry.shut_down


def test_ten_thousand_greenlets_firing_a_hundred_times_into_a_small_pool_lose_nothing() -> None:
    pool = ListenerPool(size=8, maxsize=100, on_full="block")
    hook = EventHook("request")
    delivered = 0

    def listener(**kwargs: Any) -> None:
        nonlocal delivered
        delivered += 1

    hook.add_listener(listener, spawn=pool)

    def user() -> None:
        for n in range(100):
            hook.fire(n=n)

    users = gevent.pool.Group()
    for _ in range(10_000):
        users.spawn(user)
    users.join(raise_error=True)
    assert pool.join(timeout=300)
    stats = pool.stats
    assert delivered == stats.submitted == stats.completed == 1_000_000
    assert stats.dropped == stats.failed == stats.pending == stats.running == 0
    assert stats.high_water <= 100
