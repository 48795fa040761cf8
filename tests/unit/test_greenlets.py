"""Firing from greenlets: listeners run in the caller's greenlet, and nothing is lost."""

from __future__ import annotations

from typing import Any

import gevent
import gevent.monkey
import gevent.pool

from locust_events import EventHook, Events, ListenerPool

from .conftest import REQUEST_PAYLOAD


def test_the_listener_runs_in_the_greenlet_that_fires(hook: EventHook) -> None:
    seen: list[object] = []
    hook.add_listener(lambda **kwargs: seen.append(gevent.getcurrent()))

    def user() -> object:
        hook.fire()
        return gevent.getcurrent()

    firing = gevent.spawn(user)
    firing.join()
    assert seen == [firing.value]
    assert firing.value is firing


def test_thousands_of_greenlets_firing_at_once_deliver_every_event(registry: Events) -> None:
    users, fires_each = 2_000, 25
    received: dict[int, int] = {}

    def on_request(context: dict[str, Any], **kwargs: Any) -> None:
        user_id = context["user_id"]
        received[user_id] = received.get(user_id, 0) + 1
        if received[user_id] % 5 == 0:
            gevent.sleep(0)  # a listener that yields lets the other users interleave

    registry.request.add_listener(on_request)

    def user(user_id: int) -> None:
        payload = {**REQUEST_PAYLOAD, "context": {"user_id": user_id}}
        for _ in range(fires_each):
            registry.request.fire(**payload)
            gevent.sleep(0)

    group = gevent.pool.Group()
    for user_id in range(users):
        group.spawn(user, user_id)
    group.join(raise_error=True)
    assert received == dict.fromkeys(range(users), fires_each)
    assert registry.error_count == 0


def test_a_listener_switching_greenlets_mid_fire_keeps_its_snapshot(hook: EventHook) -> None:
    log: list[str] = []

    def yielding(**kwargs: Any) -> None:
        log.append("yielding")
        gevent.sleep(0.001)

    def second(**kwargs: Any) -> None:
        log.append("second")

    hook.add_listener(yielding)
    hook.add_listener(second)

    def mutate() -> None:
        hook.remove_listener(second)
        hook.add_listener(lambda **kwargs: log.append("added meanwhile"))

    firing = gevent.spawn(hook.fire)
    gevent.sleep(0)  # the fire is now parked inside ``yielding``
    gevent.spawn(mutate).join()
    firing.join()
    assert log == ["yielding", "second"]


def test_errors_in_concurrent_fires_are_all_counted(registry: Events) -> None:
    def flaky(**kwargs: Any) -> None:
        gevent.sleep(0)
        raise RuntimeError("flaky")

    registry.test_stop.add_listener(flaky)
    fires = [gevent.spawn(registry.test_stop.fire, environment=None) for _ in range(50)]
    gevent.joinall(fires, raise_error=True)
    assert registry.error_count == 50


def test_users_keep_firing_while_a_thread_backed_listener_blocks_in_a_real_call() -> None:
    """A listener of a ``threads=True`` pool sleeps in real, unpatched ``time.sleep`` calls
    until the users fired 100 more requests: that ends only if the hub runs meanwhile."""
    real_sleep = gevent.monkey.get_original("time", "sleep")
    registry = Events()
    pool = ListenerPool(size=1, threads=True, name="database writer")
    fires = 0
    seen: dict[str, int] = {}

    def count_request(**kwargs: Any) -> None:
        nonlocal fires
        fires += 1

    def write_to_a_blocking_database(**kwargs: Any) -> None:
        seen["fires_at_start"] = fires
        for _ in range(20_000):  # at most 20,000 real sleeps of 1 ms
            if fires >= seen["fires_at_start"] + 100:
                break
            real_sleep(0.001)
        seen["fires_at_end"] = fires

    registry.request.add_listener(count_request)
    registry.test_stop.add_listener(write_to_a_blocking_database, spawn=pool)

    def user() -> None:
        while "fires_at_end" not in seen:
            registry.request.fire(**REQUEST_PAYLOAD)
            gevent.sleep(0)

    registry.test_stop.fire(environment=None)
    users = [gevent.spawn(user) for _ in range(3)]
    assert pool.close(timeout=60)
    gevent.joinall(users, timeout=60, raise_error=True)
    assert seen["fires_at_end"] - seen["fires_at_start"] >= 100
    assert (pool.stats.submitted, pool.stats.completed) == (1, 1)
