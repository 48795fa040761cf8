"""``EventHook.measure``: one request event per block, timed, with failures recorded."""

from __future__ import annotations

import time
from typing import Any

import gevent
import greenlet
import pytest

from locust_events import Events

from .conftest import Recorder


@pytest.fixture
def request_events(registry: Events) -> Recorder:
    recorder = Recorder()
    registry.request.add_listener(recorder)
    return recorder


def test_measure_fires_once_with_the_response_time_of_the_block(
    registry: Events, request_events: Recorder
) -> None:
    before = time.time()
    with registry.request.measure("grpc", "GetUser", response_length=7) as request_meta:
        gevent.sleep(0.01)
    [call] = request_events.calls
    assert call is not request_meta  # each listener call gets its own kwargs
    assert call["request_type"] == "grpc"
    assert call["name"] == "GetUser"
    assert call["response_length"] == 7
    assert call["exception"] is None
    assert call["context"] == {}
    assert 10.0 <= call["response_time"] < 2000.0
    assert before <= call["start_time"] <= time.time()


def test_measure_records_an_exception_without_reraising_it(
    registry: Events, request_events: Recorder
) -> None:
    error = ConnectionError("refused")
    with registry.request.measure("GET", "/down"):
        raise error
    [call] = request_events.calls
    assert call["exception"] is error


@pytest.mark.parametrize("kind", [greenlet.GreenletExit, KeyboardInterrupt])
def test_measure_fires_then_lets_a_base_exception_propagate(
    registry: Events, request_events: Recorder, kind: type[BaseException]
) -> None:
    with pytest.raises(kind), registry.request.measure("GET", "/"):
        raise kind
    [call] = request_events.calls
    assert call["exception"] is None


def test_keys_the_block_adds_or_changes_are_passed_on(
    registry: Events, request_events: Recorder
) -> None:
    with registry.request.measure("GET", "/") as request_meta:
        request_meta["response_length"] = 1234
        request_meta["name"] = "/renamed"
        request_meta["status_code"] = 201
    [call] = request_events.calls
    assert call["response_length"] == 1234
    assert call["name"] == "/renamed"
    assert call["status_code"] == 201


def test_the_given_context_dict_is_passed_on(registry: Events, request_events: Recorder) -> None:
    context = {"user": "alice"}
    with registry.request.measure("GET", "/", context=context):
        pass
    assert request_events.calls[0]["context"] is context


def test_measure_passes_everything_the_request_hook_declares(registry: Events) -> None:
    received: dict[str, Any] = {}

    def strict_listener(
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: Exception | None,
        context: dict[str, Any],
        start_time: float,
        url: str | None,
        response: object,
    ) -> None:
        received.update(locals())

    registry.request.add_listener(strict_listener)
    registry.strict = True
    with registry.request.measure("GET", "/"):
        pass
    assert received["url"] is None
    assert received["response"] is None


def test_a_failing_listener_does_not_leak_out_of_measure(registry: Events) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("bug")

    registry.request.add_listener(broken)
    with registry.request.measure("GET", "/"):
        pass
    assert registry.error_count == 1
