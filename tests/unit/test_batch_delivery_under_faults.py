"""Batch listeners keep the delivery guarantees when something goes wrong around a fire.

A firer killed while it waits, a thread firing into a stuck pool, a pool whose home thread
ended, a ``RecursionError`` or ``KeyboardInterrupt`` in the middle of a hand-over, a listener
that empties its batch: each event taken still ends exactly once, as completed, failed or
dropped, and the figures count what was delivered. Scenarios that hang or lose a thread when
this breaks run in a child process (``child_scenarios``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gevent
import gevent.event

from locust_events import EventHook, Events, ListenerPool, PoolStats

from .child_scenarios import outcome_of


def settle(turns: int = 10) -> None:
    """Let every ready greenlet run: a fixed number of hub turns, no wall-clock bound."""
    for _ in range(turns):
        gevent.sleep(0)


def assert_every_event_accounted_for(stats: PoolStats, *, fired: int) -> None:
    """Each of the ``fired`` events the test fired has ended or is still pending or running.

    ``fired`` is the test's own count: the pool derives ``submitted`` from its other
    counters, so comparing those with each other could never fail.
    """
    assert stats.submitted == fired, stats
    ended = stats.completed + stats.failed + stats.dropped
    assert ended + stats.pending + stats.running == fired, stats


def test_a_batch_firer_killed_while_waiting_for_room_still_has_its_event_delivered() -> None:
    hook = EventHook("my_event")
    pool = ListenerPool(size=1, maxsize=4, name="small pool")
    release = gevent.event.Event()
    delivered: list[int] = []

    def slow(batch: list[Mapping[str, Any]]) -> None:
        release.wait()
        delivered.extend(event["n"] for event in batch)

    hook.add_batch_listener(slow, max_size=2, max_wait=60.0, pool=pool)
    firers = [gevent.spawn(hook.fire, n=n) for n in range(10)]
    settle()
    # One batch of two running, four events held: the other firers wait for room, and
    # their events are pending meanwhile ("calls whose firer waits for room").
    waiting = [firer for firer in firers if not firer.dead]
    assert len(waiting) >= 10 - 2 - pool.maxsize
    assert_every_event_accounted_for(pool.stats, fired=10)
    gevent.killall(waiting, block=True)  # Locust stopping its users
    assert_every_event_accounted_for(pool.stats, fired=10)
    release.set()
    assert pool.join(timeout=30)
    assert sorted(delivered) == list(range(10))
    stats = pool.stats
    assert (stats.submitted, stats.completed, stats.dropped, stats.pending) == (10, 10, 0, 0)
    assert stats.high_water <= pool.maxsize


def test_a_thread_firing_batch_events_into_a_stuck_pool_waits_for_room_and_loses_nothing() -> None:
    """The bound, from the README: a batch listener's events count against ``maxsize`` until a
    worker takes their batch, and at most ``maxsize`` events are on their way from other
    threads, beyond which the firing thread waits. So with the worker stuck on one batch,
    pending (held or queued, on their way, and the one event whose thread waits) is at most
    ``2 * maxsize + 1`` and running at most one batch; the queue never holds more than
    ``maxsize``."""
    outcome = outcome_of(
        """
        import json, threading, gevent, gevent.event
        from locust_events import EventHook, ListenerPool
        hook, stuck = EventHook("h"), gevent.event.Event()
        pool = ListenerPool(size=1, maxsize=10, name="stuck pool")
        delivered = []
        def write(batch):
            stuck.wait()
            delivered.extend(event["n"] for event in batch)
        hook.add_batch_listener(write, max_size=5, max_wait=60.0, pool=pool)
        fired = [0]
        def from_thread():
            for n in range(2000):
                hook.fire(n=n)
                fired[0] += 1
        thread = threading.Thread(target=from_thread, daemon=True)
        thread.start()
        most_pending = most_running = 0
        for _ in range(2000):  # the hub takes what the thread hands over
            gevent.sleep(0.001)
            stats = pool.stats
            most_pending = max(most_pending, stats.pending)
            most_running = max(most_running, stats.running)
            if not thread.is_alive():
                break
        waited, fired_while_stuck = thread.is_alive(), fired[0]
        stuck.set()
        for _ in range(15_000):  # capped at about 15 s; over at once when it works
            if not thread.is_alive():
                break
            gevent.sleep(0.001)
        joined, stats = pool.join(15), pool.stats
        print(json.dumps({
            "waited": waited, "fired_while_stuck": fired_while_stuck,
            "most_pending": most_pending, "most_running": most_running,
            "thread_ended": not thread.is_alive(), "fired": fired[0], "joined": joined,
            "delivered": sorted(delivered) == list(range(2000)),
            "submitted": stats.submitted, "completed": stats.completed,
            "high_water": stats.high_water,
        }))
        """
    )
    maxsize, max_size = 10, 5
    assert outcome["most_pending"] <= 2 * maxsize + 1, outcome
    assert outcome["most_running"] <= max_size, outcome
    assert outcome["high_water"] <= maxsize, outcome
    assert outcome["waited"], outcome  # "block": the thread really waits for room
    assert outcome["fired_while_stuck"] < 2000, outcome
    assert outcome["thread_ended"], outcome
    assert outcome["joined"], outcome
    assert outcome["delivered"], outcome
    assert (outcome["fired"], outcome["submitted"], outcome["completed"]) == (2000, 2000, 2000)


def test_max_wait_delivers_a_partial_batch_after_the_pool_moved_to_a_new_home_thread() -> None:
    """The pool's first home thread ends with a partial batch; the main thread fires into
    the pool, becomes its home and adds to the batch. Without a join, ``max_wait`` (0.05 s)
    delivers every event fired: the one the old home left and the new home's."""
    outcome = outcome_of(
        """
        import json, threading, gevent
        from locust_events import EventHook, ListenerPool
        hook, delivered, made = EventHook("h"), [], {}
        def write(batch):
            delivered.extend(event["n"] for event in batch)
        def first_home():
            pool = made["pool"] = ListenerPool(size=1, maxsize=100, name="moving pool")
            hook.add_batch_listener(write, max_size=100, max_wait=0.05, pool=pool)
            hook.fire(n=0)
            assert pool.join(15)
            hook.fire(n=1)  # a partial batch; this thread ends before its max_wait
        thread = threading.Thread(target=first_home)
        thread.start()
        thread.join()
        pool = made["pool"]
        for n in range(2, 5):
            hook.fire(n=n)  # the main thread becomes the pool's home
        for _ in range(15_000):  # capped at about 15 s; 0.05 s when it works
            if len(delivered) == 5:
                break
            gevent.sleep(0.001)
        by_max_wait = sorted(delivered)
        joined = pool.join(15)
        print(json.dumps({
            "by_max_wait": by_max_wait, "joined": joined, "after_join": sorted(delivered),
            "completed": pool.stats.completed,
        }))
        """
    )
    assert outcome["by_max_wait"] == [0, 1, 2, 3, 4], outcome  # not only at join
    assert outcome["joined"], outcome
    assert outcome["completed"] == 5, outcome


