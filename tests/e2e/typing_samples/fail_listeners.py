"""Listeners that cannot fit their hooks: each line marked ``expect-error`` must be flagged."""

from __future__ import annotations

from typing import Any, Protocol

from locust_events import EventHook, Events, RequestHandler, events
from locust_events.listeners import QuitListener


def missing_names(request_type: str, name: str) -> None:
    pass


def wrong_type(exit_code: str) -> None:
    pass


def never_passed(exit_code: int, host: str) -> None:
    pass


def positional_only(exit_code: int, /) -> None:
    pass


def never_without_duration(name: str, response_time: float, **kwargs: Any) -> None:
    pass


events.request.add_listener(missing_names)  # expect-error
events.quit.add_listener(wrong_type)  # expect-error
events.quit.add_listener(never_passed)  # expect-error
events.quit.add_listener(positional_only)  # expect-error
events.reset_stats.add_listener(lambda stats: None)  # expect-error
events.request.add_listener(never_without_duration)  # expect-error


class OrderListener(Protocol):
    def __call__(self, *, order_id: int, amount: float) -> object: ...


class ShopEvents(Events):
    order_placed: EventHook[OrderListener]


def on_order(order_id: str, **kwargs: Any) -> None:
    pass


ShopEvents().order_placed.add_listener(on_order)  # expect-error


# A handler of Locust's request event is a keyword listener, not a positional callable.
request_handler: RequestHandler = missing_names  # expect-error
quit_hook: EventHook[QuitListener] = EventHook("quit", ("exit_code",))
quit_hook.add_listener(wrong_type)  # expect-error
