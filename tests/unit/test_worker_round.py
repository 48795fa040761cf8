"""A pool worker's round: each queued call runs once, with its keywords, and is counted once.

The round is ``run_queued_calls``, pure Python in ``_worker``.
"""

from __future__ import annotations

import sys
from types import MappingProxyType, TracebackType
from typing import Any

import gevent
import pytest

from locust_events import EventHook, ListenerPool


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
