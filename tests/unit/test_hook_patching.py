"""Hooks take attributes of their own, as Locust's do: tests patch ``fire``, code stashes values."""

from __future__ import annotations

from typing import Any
from unittest import mock

from locust_events import EventHook, Events

from .conftest import REQUEST_PAYLOAD, Recorder


def test_mock_patch_object_wraps_fire_and_restores_it(registry: Events) -> None:
    recorder = Recorder()
    hook = registry.heartbeat_received
    hook.add_listener(recorder)
    with mock.patch.object(hook, "fire", wraps=hook.fire) as fire:
        hook.fire(client_id="w1", timestamp=1.0)
        assert fire.call_count == 1
        assert fire.call_args.kwargs == {"client_id": "w1", "timestamp": 1.0}
    assert "fire" not in vars(hook)
    assert type(hook).fire is not fire
    hook.fire(client_id="w1", timestamp=2.0)
    assert [call["timestamp"] for call in recorder.calls] == [1.0, 2.0]


def test_a_patched_fire_also_sees_what_measure_fires(registry: Events) -> None:
    hook = registry.request
    with mock.patch.object(hook, "fire") as fire, hook.measure("grpc", "Get"):
        pass
    assert fire.call_count == 1
    assert fire.call_args.kwargs["name"] == "Get"


def test_instance_attributes_can_be_set_and_deleted(hook: EventHook) -> None:
    hook.owner = "my plugin"  # type: ignore[attr-defined]
    assert hook.owner == "my plugin"  # type: ignore[attr-defined]
    calls: list[dict[str, Any]] = []
    hook.fire = lambda **kwargs: calls.append(kwargs)  # type: ignore[method-assign]
    hook.fire(a=1)
    del hook.fire
    del hook.owner  # type: ignore[attr-defined]
    assert calls == [{"a": 1}]
    assert not hasattr(hook, "owner")
    hook.fire(**REQUEST_PAYLOAD)  # the class's fire again


def test_every_hook_of_a_registry_can_be_patched(registry: Events) -> None:
    for name, hook in registry.hooks.items():
        with mock.patch.object(hook, "fire", wraps=hook.fire) as fire:
            hook.fire(**dict.fromkeys(hook.passes or ()))
        assert fire.call_count == 1, name
