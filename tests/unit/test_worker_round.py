"""A pool worker's round: each queued call runs once, with its keywords, and is counted once.

The round is ``run_queued_calls``: pure Python in ``_worker``, compiled in ``_speedups``; the
calling-loop plugin runs each test on both. The compiled enqueue queues a call's keywords as
a ``FiredKeywords``, a read-only mapping the compiled round hands to the listener as the fire
passed them; the tests at the end pin what a spawned call's FiredKeywords adds to the batch
events' (``test_batch_listeners.py``): it is collected in a cycle, and names that cannot make
one make a dict.
"""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Any

import gevent
import pytest

import locust_events
from locust_events import EventHook, ListenerPool
from locust_events._implementation import run_queued_calls


class Recorder:
    """A pool's failure recorder that keeps what it was given and what was being handled."""

    name = "recording hook"

    def __init__(self, raises: bool = False) -> None:
        self.failures: list[tuple[object, Exception]] = []
        self.handling: list[object] = []
        self.raises = raises

    def record_failure(self, listener: object, error: Exception) -> None:
        self.failures.append((listener, error))
        self.handling.append(sys.exc_info()[1])
        if self.raises:
            raise RuntimeError("the recorder broke too")


def test_a_call_submitted_with_any_mapping_runs_with_its_items() -> None:
    pool = ListenerPool(size=1)
    got: list[dict[str, Any]] = []
    pool.submit(Recorder(), lambda **kwargs: got.append(kwargs), MappingProxyType({"n": 1}))
    assert pool.join(timeout=5)
    assert got == [{"n": 1}]
    assert pool.stats.completed == 1


def test_a_failing_call_reaches_its_recorder_while_the_error_is_being_handled() -> None:
    pool = ListenerPool(size=1)
    recorder = Recorder()

    def broken(**kwargs: Any) -> None:
        raise ValueError("listener broke")

    pool.submit(recorder, broken, {})
    assert pool.join(timeout=5)
    [(listener, error)] = recorder.failures
    assert listener is broken
    assert recorder.handling == [error]  # as inside ``except ... as error:``
    traceback = error.__traceback__
    assert isinstance(traceback, TracebackType)
    frames = []
    while traceback is not None:
        frames.append(traceback.tb_frame.f_code.co_name)
        traceback = traceback.tb_next
    assert frames[-1] == "broken"  # the traceback reaches the line that raised
    assert (pool.stats.failed, pool.stats.completed) == (1, 0)


def test_a_recorder_that_raises_neither_stops_the_worker_nor_loses_a_count() -> None:
    pool = ListenerPool(size=1)
    recorder = Recorder(raises=True)
    ran: list[int] = []

    def every_other(n: int) -> None:
        ran.append(n)
        if n % 2:
            raise ValueError(n)

    for n in range(4):
        pool.submit(recorder, every_other, {"n": n})
    assert pool.join(timeout=5)
    assert ran == [0, 1, 2, 3]
    assert [str(error) for _, error in recorder.failures] == ["1", "3"]
    assert (pool.stats.completed, pool.stats.failed) == (2, 2)
    assert not pool._workers[0].dead


class Stop(BaseException):
    """Neither an ``Exception`` nor a kill: it ends the worker that runs into it."""


def test_a_base_exception_from_a_listener_ends_its_worker_which_is_replaced(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pool = ListenerPool(size=1)
    hook = EventHook("orders")
    ran: list[int] = []

    def stops_at_one(n: int) -> None:
        ran.append(n)
        if n == 1:
            raise Stop

    hook.add_listener(stops_at_one, spawn=pool)
    for n in range(3):
        hook.fire(n=n)
    [first_worker] = pool._workers
    gevent.get_hub().print_exception = lambda *args: None  # gevent reports the Stop: expected
    try:
        assert pool.join(timeout=5)
    finally:
        del gevent.get_hub().print_exception
    assert ran == [0, 1, 2]
    assert first_worker.dead
    assert first_worker not in pool._workers
    assert len(pool._workers) == 1
    assert (pool.stats.completed, pool.stats.failed) == (2, 1)
    assert "counted as failed" in caplog.text


def test_the_high_water_is_the_deepest_the_queue_was_when_a_worker_took_a_call() -> None:
    pool = ListenerPool(size=2, maxsize=100)
    hook = EventHook("orders")
    hook.add_listener(lambda n: None, spawn=pool)
    for n in range(37):
        hook.fire(n=n)  # no yield: all 37 are queued before a worker runs
    assert pool.join(timeout=5)
    assert pool.stats.high_water == 37
    for n in range(5):
        hook.fire(n=n)
    assert pool.join(timeout=5)
    assert pool.stats.high_water == 37
    assert pool.stats.completed == 42


def test_a_round_after_a_fresh_start_of_its_pool_leaves_the_rest_to_the_new_workers() -> None:
    """A pool that started afresh while a call ran (a fork, a new home thread) has new
    fields: the round that ran the call neither counts it nor takes more from the old ones."""
    pool = ListenerPool(size=1)
    hook = EventHook("orders")
    ran: list[int] = []

    def restarts_its_pool_at_one(n: int) -> None:
        ran.append(n)
        if n == 1:
            pool._start_afresh()

    hook.add_listener(restarts_its_pool_at_one, spawn=pool)
    for n in range(4):
        hook.fire(n=n)
    [worker] = pool._workers
    worker.join(timeout=5)
    assert worker.dead
    assert worker.successful()
    assert ran == [0, 1]  # calls 2 and 3 stayed with the old fields
    assert pool.stats.completed == 0  # call 1 is not counted into the new fields


def test_the_compiled_round_checks_its_arguments() -> None:
    if not locust_events.COMPILED:
        pytest.skip("the pure round is a Python function: Python checks its arguments")
    pool = ListenerPool(size=1)
    with pytest.raises(TypeError, match="takes a pool, a worker and the batch type"):
        run_queued_calls(pool, None)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="batch_type must be a type"):
        run_queued_calls(pool, None, "BatchOfEvents")  # type: ignore[arg-type]