def test_shutdown_from_a_live_thread_takes_over_a_pool_whose_home_thread_ended() -> None:
    outcome = outcome_of(
        """
        import json, threading
        from locust_events import Events
        events, spawned, batched = Events(), [], []
        def first_home():
            events.quit.add_listener(lambda **kw: spawned.append(1), spawn=True)
            events.test_stop.add_batch_listener(
                lambda batch: batched.extend(batch), max_size=100, max_wait=60.0
            )
            for _ in range(6):
                events.quit.fire(exit_code=0)
            for _ in range(3):
                events.test_stop.fire(environment=None)
        thread = threading.Thread(target=first_home)
        thread.start()
        thread.join()  # ends with its calls and events pending in the registry's pool
        shut_down = events.shutdown(15)  # quick when it works
        stats = events.pool.stats
        print(json.dumps({
            "shut_down": shut_down, "spawned": len(spawned), "batched": len(batched),
            "completed": stats.completed, "pending": stats.pending,
        }))
        """
    )
    assert outcome == {
        "shut_down": True,
        "spawned": 6,
        "batched": 3,
        "completed": 9,
        "pending": 0,
    }


def test_a_recursion_error_during_a_batch_hand_over_loses_no_event_and_join_returns() -> None:
    """A listener that re-fires its own hook until Python's recursion limit stops it: tried
    from sixty stack depths in a row, the ``RecursionError`` lands at every step of the
    fire, the batch hand-over included."""
    outcome = outcome_of(
        """
        import json
        from locust_events import EventHook, ListenerPool
        hook, pool, delivered = EventHook("h"), ListenerPool(size=1, maxsize=100_000), []
        def write(batch):
            delivered.extend(batch)
        hook.add_batch_listener(write, max_size=1, max_wait=60.0, pool=pool)
        def refire(depth, **kwargs):
            hook.fire(depth=depth + 1)
        hook.add_listener(refire)
        def fire_from_depth(frames):
            if frames:
                return fire_from_depth(frames - 1)
            try:
                hook.fire(depth=0)
            except RecursionError:
                pass  # the error policy records the listener's; any other reaches here
        for frames in range(60):
            fire_from_depth(frames)
        joined, stats = pool.join(15), pool.stats
        print(json.dumps({
            "joined": joined, "delivered": len(delivered), "submitted": stats.submitted,
            "completed": stats.completed, "failed": stats.failed, "dropped": stats.dropped,
            "pending": stats.pending, "running": stats.running,
        }))
        """
    )
    assert outcome["joined"], outcome
    assert (outcome["pending"], outcome["running"]) == (0, 0), outcome
    assert outcome["completed"] == outcome["delivered"] > 0, outcome
    ended = outcome["completed"] + outcome["failed"] + outcome["dropped"]
    assert ended == outcome["submitted"], outcome


