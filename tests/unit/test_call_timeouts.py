"""Per-call timeouts of spawned and batch listeners: a call running past its timeout is
abandoned, counted failed and timed out, and logged within the rate limit; the pool keeps
delivering, and ``join`` and ``close`` keep their deadlines. Each stuck listener waits for an
event nobody sets while the test runs: bounded by counts and events, never by how fast the
machine is (the timeouts are short; the joins' deadlines only guard against a hang)."""

from __future__ import annotations

import logging
import math
import threading
import time

import gevent
import gevent.event
import pytest

from locust_events import EventHook, Events, ListenerPool

#: A join's deadline that only guards against a hang.
_HANG = 60.0


def test_a_greenlet_listener_stuck_in_a_cooperative_wait_is_timed_out_and_the_pool_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    hook, pool = EventHook("request"), ListenerPool(size=1, name="webhook pool")
    never = gevent.event.Event()
    delivered: list[int] = []

    def hung_webhook(n: int) -> None:
        never.wait()  # a webhook that never answers

    hook.add_listener(hung_webhook, spawn=pool, timeout=0.05)
    hook.add_listener(lambda n: delivered.append(n), spawn=pool)
    for n in range(3):
        hook.fire(n=n)
    assert pool.join(timeout=_HANG)
    stats = pool.stats
    assert (stats.timed_out, stats.failed, stats.completed) == (3, 3, 3)
    assert delivered == [0, 1, 2]
    warnings = [r.getMessage() for r in caplog.records if "timeout" in r.getMessage()]
    assert len(warnings) == 1, warnings  # the others within the rate limit
    for part in ("webhook pool", "hung_webhook", "'request'", "0.05 s", "timed out"):
        assert part in warnings[0], (part, warnings[0])
    assert pool.close(timeout=_HANG)


def test_the_pool_timeout_applies_to_listeners_without_their_own() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=2, timeout=0.05)
    never = gevent.event.Event()
    hook.add_listener(lambda **kwargs: never.wait(), spawn=pool)
    hook.add_listener(lambda **kwargs: never.wait(0.01), spawn=pool, timeout=30.0)
    for n in range(4):
        hook.fire(n=n)
    assert pool.join(timeout=_HANG)
    stats = pool.stats
    assert (stats.timed_out, stats.failed, stats.completed) == (4, 4, 4)
    assert pool.close(timeout=_HANG)


def test_a_listener_stuck_in_a_thread_is_timed_out_and_a_new_thread_takes_its_place() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, threads=True, timeout=0.05)
    released = threading.Event()  # real, unpatched: the thread blocks for real
    delivered: list[int] = []

    def stuck_driver(n: int) -> None:
        if n % 2 == 0:
            released.wait(_HANG)
        else:
            delivered.append(n)

    hook.add_listener(stuck_driver, spawn=pool)
    for n in range(4):
        hook.fire(n=n)
    try:
        assert pool.join(timeout=_HANG)
        stats = pool.stats
        assert (stats.timed_out, stats.failed, stats.completed) == (2, 2, 2)
        assert delivered == [1, 3]
    finally:
        released.set()  # the stuck threads finish on their own, and end
    assert pool.close(timeout=_HANG)


def test_a_batch_listener_stuck_is_timed_out_for_each_event_of_its_batch() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1)
    never = gevent.event.Event()
    hook.add_batch_listener(lambda batch: never.wait(), max_size=5, pool=pool, timeout=0.05)
    for n in range(10):
        hook.fire(n=n)
    assert pool.join(timeout=_HANG)
    stats = pool.stats
    assert (stats.timed_out, stats.failed, stats.completed) == (10, 10, 0)
    assert pool.close(timeout=_HANG)


def test_join_shutdown_and_close_keep_their_deadlines_while_a_call_runs_under_a_long_timeout() -> (
    None
):
    registry, pool = Events(), ListenerPool(size=1, timeout=_HANG)
    hook = registry.request
    started, never = gevent.event.Event(), gevent.event.Event()

    def stuck(**kwargs: object) -> None:
        started.set()
        never.wait()

    hook.add_listener(stuck, spawn=pool)
    hook.fire(n=1)
    assert started.wait(_HANG)
    assert pool.join(timeout=0.01) is False  # the deadline comes before the timeout
    assert registry.shutdown(timeout=0.01) is False
    assert pool.close(timeout=0.01) is False
    stats = pool.stats
    assert (stats.failed, stats.timed_out, stats.undelivered) == (1, 0, 0)


