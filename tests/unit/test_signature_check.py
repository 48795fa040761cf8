"""The registration-time check that a listener can take what its hook passes."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from locust_events import EventHook, Events
from locust_events._signature import SignatureProblem, examine_listener_signature

from .conftest import REQUEST_PAYLOAD


@pytest.fixture
def worker_connect() -> EventHook:
    return EventHook("worker_connect", passes=("client_id",))


def spec_request_listener(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    exception: Exception | None = None,
    **kwargs: Any,
) -> None:
    pass


def test_the_spec_request_listener_is_accepted(registry: Events) -> None:
    registry.request.add_listener(spec_request_listener)


def test_a_listener_taking_only_kwargs_is_accepted(registry: Events) -> None:
    registry.request.add_listener(lambda **kwargs: None)


def test_a_listener_taking_exactly_the_declared_names_is_accepted(
    worker_connect: EventHook,
) -> None:
    worker_connect.add_listener(lambda client_id: None)


def test_a_parameter_with_a_default_that_is_never_passed_is_accepted(
    worker_connect: EventHook,
) -> None:
    worker_connect.add_listener(lambda client_id, retries=3: None)


def undeclared_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The warnings logged about listeners requiring names their hook does not declare."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "locust_events" and "does not declare" in record.getMessage()
    ]


def test_a_listener_requiring_an_undeclared_name_is_accepted_with_one_warning(
    worker_connect: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    def on_connect_with_host(client_id: str, host: str, **kwargs: Any) -> None:
        pass

    for _ in range(3):  # as a listener registered for every user is
        worker_connect.add_listener(on_connect_with_host)
    assert len(worker_connect) == 3
    [warning] = undeclared_warnings(caplog)
    assert warning == (
        f"Listener {__name__}.test_a_listener_requiring_an_undeclared_name_is_accepted_with_"
        "one_warning.<locals>.on_connect_with_host added to hook 'worker_connect': it requires "
        "'host', which 'worker_connect' does not declare: the fires must pass it (as a custom "
        "client's own fires can); a fire without it fails this listener, one listener error "
        "as on Locust. The hook declares: 'client_id'. For fires without it: give it a default "
        "value, or take **kwargs and read it with kwargs.get()."
    )


def test_fires_passing_the_undeclared_name_call_the_listener_and_others_fail_it_once_each(
    registry: Events,
) -> None:
    calls: list[tuple[str, int]] = []

    def on_grpc_request(name: str, grpc_status: int) -> None:
        calls.append((name, grpc_status))

    registry.request.add_listener(on_grpc_request)
    registry.request.fire(**REQUEST_PAYLOAD, grpc_status=0)  # the custom client's fire
    assert calls == [("/api/data", 0)]
    assert registry.error_count == 0
    registry.request.fire(**REQUEST_PAYLOAD)  # an HTTP user's fire
    registry.request.fire(**REQUEST_PAYLOAD, grpc_status=14)
    assert calls == [("/api/data", 0), ("/api/data", 14)]
    assert registry.request.error_count == 1


def test_an_undeclared_name_close_to_a_declared_one_is_pointed_out(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    def on_request_misspelt(name: str, reponse_time: float) -> None:
        pass

    registry.request.add_listener(on_request_misspelt)
    [warning] = undeclared_warnings(caplog)
    assert "(a misspelling? 'reponse_time' for 'response_time')" in warning


def test_a_listener_without_kwargs_is_called_with_only_the_names_it_takes(
    registry: Events,
) -> None:
    calls: list[tuple[object, ...]] = []

    def on_request(request_type: str, name: str, response_time: float) -> None:
        calls.append((request_type, name, response_time))

    registry.request.add_listener(on_request)
    registry.request.fire(**REQUEST_PAYLOAD)
    assert calls == [("GET", "/api/data", 12.5)]
    assert registry.error_count == 0


def test_a_filtered_listener_gets_whichever_of_its_names_each_fire_passes(
    registry: Events,
) -> None:
    calls: list[dict[str, object]] = []

    def on_request(
        request_type: str, name: str, response_time: float = 0.0, url: str | None = "unset"
    ) -> None:
        calls.append({"request_type": request_type, "name": name, "url": url})

    registry.request.add_listener(on_request)
    # A custom client fires only some names; another fire passes them through a mapping
    # in another order; a third passes everything.
    registry.request.fire(request_type="grpc", name="Get", response_time=1.0)
    registry.request.fire(**{"name": "Put", "url": "/put", "request_type": "grpc", "x": 1})
    registry.request.fire(**REQUEST_PAYLOAD)
    registry.request.fire(request_type="grpc", name="Get", response_time=1.0)
    assert calls == [
        {"request_type": "grpc", "name": "Get", "url": "unset"},
        {"request_type": "grpc", "name": "Put", "url": "/put"},
        {"request_type": "GET", "name": "/api/data", "url": "http://127.0.0.1/api/data"},
        {"request_type": "grpc", "name": "Get", "url": "unset"},
    ]


def test_callable_objects_and_bound_methods_are_filtered_too(registry: Events) -> None:
    calls: list[tuple[str, object]] = []

    class Counter:
        def __call__(self, name: str) -> None:
            calls.append(("object", name))

        def on_request(self, response_time: float, name: str) -> None:
            calls.append(("method", (name, response_time)))

    registry.request.add_listener(Counter())
    registry.request.add_listener(Counter().on_request)
    registry.request.fire(**REQUEST_PAYLOAD)
    registry.request.fire(request_type="grpc", name="Get", response_time=2.0)
    assert calls == [
        ("object", "/api/data"),
        ("method", ("/api/data", 12.5)),
        ("object", "Get"),
        ("method", ("Get", 2.0)),
    ]


def test_only_a_listener_taking_some_of_the_names_is_wrapped(registry: Events) -> None:
    def every_name(
        request_type, name, response_time, response_length, exception, context, start_time,
        url, response, extra=None,
    ):  # fmt: skip
        pass

    def any_name(**kwargs: Any) -> None:
        pass

    def some_names(request_type: str, name: str) -> None:
        pass

    for listener in (every_name, any_name, some_names):
        registry.request.add_listener(listener)
    assert registry.request._listeners[:2] == (every_name, any_name)
    filtered = registry.request._listeners[2]
    assert filtered.__wrapped__ is some_names
    assert filtered.takes == {"request_type", "name"}
    assert registry.request.listeners == (every_name, any_name, some_names)
    registry.request.remove_listener(some_names)
    assert registry.request._listeners == (every_name, any_name)


def test_an_error_in_a_filtered_listener_names_the_listener(registry: Events) -> None:
    failures: list[object] = []
    registry.on_listener_error(lambda hook, listener, error: failures.append(listener))

    def on_start(environment: object) -> None:
        raise ValueError("broken")

    registry.quitting.add_listener(on_start)
    registry.quitting.fire(environment=None, exit_code=0)
    assert failures == [on_start]
    registry.strict = True
    with pytest.raises(ValueError, match="broken"):
        registry.quitting.fire(environment=None, exit_code=0)


def test_a_spawned_filtered_listener_gets_only_its_names(registry: Events) -> None:
    calls: list[object] = []

    def on_usage(environment: object, cpu_usage: float) -> None:
        calls.append((environment, cpu_usage))

    registry.usage_monitor.add_listener(on_usage, spawn=True)
    registry.usage_monitor.fire(environment="env", cpu_usage=5.0, memory_usage=1)
    assert registry.join(10)
    assert calls == [("env", 5.0)]
    assert registry.error_count == 0


def measure_names(
    request_type, name, response_length, context, exception, start_time, response_time
):  # fmt: skip
    """The seven names Locust's own ``measure()`` passes, without ``**kwargs``."""


