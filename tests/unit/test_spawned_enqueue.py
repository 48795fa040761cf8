"""The enqueue: what a fire into a spawned listener does, seen in its pool's queue."""

from __future__ import annotations

import gc
import time
import weakref
from typing import Any

import gevent
import pytest

from locust_events import EventHook, ListenerPool
from locust_events._implementation import COMPILED
from locust_events._pool import queue_of
from locust_events._spawned import SpawnedListener, spawned_listener_of


def listener(**kwargs: Any) -> None:
    pass


def spawned_into(pool: ListenerPool, func: Any = listener) -> tuple[EventHook, SpawnedListener]:
    """A hook with ``func`` spawned into ``pool``, and the spawned listener whose enqueue a
    fire calls."""
    hook = EventHook("orders")
    hook.add_listener(func, spawn=pool)
    (entry,) = hook._listeners
    spawned = spawned_listener_of(entry)
    assert spawned is not None
    assert entry is spawned.enqueue
    return hook, spawned


def keywords(arguments: tuple[Any, ...]) -> dict[str, Any]:
    """A queued call's packed keyword arguments as a dict: its values, then their names."""
    *values, names = arguments
    return dict(zip(names, values, strict=True))


def started_pool(**options: Any) -> ListenerPool:
    """A pool whose workers run (a first call started them) and sit idle."""
    pool = ListenerPool(**options)
    hook, _ = spawned_into(pool)
    hook.fire()
    assert pool.join(timeout=10)
    return pool


def test_a_call_is_queued_with_its_fire_time_keywords_and_one_event() -> None:
    pool = started_pool(size=1)
    queue = queue_of(pool)
    hook, spawned = spawned_into(pool)
    before = time.monotonic()
    hook.fire(name="/x", response_time=1.5)
    after = time.monotonic()
    [(fired_at, source, called, arguments, events)] = queue.calls
    assert before <= fired_at <= after
    assert (source, called, events) == (spawned, listener, 1)
    assert arguments == ("/x", 1.5, ("name", "response_time"))
    assert queue.load == 1
    assert pool.join(timeout=10)
    assert queue.load == 0


def test_each_call_keeps_the_keywords_as_they_were_at_its_fire() -> None:
    pool = started_pool(size=1)
    hook, _ = spawned_into(pool)
    context: dict[str, int] = {}
    payload = {"name": "/x"}
    for count in range(3):
        hook.fire(count=count, context=context)
    hook.fire(**payload)
    payload["name"] = "/changed"
    hook.fire()
    queued = [keywords(call[3]) for call in queue_of(pool).calls]
    assert queued == [
        {"count": 0, "context": context},
        {"count": 1, "context": context},
        {"count": 2, "context": context},
        {"name": "/x"},
        {},
    ]
    assert queued[0]["context"] is context  # values are shared, not copied
    assert pool.join(timeout=10)


def test_an_idle_worker_is_woken_once_per_burst() -> None:
    pool = started_pool(size=2)
    queue = queue_of(pool)
    assert len(queue.idle) == 2
    hook, _ = spawned_into(pool)
    hook.fire(a=1)
    assert len(queue.idle) == 1  # one woken
    hook.fire(a=2)
    assert len(queue.idle) == 0  # the other
    hook.fire(a=3)  # none left to wake: the woken ones take it
    assert pool.join(timeout=10)
    assert pool.stats.completed == 4


@pytest.mark.skipif(not COMPILED, reason="pure Python cannot leave objects out of the collector")
def test_queued_calls_give_the_cycle_collector_nothing_more_to_traverse() -> None:
    """A long queue costs each enqueue the same as a short one: no collection walks it."""
    pool = started_pool(size=1)
    hook, _ = spawned_into(pool)
    context: dict[str, list[int]] = {"tracked on its own": []}
    gc.collect()
    gc.disable()
    try:
        hook.fire(count=-1, name="/x", context=context)  # wakes the idle worker: a callback
        before = len(gc.get_objects())
        for count in range(1000):
            hook.fire(count=count, name="/x", context=context)
        assert len(gc.get_objects()) == before
        assert len(queue_of(pool).calls) == 1001
    finally:
        gc.enable()
    assert pool.join(timeout=10)
    assert pool.stats.completed == 1002


def test_closing_a_pool_lets_go_of_what_its_queued_calls_held() -> None:
    class Marker:
        pass

    pool = started_pool(size=1)
    hook, _ = spawned_into(pool)
    marker = Marker()
    hook.fire(marker=marker, pool=pool)  # a value that refers back to its pool, too
    gone = weakref.ref(marker)
    del marker
    assert gone() is not None  # queued: the workers have not run
    pool.close(timeout=0)
    gc.collect()
    assert gone() is None


def test_positional_arguments_are_refused_and_nothing_is_queued() -> None:
    pool = started_pool(size=1)
    _, spawned = spawned_into(pool)
    with pytest.raises(TypeError, match="positional"):
        spawned.enqueue(1)
    assert not queue_of(pool).calls


def test_it_names_its_listener_hook_and_pool() -> None:
    pool = ListenerPool(size=1, name="named pool")
    hook, spawned = spawned_into(pool)
    assert (spawned.listener, spawned.pool, spawned.hook) == (listener, pool, hook)
    assert repr(spawned).startswith(f"<spawned {__name__}.listener in <ListenerPool 'named pool'")


def test_a_spawned_listener_in_a_cycle_is_collected() -> None:
    """A listener that refers to its hook makes a cycle through the spawned listener."""

    class Cyclic:
        def __call__(self, **kwargs: Any) -> None:
            pass

    pool = ListenerPool(size=1)
    target = Cyclic()
    hook = spawned_into(pool, target)[0]
    target.hook = hook  # type: ignore[attr-defined]
    hook.fire(a=1)
    assert pool.join(timeout=10)
    gone = weakref.ref(target)
    del target, hook
    gc.collect()
    assert gone() is None


def test_a_fire_from_the_hub_into_a_full_queue_waits_in_line_without_its_firer() -> None:
    pool = ListenerPool(size=1, maxsize=1)
    queue = queue_of(pool)
    release = gevent.event.Event()
    hook = EventHook("orders")
    ran: list[int] = []

    def gated(n: int) -> None:
        release.wait()
        ran.append(n)

    hook.add_listener(gated, spawn=pool)
    hook.fire(n=0)
    gevent.sleep(0)  # the worker takes call 0 and waits at the gate
    hook.fire(n=1)  # fills the queue
    gevent.get_hub().loop.run_callback(lambda: hook.fire(n=2))
    gevent.sleep(0)
    assert len(queue.in_line) == 1
    assert pool.stats.pending == 2
    release.set()
    assert pool.join(timeout=10)
    assert ran == [0, 1, 2]


def test_an_error_raised_by_the_enqueue_itself_names_the_listener(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What fails on a fire's side of a spawned listener (a ``RecursionError`` landing in
    the enqueue) is logged under the listener, not under the function that queues it."""
    pool = started_pool(size=1)
    hook, spawned = spawned_into(pool)
    hook._listener_failed(spawned.enqueue, RuntimeError("landed in the enqueue"))
    [record] = [r for r in caplog.records if "raised RuntimeError" in r.getMessage()]
    assert record.getMessage().startswith(f"Listener {__name__}.listener of hook 'orders'")
