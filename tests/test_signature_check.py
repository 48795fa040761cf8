"""The registration-time check that a listener can take what its hook passes."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from locust_events import EventHook, Events


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


def test_a_listener_requiring_a_parameter_never_passed_is_rejected(
    worker_connect: EventHook,
) -> None:
    def on_connect(client_id: str, host: str, **kwargs: Any) -> None:
        pass

    with pytest.raises(TypeError) as raised:
        worker_connect.add_listener(on_connect)
    message = str(raised.value)
    assert "on_connect" in message
    assert "'worker_connect'" in message
    assert "'host'" in message
    assert "default value" in message
    assert len(worker_connect) == 0


def test_a_listener_without_kwargs_that_misses_a_passed_name_is_rejected(
    registry: Events,
) -> None:
    def on_request(request_type: str, name: str, response_time: float) -> None:
        pass

    with pytest.raises(TypeError, match=r"on_request.*'request'.*'context'.*\*\*kwargs"):
        registry.request.add_listener(on_request)


def test_a_required_positional_only_parameter_is_rejected(worker_connect: EventHook) -> None:
    def on_connect(client_id: str, /, **kwargs: Any) -> None:
        pass

    with pytest.raises(TypeError, match="positional-only"):
        worker_connect.add_listener(on_connect)


def test_bound_methods_are_checked_without_self(worker_connect: EventHook) -> None:
    class Tracker:
        def on_connect(self, client_id: str) -> None:
            pass

        def on_anything(self, needs_this: str) -> None:
            pass

    worker_connect.add_listener(Tracker().on_connect)
    with pytest.raises(TypeError, match="needs_this"):
        worker_connect.add_listener(Tracker().on_anything)


def test_callable_objects_and_partials_are_checked(worker_connect: EventHook) -> None:
    class Listener:
        def __call__(self, client_id: str, **kwargs: Any) -> None:
            pass

    def with_prefix(prefix: str, client_id: str) -> None:
        pass

    worker_connect.add_listener(Listener())
    worker_connect.add_listener(functools.partial(with_prefix, "worker"))
    with pytest.raises(TypeError, match="'prefix'"):
        worker_connect.add_listener(with_prefix)


def test_a_listener_whose_signature_cannot_be_read_is_accepted(registry: Events) -> None:
    registry.reset_stats.add_listener(print)
    registry.worker_connect.add_listener(dict)


def test_a_hook_passing_nothing_rejects_a_listener_with_a_required_parameter(
    registry: Events,
) -> None:
    registry.reset_stats.add_listener(lambda: None)
    with pytest.raises(TypeError, match="'reset_stats' never passes"):
        registry.reset_stats.add_listener(lambda stats: None)


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