def test_a_keyboard_interrupt_during_a_batch_hand_over_loses_no_event_and_join_returns() -> None:
    """Ctrl-C lands between two statements of whatever runs: a tracer raises
    ``KeyboardInterrupt`` at the first, second, third... line the library runs during a fire
    that hands a batch over, until a fire ends untouched. Each fire then either was
    interrupted before its event was taken or its event is delivered (or counted failed or
    dropped), and ``join`` returns True. On the pure-Python build, whose every line a tracer
    sees: the compiled build of the same source has fewer places an exception can land."""
    outcome = outcome_of(
        environment={"LOCUST_EVENTS_PURE": "1"},
        scenario="""
        import json, os, sys
        import locust_events
        from locust_events import EventHook, ListenerPool
        library = os.path.dirname(locust_events.__file__)
        hook, pool, delivered = EventHook("h"), ListenerPool(size=1, maxsize=10_000), []
        hook.add_batch_listener(
            lambda batch: delivered.extend(event["n"] for event in batch),
            max_size=1, max_wait=60.0, pool=pool,
        )
        hook.fire(n=0)  # the workers run: what follows is a steady fire, each a hand-over
        assert pool.join(15)
        interrupted, completed_fires = 0, [0]
        for step in range(1, 10_000):
            lines = [0]
            def interrupt_at_step(frame, event, arg):
                if not frame.f_code.co_filename.startswith(library):
                    return None
                if event in ("call", "line"):
                    lines[0] += 1
                    if lines[0] == step:
                        raise KeyboardInterrupt
                return interrupt_at_step
            sys.settrace(interrupt_at_step)
            try:
                hook.fire(n=step)
                completed_fires.append(step)
            except KeyboardInterrupt:
                interrupted += 1
            finally:
                sys.settrace(None)
            if lines[0] < step:
                break  # the fire ran to its end before the step: every step was tried
        joined, stats = pool.join(15), pool.stats
        print(json.dumps({
            "interrupted": interrupted, "fired": step + 1, "joined": joined,
            "delivered": delivered, "uninterrupted": completed_fires,
            "submitted": stats.submitted, "completed": stats.completed,
            "failed": stats.failed, "dropped": stats.dropped,
            "pending": stats.pending, "running": stats.running,
        }))
        """,
    )
    assert outcome["interrupted"] > 0, outcome  # the sweep reached the library's code
    assert outcome["joined"], outcome
    assert (outcome["pending"], outcome["running"]) == (0, 0), outcome
    delivered = outcome["delivered"]
    assert len(delivered) == len(set(delivered)) == outcome["completed"], outcome
    assert set(outcome["uninterrupted"]) <= set(delivered), outcome
    ended = outcome["completed"] + outcome["failed"] + outcome["dropped"]
    assert ended == outcome["submitted"] <= outcome["fired"], outcome


def test_the_profile_counts_the_events_a_listener_consumed() -> None:
    """(The Listeners tab's row, read from the same profile, is pinned end to end in
    ``tests/e2e/test_listeners_tab.py``: it imports Locust.)"""
    registry = Events()
    pool = ListenerPool(size=1, maxsize=100, name="batch pool")
    consumed: list[Mapping[str, Any]] = []

    def consume(batch: list[Mapping[str, Any]]) -> None:
        while batch:  # a listener may empty its batch: the list is its own
            consumed.append(batch.pop())

    registry.request.add_batch_listener(consume, max_size=5, pool=pool)
    with registry.profiling() as profiler:
        for n in range(12):
            registry.request.fire(n=n)
        assert pool.join(timeout=30)
    assert len(consumed) == 12
    (profile,) = [p for p in profiler.profiles if p.hook == "request"]
    assert (profile.calls, profile.events) == (3, 12)
    assert profile.mean_batch_size == 4.0