def test_a_timeout_the_listener_started_itself_is_not_counted_as_timed_out() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, timeout=_HANG)

    def own_deadline(**kwargs: object) -> None:
        with gevent.Timeout(0.01):  # not an Exception: it ends the worker, which is replaced
            gevent.event.Event().wait()

    hook.add_listener(own_deadline, spawn=pool)
    hook.fire(n=1)
    assert pool.join(timeout=_HANG)
    stats = pool.stats
    assert (stats.failed, stats.timed_out) == (1, 0)
    assert pool.close(timeout=_HANG)


def test_without_timeouts_the_pool_never_looks_for_one() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1)
    hook.add_listener(lambda **kwargs: None, spawn=pool)
    assert pool.timeout is None
    assert not pool._queue.timeouts_on
    hook.add_listener(lambda **kwargs: None, spawn=pool, timeout=1.0)
    assert pool._queue.timeouts_on


@pytest.mark.parametrize(
    ("timeout", "error", "says"),
    [
        ("5", TypeError, "must be a number of seconds or None, not '5'"),
        (True, TypeError, "must be a number of seconds or None, not True"),
        (0, ValueError, "finite number of seconds above 0, not 0"),
        (-1.0, ValueError, "above 0, not -1.0"),
        (math.inf, ValueError, "finite number of seconds above 0, not inf"),
        (math.nan, ValueError, "above 0, not nan"),
    ],
)
def test_a_bad_timeout_is_refused_naming_the_pool_hook_listener_and_fix(
    timeout: object, error: type[Exception], says: str
) -> None:
    with pytest.raises(error, match=rf"ListenerPool 'writer pool': timeout .*{says}.*timeout=5\.0"):
        ListenerPool(name="writer pool", timeout=timeout)  # type: ignore[arg-type]
    hook, pool = EventHook("request"), ListenerPool()

    def post_to_webhook(**kwargs: object) -> None: ...

    with pytest.raises(error, match=rf"post_to_webhook to hook 'request': timeout .*{says}"):
        hook.add_listener(post_to_webhook, spawn=pool, timeout=timeout)  # type: ignore[arg-type]

    def write_rows(batch: object) -> None: ...

    with pytest.raises(error, match=rf"batch listener .*write_rows.* 'request': timeout .*{says}"):
        hook.add_batch_listener(write_rows, pool=pool, timeout=timeout)  # type: ignore[arg-type]


def test_a_timeout_on_a_listener_that_is_not_spawned_is_refused() -> None:
    hook = EventHook("request")

    def on_request(**kwargs: object) -> None: ...

    with pytest.raises(TypeError, match=r"on_request to hook 'request'.*spawn=True"):
        hook.add_listener(on_request, timeout=1.0)


def test_a_listener_catching_exception_or_gevent_timeouts_is_timed_out_all_the_same() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, timeout=0.05)
    never = gevent.event.Event()
    caught: list[str] = []

    def careful(**kwargs: object) -> None:
        try:
            never.wait()
        except (Exception, gevent.Timeout) as error:  # not the pool's: never reached
            caught.append(type(error).__name__)

    hook.add_listener(careful, spawn=pool)
    hook.fire(n=1)
    assert pool.join(timeout=_HANG)
    assert (pool.stats.timed_out, caught) == (1, [])
    assert pool.close(timeout=_HANG)


def test_a_greenlet_listener_that_never_yields_is_not_interrupted_and_completes() -> None:
    hook, pool = EventHook("request"), ListenerPool(size=1, timeout=0.01)
    hook.add_listener(lambda **kwargs: time.sleep(0.05), spawn=pool)  # unpatched: no yield
    hook.fire(n=1)
    assert pool.join(timeout=_HANG)
    stats = pool.stats
    assert (stats.completed, stats.timed_out) == (1, 0)
    assert pool.close(timeout=_HANG)
