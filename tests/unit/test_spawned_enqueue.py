"""The enqueue of a spawned listener (``_enqueue.SpawnedListener``).

Each test runs against a stand-in pool and queue, so that what the enqueue reads and calls is
seen.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import gevent.monkey
import pytest

from locust_events import PoolFull, _enqueue

_thread_ident = gevent.monkey.get_original("_thread", "get_ident")
_start_thread = gevent.monkey.get_original("_thread", "start_new_thread")
_allocate_lock = gevent.monkey.get_original("_thread", "allocate_lock")


def _twins() -> list[Any]:
    return [pytest.param(_enqueue.SpawnedListener, id="pure")]


class Queue:
    """A ``CallQueue`` whose wake-ups are logged."""

    def __init__(self, room: int = 10, home: int | None = None) -> None:
        self.calls: Any = deque()
        self.room = room
        self.home = _thread_ident() if home is None else home
        self.idle: list[object] = []
        self.woken = 0

    def wake_one(self) -> None:
        self.idle.pop()
        self.woken += 1


class Pool:
    """A ``ListenerPool`` whose submissions are logged."""

    def __init__(self, queue: Queue, refuse: Exception | None = None) -> None:
        self._queue = queue
        self.submitted: list[tuple[object, object, dict[str, Any]]] = []
        self.refuse = refuse

    def submit(self, hook: object, listener: object, kwargs: dict[str, Any]) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.submitted.append((hook, listener, kwargs))
        return "ignored"

    def __repr__(self) -> str:
        return "<pool>"


class Hook:
    name = "request"


def listener(**kwargs: Any) -> None:
    pass


@pytest.fixture(params=_twins())
def spawned_type(request: pytest.FixtureRequest) -> Any:
    return request.param


def make(spawned_type: Any, **queue: Any) -> tuple[Any, Pool, Queue]:
    call_queue = Queue(**queue)
    pool = Pool(call_queue)
    return spawned_type(Hook(), listener, pool), pool, call_queue


def test_a_call_is_queued_with_its_fire_time_and_keywords(spawned_type: Any) -> None:
    spawned, pool, queue = make(spawned_type)
    before = time.monotonic()
    assert spawned(name="/x", response_time=1.5) is None
    after = time.monotonic()
    [(fired_at, hook, called, kwargs)] = queue.calls
    assert before <= fired_at <= after
    assert (hook, called) == (spawned.hook, listener)
    assert isinstance(kwargs, Mapping)
    assert kwargs == {"name": "/x", "response_time": 1.5}
    assert list(kwargs) == ["name", "response_time"]
    assert pool.submitted == []


def test_each_call_keeps_the_keywords_as_they_were_at_its_fire(spawned_type: Any) -> None:
    spawned, _, queue = make(spawned_type)
    context: dict[str, int] = {}
    for count in range(3):
        spawned(count=count, context=context)
    spawned(other=1)
    spawned()
    queued = [call[3] for call in queue.calls]
    assert queued == [
        {"count": 0, "context": context},
        {"count": 1, "context": context},
        {"count": 2, "context": context},
        {"other": 1},
        {},
    ]
    assert len({id(kwargs) for kwargs in queued}) == 5  # a new mapping per call
    assert queued[0]["context"] is context  # a shallow copy: values are shared


def test_the_keywords_of_a_mapping_passed_with_stars_are_copied(spawned_type: Any) -> None:
    spawned, _, queue = make(spawned_type)
    payload = {"name": "/x"}
    spawned(**payload)
    payload["name"] = "/changed"
    assert queue.calls[0][3] == {"name": "/x"}


def test_an_idle_worker_is_woken_and_a_busy_one_is_not(spawned_type: Any) -> None:
    spawned, _, queue = make(spawned_type)
    spawned(a=1)
    assert queue.woken == 0
    queue.idle.extend(["worker 1", "worker 2"])
    spawned(a=2)
    assert queue.woken == 1
    assert queue.idle == ["worker 1"]
    assert len(queue.calls) == 2


@pytest.mark.parametrize("room", [0, 2])
def test_without_room_the_call_goes_to_submit(spawned_type: Any, room: int) -> None:
    spawned, pool, queue = make(spawned_type, room=room)
    queue.calls.extend([("queued",)] * room)
    queue.idle.append("worker")
    spawned(name="/x")
    assert pool.submitted == [(spawned.hook, listener, {"name": "/x"})]
    assert len(queue.calls) == room
    assert queue.woken == 0


def test_a_room_beyond_any_length_leaves_room(spawned_type: Any) -> None:
    spawned, pool, queue = make(spawned_type, room=2**80)
    spawned(a=1)
    assert len(queue.calls) == 1
    assert pool.submitted == []


@pytest.mark.parametrize("home", ["no home yet", "another thread"])
def test_outside_the_home_thread_the_call_goes_to_submit(spawned_type: Any, home: str) -> None:
    spawned, pool, queue = make(spawned_type)
    queue.home = None if home == "no home yet" else _thread_ident() + 1
    spawned(a=1)
    assert pool.submitted == [(spawned.hook, listener, {"a": 1})]
    assert not queue.calls


def test_a_call_from_another_thread_goes_to_submit(spawned_type: Any) -> None:
    spawned, pool, queue = make(spawned_type)
    done = _allocate_lock()
    done.acquire()

    def fire() -> None:
        try:
            spawned(a=1)
        finally:
            done.release()

    _start_thread(fire, ())
    done.acquire()
    assert pool.submitted == [(spawned.hook, listener, {"a": 1})]
    assert not queue.calls


def test_fields_changed_between_calls_are_read_afresh(spawned_type: Any) -> None:
    """The pool replaces the queue's deque (fork, new home) and its room (close)."""
    spawned, pool, queue = make(spawned_type)
    spawned(a=1)
    old_calls, queue.calls = queue.calls, deque()
    spawned(a=2)
    assert [call[3] for call in old_calls] == [{"a": 1}]
    assert [call[3] for call in queue.calls] == [{"a": 2}]
    queue.room = 0
    spawned(a=3)
    assert pool.submitted == [(spawned.hook, listener, {"a": 3})]


