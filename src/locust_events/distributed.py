"""Across Locust's master and workers: custom messages as hooks, listeners placed by process,
and the hook the merged custom metrics are published on.

Needs the ``locust`` extra (importing it switches Locust onto this dispatcher, as
:mod:`locust_events.locust` does). Declare metrics with :mod:`locust_events.metrics`.
"""

from __future__ import annotations

from typing import Any, Protocol

from . import _messages, _placement
from ._hooks import EventHook
from ._metrics_locust import merged_hook
from .locust import events
from .metrics import MetricFigures

__all__ = [
    "MessageListener",
    "MetricsMergedListener",
    "message_hook",
    "metrics_merged",
    "place",
    "send_message",
]


class MessageListener(Protocol):
    """A custom message's listener: Locust's environment and the message (``msg.data``,
    ``msg.node_id``), as Locust's ``register_message`` handlers take them."""

    def __call__(self, *, environment: Any, msg: Any) -> object: ...


class MetricsMergedListener(Protocol):
    """``metrics_merged``: the custom metrics merged so far (per worker and in total)."""

    def __call__(self, *, environment: Any, figures: MetricFigures) -> object: ...


def message_hook(msg_type: str) -> EventHook[MessageListener]:
    """The hook fired for each custom message of ``msg_type`` this process receives.

    Add as many listeners as needed; ``spawn=True`` (or a ``ListenerPool``) runs one in a
    bounded pool, so a slow handler never holds up Locust's messages or heartbeats. A
    ``register_message`` handler for the same type becomes one of its listeners.

    :raises ValueError: ``msg_type`` is not made of letters, digits and underscores.
    """
    hook: EventHook[MessageListener] = _messages.message_hook(msg_type, events)
    return hook


#: Send a custom message through Locust's ``runner.send_message``.
send_message = _messages.send_message

#: ``@place(events.test_start, on="master")``: a listener that runs on the master only
#: (``"workers"``: on the workers only; ``"both"``). A local run runs every one.
place = _placement.place

#: Fired on the master (and in a local run) after each merge of the custom metrics, and a last
#: time at quit, with ``environment`` and ``figures``.
metrics_merged: EventHook[MetricsMergedListener] = merged_hook(events)