# The compiled enqueue's keywords.


def queued_keywords(**kwargs: Any) -> Any:
    """What the enqueue queues for a fire with ``kwargs`` (taken out of the queue)."""
    if not locust_events.COMPILED:
        pytest.skip("only the compiled enqueue keeps a fire's keywords as FiredKeywords")
    pool = ListenerPool(size=1)
    hook = EventHook("request")
    hook.add_listener(lambda **kwargs: None, spawn=pool)
    hook.fire(**kwargs)
    [(_, _, _, queued)] = pool._queue.calls
    pool._queue.calls.clear()
    return queued


@pytest.fixture
def fired_keywords() -> Any:
    return queued_keywords(name="/x", response_time=1.5, context={})


def test_fired_keywords_are_a_read_only_mapping_in_fire_order(fired_keywords: Any) -> None:
    assert type(fired_keywords).__name__ == "FiredKeywords"
    assert isinstance(fired_keywords, Mapping)
    assert fired_keywords == {"name": "/x", "response_time": 1.5, "context": {}}
    assert fired_keywords != {"name": "/x"}
    assert list(fired_keywords) == ["name", "response_time", "context"]
    assert list(fired_keywords.keys()) == ["name", "response_time", "context"]
    assert list(fired_keywords.values()) == ["/x", 1.5, {}]
    assert next(iter(fired_keywords.items())) == ("name", "/x")
    assert len(fired_keywords) == 3
    assert fired_keywords["name"] == "/x"
    assert "context" in fired_keywords
    assert "url" not in fired_keywords
    assert fired_keywords.get("url") is None
    assert fired_keywords.get("url", 0) == 0
    assert dict(fired_keywords) == {"name": "/x", "response_time": 1.5, "context": {}}
    assert (
        repr(fired_keywords) == "mappingproxy({'name': '/x', 'response_time': 1.5, 'context': {}})"
    )
    with pytest.raises(KeyError, match="url"):
        fired_keywords["url"]
    with pytest.raises(TypeError):
        fired_keywords["name"] = "/y"
    with pytest.raises(TypeError, match="unhashable"):
        hash(fired_keywords)
    with pytest.raises(TypeError):
        type(fired_keywords)()


def test_fired_keywords_find_a_name_equal_to_but_not_the_one_passed(fired_keywords: Any) -> None:
    name = "".join(["na", "me"])
    assert name is not next(iter(fired_keywords))  # equal, not the same object
    assert fired_keywords[name] == "/x"
    assert name in fired_keywords


class Context:
    keywords: Any = None


def test_fired_keywords_in_a_cycle_are_collected() -> None:
    context = Context()
    context.keywords = queued_keywords(context=context)  # keywords -> context -> keywords
    watched = weakref.ref(context)
    del context
    gc.collect()
    assert watched() is None


class Name(str):
    """A keyword name of a str subclass, as ``fire(**mapping)`` may pass."""


def test_names_that_cannot_make_fired_keywords_queue_a_dict_that_runs_alike() -> None:
    queued = queued_keywords(**{Name("n"): 1})
    assert type(queued) is dict
    assert queued == {"n": 1}
    pool = ListenerPool(size=1)
    hook = EventHook("request")
    got: list[dict[str, Any]] = []
    hook.add_listener(lambda **kwargs: got.append(kwargs), spawn=pool)
    hook.fire(**{Name("n"): 1})
    hook.fire(n=2)
    assert pool.join(timeout=5)
    assert got == [{"n": 1}, {"n": 2}]
