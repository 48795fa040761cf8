"""``fire`` with Locust's nine request keyword arguments, beside direct calls of the listener."""

from __future__ import annotations

from typing import Any

import pytest

from locust_events import EventHook, Events

from .conftest import CALLS_PER_ROUND, Measure

ROUND = range(CALLS_PER_ROUND)
CONTEXT: dict[str, Any] = {}


def no_op(**kwargs: Any) -> None:
    pass


def direct_calls(listeners: int) -> Any:
    listener = no_op

    if listeners == 1:

        def round_() -> None:
            for _ in ROUND:
                listener(
                    request_type="GET",
                    name="/api",
                    response_time=12.5,
                    response_length=512,
                    exception=None,
                    context=CONTEXT,
                    start_time=1.0,
                    url="/api",
                    response=None,
                )

        return round_

    def round_many() -> None:
        for _ in ROUND:
            for _ in range(listeners):
                listener(
                    request_type="GET",
                    name="/api",
                    response_time=12.5,
                    response_length=512,
                    exception=None,
                    context=CONTEXT,
                    start_time=1.0,
                    url="/api",
                    response=None,
                )

    return round_many


def fires(hook: Any) -> Any:
    fire = hook.fire

    def round_() -> None:
        for _ in ROUND:
            fire(
                request_type="GET",
                name="/api",
                response_time=12.5,
                response_length=512,
                exception=None,
                context=CONTEXT,
                start_time=1.0,
                url="/api",
                response=None,
            )

    return round_


def hook_with(listeners: int, hook_class: Any = EventHook) -> Any:
    hook = hook_class()
    for _ in range(listeners):
        hook.add_listener(no_op)
    return hook


@pytest.mark.parametrize("listeners", [1, 10])
def test_direct_call(measure: Measure, listeners: int) -> None:
    measure(f"{listeners} listener(s)", "direct call(s)", direct_calls(listeners), baseline=True)


@pytest.mark.parametrize("listeners", [0, 1, 10])
def test_fire(measure: Measure, listeners: int) -> None:
    group = f"{max(listeners, 1)} listener(s)"
    measure(group, f"locust_events fire, {listeners} listener(s)", fires(hook_with(listeners)))


@pytest.mark.parametrize("listeners", [1, 10])
def test_locust_fire(measure: Measure, listeners: int) -> None:
    event = pytest.importorskip("locust.event")
    hook = hook_with(listeners, event.EventHook)
    measure(f"{listeners} listener(s)", "Locust's EventHook.fire", fires(hook))


def test_blinker_send(measure: Measure) -> None:
    blinker = pytest.importorskip("blinker")
    signal = blinker.Signal()

    def receiver(sender: Any, **kwargs: Any) -> None:
        pass

    signal.connect(receiver)
    send = signal.send

    def round_() -> None:
        for _ in ROUND:
            send(
                None,
                request_type="GET",
                name="/api",
                response_time=12.5,
                response_length=512,
                exception=None,
                context=CONTEXT,
                start_time=1.0,
                url="/api",
                response=None,
            )

    measure("1 listener(s)", "blinker Signal.send", round_)


def test_measure_around_an_empty_block(measure: Measure) -> None:
    hook = hook_with(1)
    measure_block = hook.measure

    def round_() -> None:
        for _ in ROUND:
            with measure_block("GET", "/api"):
                pass

    measure("1 listener(s)", "locust_events measure(), empty block", round_)


def test_fire_while_profiling(measure: Measure) -> None:
    registry = Events()
    registry.request.add_listener(no_op)
    registry.start_profiling()
    measure(
        "1 listener(s)", "locust_events fire, 1 listener, profiling on", fires(registry.request)
    )
    registry.stop_profiling()
