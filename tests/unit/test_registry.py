"""The ``Events`` registry: its eighteen hooks, subclasses, custom hooks and the global."""

from __future__ import annotations

import ast
import inspect
import itertools
import subprocess
import sys
import textwrap
from typing import Any, Protocol

import pytest

import locust_events
from locust_events import DeprecatedEventHook, EventHook, Events, declare_hook

from .conftest import Recorder
from .future_annotated_events import FutureShopEvents

SPEC_HOOKS = {
    "request",
    "user_error",
    "init",
    "test_start",
    "test_stopping",
    "test_stop",
    "quitting",
    "quit",
    "spawning_complete",
    "worker_report",
    "worker_connect",
    "heartbeat_sent",
    "heartbeat_received",
    "usage_monitor",
    "cpu_warning",
    "reset_stats",
    "init_command_line_parser",
    "report_to_master",
}

PASSES = {
    "request": {
        "request_type",
        "name",
        "response_time",
        "response_length",
        "exception",
        "context",
        "start_time",
        "url",
        "response",
    },
    "user_error": {"user_instance", "exception", "tb"},
    "report_to_master": {"client_id", "data"},
    "worker_report": {"client_id", "data"},
    "worker_connect": {"client_id"},
    "spawning_complete": {"user_count"},
    "init": {"environment", "runner", "web_ui"},
    "init_command_line_parser": {"parser"},
    "test_start": {"environment"},
    "test_stopping": {"environment"},
    "test_stop": {"environment"},
    "reset_stats": set(),
    "quitting": {"environment", "exit_code"},
    "quit": {"exit_code"},
    "cpu_warning": {"environment", "cpu_usage", "usage_percent"},
    "heartbeat_sent": {"client_id", "timestamp"},
    "heartbeat_received": {"client_id", "timestamp"},
    "usage_monitor": {"environment", "cpu_usage", "memory_usage", "stats"},
}


def test_the_registry_has_exactly_the_eighteen_hooks_of_the_spec(registry: Events) -> None:
    assert set(registry.hooks) == SPEC_HOOKS
    for name in SPEC_HOOKS:
        hook = getattr(registry, name)
        assert isinstance(hook, EventHook)
        assert hook.name == name


def test_each_hook_declares_what_its_fires_pass(registry: Events) -> None:
    assert {name: set(hook.passes or ()) for name, hook in registry.hooks.items()} == PASSES


