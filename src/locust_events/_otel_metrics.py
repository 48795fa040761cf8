"""The pools' figures as OpenTelemetry metrics, with Locust's ``--otel``.

Observable instruments only: their callbacks read each pool's :class:`PoolStats` when the
SDK collects (every export interval), so a fire costs nothing more. Imported only when
OpenTelemetry is configured; the package itself never needs the OpenTelemetry API.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import Any, Final

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from ._events import Events
from ._pool import ListenerPool, PoolStats

__all__ = ["METER_NAME", "observe_pools"]

#: The name of the meter the instruments belong to.
METER_NAME: Final = "locust_events"

#: The registries observed already: observing twice would report every figure twice.
_observed: weakref.WeakSet[Events] = weakref.WeakSet()


def observe_pools(registry: Events, meter_provider: Any = None) -> bool:
    """Report every pool of ``registry`` (those it has when the SDK collects) through
    ``meter_provider``, by default the global one Locust's ``--otel`` set up. Returns False
    when the registry is observed already.

    The instruments, each with the pool's name as attribute ``pool``:

    - ``locust_events.pool.queue.size`` (gauge): events waiting to start, ``PoolStats.pending``;
    - ``locust_events.pool.queue.capacity`` (gauge): the pool's ``maxsize``;
    - ``locust_events.pool.calls`` (counter), attribute ``outcome``: ``completed``, ``failed``
      (raised, or their worker was lost) or ``timed_out``; the three add up to the events ended;
    - ``locust_events.pool.dropped`` (counter), attribute ``reason``: ``full`` (no room under
      ``on_full="drop"``) or ``closed`` (discarded as the pool closed);
    - ``locust_events.pool.users.waited`` (counter): fires that waited for room;
    - ``locust_events.pool.users.time_waited`` (counter, seconds): the time they waited.
    """
    if registry in _observed:
        return False
    _observed.add(registry)
    meter = (meter_provider or metrics.get_meter_provider()).get_meter(METER_NAME)

    def figures() -> Iterator[tuple[ListenerPool, PoolStats]]:
        for pool in sorted(registry.pools, key=lambda pool: pool.name):
            yield pool, pool.stats

    def queue_size(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(stats.pending, {"pool": pool.name}) for pool, stats in figures()]

    def capacity(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(pool.maxsize, {"pool": pool.name}) for pool, _ in figures()]

    def calls(options: CallbackOptions) -> Iterable[Observation]:
        observed = []
        for pool, stats in figures():
            for outcome, count in (
                ("completed", stats.completed),
                ("failed", stats.failed - stats.timed_out),
                ("timed_out", stats.timed_out),
            ):
                observed.append(Observation(count, {"pool": pool.name, "outcome": outcome}))
        return observed

    def dropped(options: CallbackOptions) -> Iterable[Observation]:
        observed = []
        for pool, stats in figures():
            for reason, count in (
                ("full", stats.dropped - stats.discarded),
                ("closed", stats.discarded),
            ):
                observed.append(Observation(count, {"pool": pool.name, "reason": reason}))
        return observed

    def waited(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(stats.waited, {"pool": pool.name}) for pool, stats in figures()]

    def time_waited(options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(stats.time_waited, {"pool": pool.name}) for pool, stats in figures()]

    prefix = "locust_events.pool"
    meter.create_observable_gauge(
        f"{prefix}.queue.size", [queue_size], unit="{event}", description="Events waiting to start"
    )
    meter.create_observable_gauge(
        f"{prefix}.queue.capacity", [capacity], unit="{event}", description="The pool's maxsize"
    )
    meter.create_observable_counter(
        f"{prefix}.calls", [calls], unit="{event}", description="Events ended, by outcome"
    )
    meter.create_observable_counter(
        f"{prefix}.dropped", [dropped], unit="{event}", description="Events dropped, by reason"
    )
    meter.create_observable_counter(
        f"{prefix}.users.waited",
        [waited],
        unit="{fire}",
        description="Fires (simulated users) that waited for room in the pool",
    )
    meter.create_observable_counter(
        f"{prefix}.users.time_waited",
        [time_waited],
        unit="s",
        description="Seconds fires (simulated users) waited for room in the pool",
    )
    return True
