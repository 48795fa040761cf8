"""A pool worker's round: each queued call runs once, with its keywords, and is counted once."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

import gevent
import gevent.monkey
import pytest

from locust_events import EventHook, ListenerPool
from locust_events._pool import queue_of


class RecordingHook(EventHook):
    """A hook whose error policy is replaced by a list of what it was given, and of what was
    being handled then."""

    def __init__(self, raises: bool = False) -> None:
        super().__init__("recording hook")
        self.failures: list[tuple[object, Exception]] = []
        self.handling: list[object] = []
        self.raises = raises

    def record_failure(self, listener: Any, error: Exception) -> None:
        self.failures.append((listener, error))
        self.handling.append(sys.exc_info()[1])
        if self.raises:
            raise RuntimeError("the recorder broke too")


def test_a_failing_call_reaches_its_recorder_while_the_error_is_being_handled() -> None:
    pool = ListenerPool(size=1)
    hook = RecordingHook()

    def broken(**kwargs: Any) -> None:
        raise ValueError("listener broke")

    hook.add_listener(broken, spawn=pool)
    hook.fire()
    assert pool.join(timeout=5)
    [(listener, error)] = hook.failures
    assert listener is broken
    assert hook.handling == [error]  # as inside ``except ... as error:``
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
    hook = RecordingHook(raises=True)
    ran: list[int] = []

    def every_other(n: int) -> None:
        ran.append(n)
        if n % 2:
            raise ValueError(n)

    hook.add_listener(every_other, spawn=pool)
    for n in range(4):
        hook.fire(n=n)
    assert pool.join(timeout=5)
    assert ran == [0, 1, 2, 3]
    assert [str(error) for _, error in hook.failures] == ["1", "3"]
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
            queue_of(pool).start_afresh()

    hook.add_listener(restarts_its_pool_at_one, spawn=pool)
    for n in range(4):
        hook.fire(n=n)
    [worker] = pool._workers
    worker.join(timeout=5)
    assert worker.dead
    assert worker.successful()
    assert ran == [0, 1]  # calls 2 and 3 stayed with the old fields
    assert pool.stats.completed == 0  # call 1 is not counted into the new fields


def test_a_round_that_let_a_late_join_return_takes_nothing_more_once_its_pool_started_afresh() -> (
    None
):
    """Between calls the round lets a join whose deadline passed return; if what ran then
    started the pool afresh (a fork, a new home thread), the round leaves the rest alone."""
    block_the_thread = gevent.monkey.get_original("time", "sleep")
    pool = ListenerPool(size=1)
    hook = EventHook("orders")
    ran: list[int] = []

    def outlasts_the_join_at_zero(n: int) -> None:
        ran.append(n)
        if n == 0:
            block_the_thread(0.01)  # the join's deadline passes, no greenlet runs meanwhile

    hook.add_listener(outlasts_the_join_at_zero, spawn=pool)
    for n in range(3):
        hook.fire(n=n)
    assert not pool.join(timeout=0.001)  # returned between calls 0 and 1
    queue_of(pool).start_afresh()
    [worker] = pool._workers
    worker.join(timeout=5)
    assert worker.dead
    assert worker.successful()
    assert ran == [0]
    assert pool.stats.completed == 0