def test_a_queue_of_another_kind_is_appended_to_by_its_own_method(spawned_type: Any) -> None:
    spawned, _, queue = make(spawned_type)
    queue.calls = []
    spawned(a=1)
    assert [call[3] for call in queue.calls] == [{"a": 1}]


def test_what_submit_raises_reaches_the_firer(spawned_type: Any) -> None:
    spawned, pool, _ = make(spawned_type, room=0)
    pool.refuse = PoolFull("full")
    with pytest.raises(PoolFull, match="full"):
        spawned(a=1)


@pytest.mark.parametrize("field", ["calls", "room", "home", "idle"])
def test_a_missing_queue_field_raises(spawned_type: Any, field: str) -> None:
    spawned, _, queue = make(spawned_type)
    queue.idle.append("worker")
    delattr(queue, field)
    with pytest.raises(AttributeError, match=field):
        spawned(a=1)


def test_positional_arguments_are_refused(spawned_type: Any) -> None:
    spawned, pool, queue = make(spawned_type)
    with pytest.raises(TypeError, match="positional"):
        spawned(1)
    assert not queue.calls
    assert pool.submitted == []


def test_it_names_its_listener_hook_and_pool(spawned_type: Any) -> None:
    spawned, pool, queue = make(spawned_type)
    assert spawned.listener is listener
    assert spawned.pool is pool
    assert isinstance(spawned.hook, Hook)
    assert spawned._queue is queue
    assert repr(spawned) == f"<spawned {__name__}.listener in <pool>>"


def test_keyword_construction_as_the_pure_twin_allows(spawned_type: Any) -> None:
    queue = Queue()
    spawned = spawned_type(hook=Hook(), listener=listener, pool=Pool(queue))
    spawned(a=1)
    assert len(queue.calls) == 1


def test_a_pool_without_a_queue_is_refused(spawned_type: Any) -> None:
    with pytest.raises(AttributeError, match="_queue"):
        spawned_type(Hook(), listener, object())


def test_the_spawned_listener_lets_go_of_what_it_holds(spawned_type: Any) -> None:
    """A hook, its spawned listener and its pool form a cycle: the collector frees it."""
    import gc
    import weakref

    class Cyclic:
        def __call__(self, **kwargs: Any) -> None:
            pass

    queue = Queue()
    pool = Pool(queue)
    target = Cyclic()
    spawned = spawned_type(Hook(), target, pool)
    target.spawned = spawned  # type: ignore[attr-defined]
    spawned(a=1)
    gone = weakref.ref(target)
    del target, spawned, pool, queue
    gc.collect()
    assert gone() is None


def test_the_pool_module_calls_the_picked_twin() -> None:
    from locust_events import _implementation, _pool

    assert _pool.SpawnedListener is _implementation.SpawnedListener
    expected: Callable[..., Any] = _enqueue.SpawnedListener
    assert _pool.SpawnedListener is expected
