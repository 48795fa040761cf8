"""``measure()``: one request event per block, timed, with failures recorded.

The tests of the ``Measurement`` itself run on each calling loop (the ``calling_loop`` fixture);
those of ``EventHook.measure``'s arguments and of a registry's request hook, on the loop picked.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import gevent
import greenlet
import pytest

from locust_events import Events

from .conftest import CallingLoop, Recorder


@pytest.fixture
def request_events() -> Recorder:
    return Recorder()


@pytest.fixture
def request_hook(calling_loop: CallingLoop, request_events: Recorder) -> Any:
    """A request hook of the loop under test, ``request_events`` its listener."""
    return calling_loop.hook(request_events, name="request")


def test_measure_fires_once_with_the_response_time_of_the_block(
    request_hook: Any, request_events: Recorder
) -> None:
    before = time.time()
    started = time.perf_counter()
    with request_hook.measure("grpc", "GetUser", response_length=7) as request_meta:
        gevent.sleep(0.01)
    # The block's own span bounds the response time, however slow this machine is.
    elapsed_ms = (time.perf_counter() - started) * 1000
    [call] = request_events.calls
    assert call is not request_meta  # each listener call gets its own kwargs
    assert call["request_type"] == "grpc"
    assert call["name"] == "GetUser"
    assert call["response_length"] == 7
    assert call["exception"] is None
    assert call["context"] == {}
    assert 10.0 <= call["response_time"] <= elapsed_ms
    assert before <= call["start_time"] <= time.time()


def test_measure_records_an_exception_without_reraising_it(
    request_hook: Any, request_events: Recorder
) -> None:
    error = ConnectionError("refused")
    with request_hook.measure("GET", "/down"):
        raise error
    [call] = request_events.calls
    assert call["exception"] is error


@pytest.mark.parametrize("kind", [greenlet.GreenletExit, KeyboardInterrupt])
def test_measure_fires_then_lets_a_base_exception_propagate(
    request_hook: Any, request_events: Recorder, kind: type[BaseException]
) -> None:
    with pytest.raises(kind), request_hook.measure("GET", "/"):
        raise kind
    [call] = request_events.calls
    assert call["exception"] is None


def test_keys_the_block_adds_or_changes_are_passed_on(
    request_hook: Any, request_events: Recorder
) -> None:
    with request_hook.measure("GET", "/") as request_meta:
        request_meta["response_length"] = 1234
        request_meta["name"] = "/renamed"
        request_meta["status_code"] = 201
    [call] = request_events.calls
    assert call["response_length"] == 1234
    assert call["name"] == "/renamed"
    assert call["status_code"] == 201


def test_the_given_context_dict_is_passed_on(request_hook: Any, request_events: Recorder) -> None:
    context = {"user": "alice"}
    with request_hook.measure("GET", "/", context=context):
        pass
    assert request_events.calls[0]["context"] is context


#: The keys Locust 2.47's own ``EventHook.measure`` fires with, in its order (``event.py``);
#: ``tests/e2e`` checks this list against Locust itself.
LOCUST_MEASURE_KEYS = [
    "request_type",
    "name",
    "response_length",
    "context",
    "exception",
    "start_time",
    "response_time",
]


def test_measure_passes_the_keys_locusts_own_measure_passes(
    request_hook: Any, request_events: Recorder
) -> None:
    with request_hook.measure("GET", "/"):
        pass
    with request_hook.measure("GET", "/down"):
        raise ConnectionError("refused")
    assert [list(call) for call in request_events.calls] == [LOCUST_MEASURE_KEYS] * 2


def test_a_listener_requiring_url_fails_on_measure_fires_as_on_locusts(registry: Events) -> None:
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
        called.append(url)

    called: list[str | None] = []
    registry.request.add_listener(strict_listener)
    with registry.request.measure("GET", "/"):
        pass
    assert called == []
    assert registry.request.error_count == 1


@pytest.mark.parametrize("context", [None, {}])
def test_an_empty_or_missing_context_becomes_a_new_dict(
    request_hook: Any, request_events: Recorder, context: dict[str, Any] | None
) -> None:
    with request_hook.measure("GET", "/", context=context):
        pass
    [call] = request_events.calls
    assert call["context"] == {}
    assert call["context"] is not context


def test_a_failing_listener_does_not_leak_out_of_measure(calling_loop: CallingLoop) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("bug")

    request_hook = calling_loop.hook(broken)
    with request_hook.measure("GET", "/"):
        pass
    assert [listener for listener, _ in request_hook.failures] == [broken]


def test_measure_takes_its_arguments_by_name_too(registry: Events) -> None:
    request_events = Recorder()
    registry.request.add_listener(request_events)
    context = {"user": "alice"}
    with registry.request.measure(
        name="/by-name", request_type="POST", context=context, response_length=3
    ):
        pass
    with registry.request.measure("GET", "/positional", 5, context):
        pass
    by_name, positional = request_events.calls
    assert (by_name["request_type"], by_name["name"], by_name["response_length"]) == (
        "POST",
        "/by-name",
        3,
    )
    assert by_name["context"] is context
    assert (positional["name"], positional["response_length"]) == ("/positional", 5)
    assert positional["context"] is context


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("GET",), {}),
        ((), {"name": "/"}),
        (("GET", "/"), {"name": "/again"}),
        (("GET", "/"), {"status_code": 200}),
        (("GET", "/", 0, None, "extra"), {}),
    ],
)
def test_measure_refuses_arguments_it_does_not_take(
    registry: Events, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(TypeError):
        registry.request.measure(*args, **kwargs)


def test_measure_works_in_an_exit_stack(request_hook: Any, request_events: Recorder) -> None:
    error = ConnectionError("refused")
    with contextlib.ExitStack() as stack:
        request_meta = stack.enter_context(request_hook.measure("GET", "/stacked"))
        request_meta["status_code"] = 503
        raise error
    [call] = request_events.calls
    assert call["name"] == "/stacked"
    assert call["status_code"] == 503
    assert call["exception"] is error


def test_enter_and_exit_called_by_hand_fire_once(
    request_hook: Any, request_events: Recorder
) -> None:
    measurement = request_hook.measure("GET", "/by-hand")
    request_meta = measurement.__enter__()
    assert request_meta["name"] == "/by-hand"
    assert measurement.__exit__(None, None, None) is False
    assert type(measurement).__exit__(measurement, ValueError, ValueError("x"), None) is True
    first, second = request_events.calls
    assert first["exception"] is None
    assert isinstance(second["exception"], ValueError)


def test_enter_and_exit_refuse_what_is_not_a_measurement(calling_loop: CallingLoop) -> None:
    measurement_type = calling_loop.Measurement
    # The compiled methods check their instance (TypeError); the pure ones find no attribute.
    with pytest.raises((TypeError, AttributeError)):
        measurement_type.__enter__(object())  # type: ignore[arg-type]
    with pytest.raises((TypeError, AttributeError)):
        measurement_type.__exit__(object(), None, None, None)  # type: ignore[arg-type]


def test_each_block_fires_its_own_names_when_they_change_from_block_to_block(
    request_hook: Any, request_events: Recorder
) -> None:
    names = ["/a", "/b", "/a", "".join(["/", "a"]), "/c"]  # the fourth: equal, not the same
    seen = []
    for name in names:
        with request_hook.measure("GET", name) as request_meta:
            seen.append(request_meta)
    with (
        request_hook.measure("POST", "/outer") as outer,
        request_hook.measure("PUT", "/inner") as inner,
    ):
        pass
    assert [call["name"] for call in request_events.calls] == [*names, "/inner", "/outer"]
    assert [call["request_type"] for call in request_events.calls][-2:] == ["PUT", "POST"]
    assert [meta["name"] for meta in seen] == names
    assert len({id(meta) for meta in [*seen, outer, inner]}) == len(names) + 2