@pytest.mark.parametrize(
    ("hook_name", "listener", "payload"),
    [
        ("quitting", lambda environment: None, {"environment": None}),
        (
            "cpu_warning",
            lambda environment, cpu_usage: None,
            {"environment": None, "cpu_usage": 95.0},
        ),
        (
            "usage_monitor",
            lambda environment, cpu_usage, memory_usage: None,
            {"environment": None, "cpu_usage": 5.0, "memory_usage": 1024},
        ),
        (
            "request",
            lambda request_type, name, response_time, response_length: None,
            {"request_type": "grpc", "name": "Get", "response_time": 1.0, "response_length": 0},
        ),
        ("request", measure_names, REQUEST_PAYLOAD),
    ],
    ids=["quitting", "cpu_warning", "usage_monitor", "custom client", "measure"],
)
def test_listeners_locust_calls_fine_are_accepted_and_called(
    registry: Events, hook_name: str, listener: Any, payload: dict[str, Any]
) -> None:
    registry.strict = True
    hook = registry.hooks[hook_name]
    hook.add_listener(listener)
    hook.fire(**payload)


def test_a_required_positional_only_parameter_is_rejected(worker_connect: EventHook) -> None:
    def on_connect(client_id: str, /, **kwargs: Any) -> None:
        pass

    with pytest.raises(TypeError, match="positional-only"):
        worker_connect.add_listener(on_connect)


