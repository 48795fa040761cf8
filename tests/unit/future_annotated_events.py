"""A custom registry declared with ``from __future__ import annotations`` (string annotations)."""

from __future__ import annotations

from typing import Protocol

import locust_events
from locust_events import DeprecatedEventHook, EventHook, Events, declare_hook


class RefundListener(Protocol):
    def __call__(self, *, order_id: int, amount: float) -> object: ...


class FutureShopEvents(Events):
    order_placed: EventHook = declare_hook("order_id", "amount")
    """Fired when a simulated user places an order."""

    cart_emptied: EventHook
    """Declared by annotation alone: accepts any listener."""

    qualified: locust_events.EventHook
    """Annotated through the module."""

    old_checkout: DeprecatedEventHook
    """A deprecated hook declared by annotation."""

    refund_issued: EventHook[RefundListener]
    """Its listener protocol declares what it passes."""

    not_a_hook: int = 3
