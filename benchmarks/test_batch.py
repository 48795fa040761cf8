"""Batch listeners: the fire's cost per event, and events delivered per second.

The fire into a batch listener only appends the event to its batch; the pool runs one call
per ``max_size`` events. The throughput group times fire plus delivery of batches of 1,000
events to a no-op batch listener, one core: events per second = 1 / time per event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from locust_events import EventHook, ListenerPool
from locust_events.tools.bench import _calls, no_op

from .conftest import Measure


def no_op_batch(batch: list[Mapping[str, Any]]) -> None:
    """The batch listener: takes the batch, does nothing with it."""


def read_two_fields(batch: list[Mapping[str, Any]]) -> None:
    """A listener that writes rows: reads two fields of each event."""
    for event in batch:
        event["name"], event["response_time"]


def copy_each(batch: list[Mapping[str, Any]]) -> None:
    """A listener that forwards each event as a dict of its own."""
    for event in batch:
        dict(event)


def hook_batching_into(
    pool: ListenerPool,
    max_size: int = 1_000,
    listener: Callable[[list[Mapping[str, Any]]], None] = no_op_batch,
) -> EventHook:
    hook = EventHook()
    hook.add_batch_listener(listener, max_size=max_size, max_wait=60.0, pool=pool)
    return hook


def test_direct_call_baseline(measure: Measure) -> None:
    measure("batch listener", "direct call of the request listener", _calls(no_op), baseline=True)


def test_fire_into_a_batch_listener(measure: Measure) -> None:
    pool = ListenerPool(size=1, maxsize=100_000)
    hook = hook_batching_into(pool)

    def deliver_what_the_round_fired() -> None:
        pool.join()

    # The setup runs untimed between rounds, so a round times the fires (appends and one
    # hand-over of a full batch) alone.
    measure(
        "batch listener",
        "fire into a batch listener (per event)",
        _calls(hook.fire),
        setup=deliver_what_the_round_fired,
    )
    pool.close()


def test_events_delivered_per_second(measure: Measure) -> None:
    """A round fires one batch of 1,000 events and delivers it (one worker): the time per
    call printed is the time per event, fire included; events per second = 1 / that."""
    pool = ListenerPool(size=1, maxsize=100_000)
    fire_round = _calls(hook_batching_into(pool).fire)

    def round_() -> None:
        fire_round()
        pool.join()

    measure("batch throughput", "1,000 events fired and delivered", round_, baseline=True)
    pool.close()


@pytest.mark.parametrize(
    ("listener", "label"),
    [
        (read_two_fields, "the same, the listener reading two fields of each"),
        (copy_each, "the same, the listener copying each into a dict"),
    ],
)
def test_events_delivered_per_second_to_a_listener_that_uses_them(
    measure: Measure, listener: Callable[[list[Mapping[str, Any]]], None], label: str
) -> None:
    """What a listener pays to use the events it gets, against the no-op's round."""
    pool = ListenerPool(size=1, maxsize=100_000)
    fire_round = _calls(hook_batching_into(pool, listener=listener).fire)

    def round_() -> None:
        fire_round()
        pool.join()

    measure("batch throughput", label, round_)
    pool.close()
