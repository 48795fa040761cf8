"""Firing into a spawned listener (the enqueue) and the pool's end-to-end throughput."""

from __future__ import annotations

from collections.abc import Callable

from locust_events import EventHook, ListenerPool
from locust_events.tools.bench import _calls, no_op

from .conftest import Measure


def hook_spawning_into(pool: ListenerPool) -> EventHook:
    hook = EventHook()
    hook.add_listener(no_op, spawn=pool)
    return hook


def test_direct_call_baseline(measure: Measure) -> None:
    measure("spawned listener", "direct call", _calls(no_op), baseline=True)


def test_fire_into_a_synchronous_no_op(measure: Measure) -> None:
    hook = EventHook()
    hook.add_listener(no_op)
    measure("spawned listener", "fire, synchronous no-op listener", _calls(hook.fire))


def test_fire_into_a_spawned_listener_enqueue_only(measure: Measure) -> None:
    pool = ListenerPool(size=4, maxsize=10_000)

    def let_the_workers_empty_the_queue() -> None:
        pool.join()

    # The setup runs untimed between rounds, so a round times the enqueue alone.
    measure(
        "spawned listener",
        "fire, spawned no-op listener (enqueue)",
        _calls(hook_spawning_into(pool).fire),
        setup=let_the_workers_empty_the_queue,
    )
    pool.close()


def test_pool_throughput(measure: Measure) -> None:
    """Calls through 8 workers, fire included; calls per second = 1 / the time per call."""
    pool = ListenerPool(size=8, maxsize=1_000)
    fire_round = _calls(hook_spawning_into(pool).fire)

    def round_() -> None:
        fire_round()
        pool.join()

    measure("pool throughput", "fire + run through 8 workers", round_, baseline=True)
    pool.close()


def test_pool_throughput_under_a_call_timeout(measure: Measure) -> None:
    """As above, each call under a timeout it never reaches: what timing a call costs."""
    pool = ListenerPool(size=8, maxsize=1_000, timeout=60.0)
    fire_round = _calls(hook_spawning_into(pool).fire)

    def round_() -> None:
        fire_round()
        pool.join()

    measure("pool throughput", "the same, each call under a timeout", round_)
    pool.close()


def _enqueue_with(measure: Measure, queued: int, *, baseline: bool = False) -> None:
    """The enqueue, averaged over filling a new pool's queue from empty to ``queued`` calls
    (nothing yields to its workers meanwhile), with the cycle collector on as in a run."""
    pools: list[ListenerPool] = []
    fire_rounds = queued // 1_000

    def new_pool() -> None:
        for pool in pools:
            pool.close(timeout=0)
        pools[:] = [ListenerPool(size=4, maxsize=queued + 1_000)]
        hook = hook_spawning_into(pools[0])
        hook.fire()
        pools[0].join()  # its workers started
        fills[:] = [_calls(hook.fire)]

    fills: list[Callable[[], None]] = []

    def fill() -> None:
        fire_round = fills[0]
        for _ in range(fire_rounds):
            fire_round()

    measure(
        "enqueue by queue depth",
        f"fire, spawned no-op listener, filling to {queued:,} queued",
        fill,
        baseline=baseline,
        setup=new_pool,
        calls=queued,
        rounds=5 if queued > 10_000 else 100,
    )
    for pool in pools:
        pool.close(timeout=0)


def test_enqueue_with_a_thousand_queued(measure: Measure) -> None:
    _enqueue_with(measure, 1_000, baseline=True)


def test_enqueue_with_a_million_queued(measure: Measure) -> None:
    _enqueue_with(measure, 1_000_000)