def test_bound_methods_are_checked_without_self(
    worker_connect: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    class Tracker:
        def on_connect(self, client_id: str) -> None:
            pass

        def on_anything(self, needs_this: str) -> None:
            pass

    worker_connect.add_listener(Tracker().on_connect)
    assert undeclared_warnings(caplog) == []
    worker_connect.add_listener(Tracker().on_anything)
    [warning] = undeclared_warnings(caplog)
    assert "it requires 'needs_this', which" in warning


def test_callable_objects_and_partials_are_checked(
    worker_connect: EventHook, caplog: pytest.LogCaptureFixture
) -> None:
    class Listener:
        def __call__(self, client_id: str, **kwargs: Any) -> None:
            pass

        def with_prefix(self, prefix: str, client_id: str) -> None:
            pass

    worker_connect.add_listener(Listener())
    worker_connect.add_listener(functools.partial(Listener().with_prefix, "worker"))
    assert undeclared_warnings(caplog) == []
    for _ in range(2):  # a new object each time: warned once all the same
        worker_connect.add_listener(functools.partial(Listener().with_prefix))
    [warning] = undeclared_warnings(caplog)
    assert "it requires 'prefix', which" in warning


def test_a_listener_whose_signature_cannot_be_read_is_accepted(registry: Events) -> None:
    registry.reset_stats.add_listener(print)
    registry.worker_connect.add_listener(dict)


def test_a_hook_passing_nothing_warns_of_a_listener_with_a_required_parameter(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    registry.reset_stats.add_listener(lambda: None)
    registry.reset_stats.add_listener(lambda stats: None)
    [warning] = undeclared_warnings(caplog)
    assert "'reset_stats' does not declare" in warning
    assert "The hook declares: nothing" in warning
    registry.reset_stats.fire()
    assert registry.reset_stats.error_count == 1


def test_a_hook_that_declares_nothing_accepts_any_callable(hook: EventHook) -> None:
    hook.add_listener(lambda a, b, c: None)
    hook.add_listener(lambda: None)
    assert len(hook) == 2


def test_every_registry_hook_accepts_a_listener_taking_its_declared_names(
    registry: Events,
) -> None:
    for name, hook in registry.hooks.items():
        assert hook.passes is not None, name
        names = sorted(hook.passes)
        listener = eval(f"lambda {', '.join(names)}: None")
        hook.add_listener(listener)
        hook.fire(**dict.fromkeys(names))
    assert registry.error_count == 0


def _positional_user_and_tag(user: Any, /, tag: str) -> None:
    pass


def test_the_check_gives_each_problem_and_its_fix_as_data() -> None:
    check = examine_listener_signature(
        "test_start", frozenset({"environment"}), _positional_user_and_tag
    )
    assert check.problems == (
        SignatureProblem(
            problem="it requires positional-only parameter(s) 'user', but hooks pass keyword "
            "arguments only",
            fix="make them ordinary parameters",
        ),
    )
    assert check.requires_undeclared == ("tag",)
    assert check.passes_text == "'environment'"


def test_the_error_add_listener_raises_is_built_from_the_problems_and_fixes(
    registry: Events,
) -> None:
    with pytest.raises(TypeError) as raised:
        registry.test_start.add_listener(_positional_user_and_tag)
    assert str(raised.value) == (
        f"Cannot add listener {_positional_user_and_tag.__module__}._positional_user_and_tag"
        "(user: 'Any', /, tag: 'str') -> 'None' to hook 'test_start': "
        "it requires positional-only parameter(s) 'user', but hooks pass keyword arguments "
        "only; make them ordinary parameters. The hook passes: 'environment'."
    )


def test_an_accepted_listener_has_no_problem_and_says_which_names_it_takes() -> None:
    def on_request(name: str, response_time: float) -> None:
        pass

    check = examine_listener_signature("request", frozenset(REQUEST_PAYLOAD), on_request)
    assert check.problems == ()
    assert check.requires_undeclared == ()
    assert check.takes == {"name", "response_time"}
    nothing_passed = examine_listener_signature("reset_stats", frozenset(), lambda: None)
    assert nothing_passed.passes_text == "nothing"