def test_each_hook_is_documented_by_a_docstring_under_its_declaration() -> None:
    tree = ast.parse(textwrap.dedent(inspect.getsource(Events)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    documented = {
        statement.target.id
        for statement, following in itertools.pairwise(body)
        if isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    }
    assert documented >= SPEC_HOOKS


def test_every_registry_has_hook_instances_of_its_own() -> None:
    first, second = Events(), Events()
    recorder = Recorder()
    first.request.add_listener(recorder)
    assert first.request is not second.request
    assert len(second.request) == 0


def test_the_global_events_is_one_module_level_registry() -> None:
    assert isinstance(locust_events.events, Events)
    from locust_events import events

    assert events is locust_events.events


class ShopEvents(Events):
    order_placed: EventHook = declare_hook("order_id", "amount")
    """Fired when a simulated user places an order."""

    cart_emptied: EventHook
    """Declared by annotation alone: accepts any listener."""

    legacy = EventHook
    """Locust's old style: the class itself as the value."""


class SpecialShopEvents(ShopEvents):
    refund_issued: EventHook = declare_hook("order_id")


@pytest.mark.parametrize("registry_class", [ShopEvents, SpecialShopEvents, FutureShopEvents])
def test_a_subclass_keeps_every_inherited_hook(registry_class: type[Events]) -> None:
    registry = registry_class()
    assert set(registry.hooks) >= SPEC_HOOKS
    assert {"order_placed", "cart_emptied"} <= set(registry.hooks)
    registry.request.add_listener(Recorder())


def test_a_subclass_without_the_future_import_gets_its_hooks() -> None:
    registry = SpecialShopEvents()
    assert {"order_placed", "cart_emptied", "legacy", "refund_issued"} <= set(registry.hooks)
    assert registry.refund_issued.passes == frozenset({"order_id"})
    assert registry.cart_emptied.passes is None


def test_a_subclass_with_the_future_import_gets_its_hooks() -> None:
    registry = FutureShopEvents()
    assert {"order_placed", "cart_emptied", "qualified", "old_checkout"} <= set(registry.hooks)
    assert "not_a_hook" not in registry.hooks
    assert registry.order_placed.passes == frozenset({"order_id", "amount"})
    assert isinstance(registry.old_checkout, DeprecatedEventHook)


class RefundListener(Protocol):
    def __call__(self, *, order_id: int, amount: float) -> object: ...


class OpenListener(Protocol):
    def __call__(self, *, order_id: int, **kwargs: Any) -> object: ...


class ProtocolShopEvents(Events):
    refund_issued: EventHook[RefundListener]
    anything_else: EventHook[OpenListener]
    explicit: EventHook[RefundListener] = declare_hook("order_id")


def test_a_listener_protocol_annotation_declares_what_the_hook_passes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = ProtocolShopEvents()
    assert registry.refund_issued.passes == frozenset({"order_id", "amount"})
    registry.refund_issued.add_listener(lambda order_id, reason: None)
    assert "it requires 'reason', which 'refund_issued' does not declare" in caplog.text


def test_a_protocol_taking_kwargs_declares_nothing_and_declare_hook_wins() -> None:
    registry = ProtocolShopEvents()
    assert registry.anything_else.passes is None
    assert registry.explicit.passes == frozenset({"order_id"})


def test_a_protocol_annotation_works_with_the_future_import_too() -> None:
    assert FutureShopEvents().refund_issued.passes == frozenset({"order_id", "amount"})


def test_custom_hooks_share_the_registry_error_count() -> None:
    registry = ShopEvents()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("bug")

    registry.order_placed.add_listener(broken)
    registry.order_placed.fire(order_id=1, amount=9.5)
    assert registry.error_count == 1


def test_a_custom_hook_can_be_added_at_run_time(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    hook = registry.add_hook("cache_miss", "key")
    assert registry.cache_miss is hook  # type: ignore[attr-defined]
    assert registry.hooks["cache_miss"] is hook
    recorder = Recorder()
    hook.add_listener(recorder)
    hook.fire(key="user:1")
    assert recorder.calls == [{"key": "user:1"}]
    hook.add_listener(lambda other: None)
    assert "it requires 'other', which 'cache_miss' does not declare" in caplog.text


def test_an_undeclared_custom_hook_accepts_any_listener(registry: Events) -> None:
    hook = registry.add_hook("anything", undeclared=True)
    hook.add_listener(lambda a, b: None)


@pytest.mark.parametrize("name", ["request", "add_hook", "_private", "not an identifier"])
def test_adding_a_hook_under_a_taken_or_bad_name_is_refused(registry: Events, name: str) -> None:
    with pytest.raises(ValueError, match=repr(name)):
        registry.add_hook(name)


def test_a_deprecated_hook_warns_when_a_listener_is_added(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hook = DeprecatedEventHook("request_success is gone; use request", "request_success")
    with pytest.warns(DeprecationWarning, match="use request"):
        hook.add_listener(Recorder())
    assert "request_success is gone; use request" in caplog.text
    assert len(hook) == 1


def test_a_deprecated_declaration_makes_a_deprecated_hook() -> None:
    class OldEvents(Events):
        request_success: EventHook = declare_hook(deprecated="use request instead")

    registry = OldEvents()
    assert isinstance(registry.request_success, DeprecatedEventHook)
    with pytest.warns(DeprecationWarning, match="use request instead"):
        registry.request_success.add_listener(Recorder())


def test_importing_the_package_imports_no_locust_and_patches_nothing() -> None:
    probe = (
        "import sys, socket, threading, time\n"
        "before = (socket.socket, threading.Lock, time.sleep)\n"
        "import locust_events\n"
        "assert (socket.socket, threading.Lock, time.sleep) == before, 'monkey-patched'\n"
        "import gevent.monkey\n"
        "assert not gevent.monkey.is_anything_patched(), 'gevent patched something'\n"
        "leaked = sorted(m for m in sys.modules if m == 'locust' or m.startswith('locust.'))\n"
        "assert not leaked, leaked\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_the_package_exports_the_registry_hooks_pools_and_the_handler_names_only() -> None:
    assert set(locust_events.__all__) == {
        *("events", "Events", "EventHook", "DeprecatedEventHook", "Registration", "declare_hook"),
        "BatchSettings",
        *("ListenerPool", "PoolStats", "PoolFull", "PoolClosed", "DispatchError", "ErrorPolicy"),
        "UsersWaiting",
        *("Lifecycle", "UsageMonitor", "COMPILED", "__version__"),
        *("EventHandler", "LifecycleHandler", "RequestHandler", "StatisticsHandler"),
        *("SystemHandler", "UserErrorHandler"),
    }
    assert all(hasattr(locust_events, name) for name in locust_events.__all__)


def test_the_handler_names_are_the_listener_protocols() -> None:
    from locust_events import listeners

    assert locust_events.RequestHandler is listeners.RequestListener
    assert locust_events.UserErrorHandler is listeners.UserErrorListener
    assert locust_events.LifecycleHandler is listeners.EnvironmentListener
    assert locust_events.StatisticsHandler is listeners.UsageMonitorListener
    assert locust_events.SystemHandler is listeners.CpuWarningListener
    protocols = [name for name in listeners.__all__ if name.endswith("Listener")]
    assert len(protocols) == 14
    for name in protocols:
        assert getattr(listeners, name)._is_protocol, name


@pytest.mark.parametrize("name", ["drain", "shutdown", "pools", "pool", "join"])
def test_a_declared_hook_may_not_hide_a_member_of_the_registry(name: str) -> None:
    """``class MyEvents(Events): drain: EventHook`` would break ``shutdown()``: refused."""
    from locust_events import EventHook, Events

    with pytest.raises(TypeError, match=rf"Cannot declare hook '{name}' on .*Events\.{name}"):
        type("MyEvents", (Events,), {"__annotations__": {name: EventHook}})
