"""Listeners that fit their hooks: mypy and pyright accept every line."""

from __future__ import annotations

from typing import Any, Protocol

from locust_events import EventHook, Events, ListenerPool, Registration, RequestHandler, events
from locust_events.listeners import QuitListener, RequestListener


@events.request.add_listener
def on_request(
    request_type: str,
    name: str,
    response_time: float | None,
    response_length: int,
    exception: Exception | None = None,
    **kwargs: Any,
) -> None:
    pass


@events.request.add_listener
def takes_everything(**kwargs: Any) -> None:
    pass


@events.quit.add_listener
def on_quit(exit_code: int) -> None:
    pass


@events.usage_monitor.spawn_listener
def on_usage(stats: dict[str, Any], **kwargs: Any) -> None:
    pass


@events.cpu_warning.add_listener
def on_cpu(usage_percent: float, **kwargs: Any) -> None:
    pass


class Reporter:
    def on_test_start(self, environment: Any, **kwargs: Any) -> None:
        pass


events.test_start.add_listener(Reporter().on_test_start, spawn=ListenerPool(size=1))
events.reset_stats.add_listener(lambda: None)

# The decorated name stays callable with the hook's keyword arguments.
on_quit(exit_code=0)

my_event = EventHook("my_event")  # no listener type: any callable
my_event.add_listener(lambda a, b: None)


class OrderListener(Protocol):
    def __call__(self, *, order_id: int, amount: float) -> object: ...


class ShopEvents(Events):
    order_placed: EventHook[OrderListener]


@ShopEvents().order_placed.add_listener
def on_order(order_id: int, amount: float) -> None:
    pass


# The listener protocols type hooks of one's own; the ...Handler names are the same protocols.
quit_hook: EventHook[QuitListener] = EventHook("quit", ("exit_code",))
quit_hook.add_listener(on_quit)
request_handler: RequestHandler = on_request
request_listener: RequestListener = request_handler
registrations: tuple[Registration, ...] = events.request.registrations
