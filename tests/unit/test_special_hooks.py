"""Hooks whose declarations make them do more than call listeners, from the moment they are made."""

from __future__ import annotations

import types
from typing import Any

from locust_events import Events
from locust_events._special_hooks import (
    CpuWarningHook,
    InitHook,
    InPlaceHook,
    QuitHook,
    QuittingHook,
    UsageMonitorHook,
)


def test_the_declarations_choose_each_hooks_class_at_construction(registry: Events) -> None:
    classes = {name: type(hook).__name__ for name, hook in registry.hooks.items()}
    assert classes.pop("cpu_warning") == CpuWarningHook.__name__
    assert classes.pop("usage_monitor") == UsageMonitorHook.__name__
    assert classes.pop("quitting") == QuittingHook.__name__
    assert classes.pop("quit") == QuitHook.__name__
    assert classes.pop("init") == InitHook.__name__
    assert set(classes.values()) == {"EventHook", InPlaceHook.__name__}
    assert Events.hook_declarations["quitting"].hook_class is QuittingHook


def test_init_calls_its_before_fire_slot_with_the_arguments_before_the_listeners(
    registry: Events,
) -> None:
    order: list[str] = []
    registry.init.add_listener(lambda environment, **kwargs: order.append("listener"))
    registry.init.before_fire = lambda arguments: order.append(f"before {sorted(arguments)}")
    registry.init.fire(environment=None, runner=None, web_ui=None)
    assert order == ["before ['environment', 'runner', 'web_ui']", "listener"]


def test_cpu_warning_passes_both_names_whichever_the_fire_gives(registry: Events) -> None:
    got: list[tuple[float, float]] = []
    registry.cpu_warning.add_listener(
        lambda cpu_usage, usage_percent, **kwargs: got.append((cpu_usage, usage_percent))
    )
    registry.cpu_warning.fire(environment=None, cpu_usage=95.0)
    registry.cpu_warning.fire(environment=None, usage_percent=91.0)
    assert got == [(95.0, 95.0), (91.0, 91.0)]


def test_usage_monitor_passes_the_flat_values_and_the_stats_dict(registry: Events) -> None:
    got: list[Any] = []
    registry.usage_monitor.add_listener(
        lambda cpu_usage, memory_usage, stats: got.append((cpu_usage, memory_usage, stats))
    )
    registry.usage_monitor.fire(environment=None, cpu_usage=5.0, memory_usage=1024)
    registry.usage_monitor.fire(environment=None, stats={"cpu_usage": 6.0, "memory_usage": 9})
    assert got == [
        (5.0, 1024, {"cpu_usage": 5.0, "memory_usage": 1024}),
        (6.0, 9, {"cpu_usage": 6.0, "memory_usage": 9}),
    ]


def test_quitting_listeners_get_the_exit_code_as_known_when_each_is_called(
    registry: Events,
) -> None:
    environment = types.SimpleNamespace(process_exit_code=None)
    registry.quitting.exit_code_source = lambda env: env.process_exit_code or 0
    seen: list[tuple[str, int]] = []

    @registry.quitting.add_listener
    def registered_first_called_last(exit_code: int, **kwargs: Any) -> None:
        seen.append(("last", exit_code))

    @registry.quitting.add_listener
    def sets_the_code(environment: Any) -> None:  # as --check-fail-ratio does
        environment.process_exit_code = 3

    @registry.quitting.add_listener
    def registered_last_called_first(exit_code: int, **kwargs: Any) -> None:
        seen.append(("first", exit_code))

    registry.quitting.fire(environment=environment, reverse=True)
    assert seen == [("first", 0), ("last", 3)]
    assert registry.error_count == 0


def test_a_fire_that_passes_the_exit_code_passes_it_unchanged(registry: Events) -> None:
    registry.quitting.exit_code_source = lambda env: 99
    seen: list[int] = []
    registry.quitting.add_listener(lambda exit_code, **kwargs: seen.append(exit_code))
    registry.quitting.fire(environment=None, exit_code=4)
    assert seen == [4]


def test_quit_calls_after_fire_once_its_listeners_ran_even_when_one_fails(
    registry: Events,
) -> None:
    log: list[str] = []
    registry.quit.after_fire = lambda: log.append("after")
    registry.quit.add_listener(lambda exit_code: log.append(f"listener {exit_code}"))
    registry.quit.add_listener(lambda exit_code: 1 / 0)
    registry.quit.fire(exit_code=0)
    assert log == ["listener 0", "after"]
    assert registry.error_count == 1


def test_quitting_gives_each_of_many_listeners_the_exit_code_known_then(
    registry: Events,
) -> None:
    environment = types.SimpleNamespace(process_exit_code=None)
    registry.quitting.exit_code_source = lambda env: env.process_exit_code or 0
    seen: list[int] = []
    for _ in range(100):  # more than a change rebuilds the listener tuples for at once
        registry.quitting.add_listener(lambda exit_code, **kwargs: seen.append(exit_code))

    @registry.quitting.add_listener
    def sets_the_code(environment: Any) -> None:
        environment.process_exit_code = 3

    registry.quitting.fire(environment=environment, reverse=True)
    assert seen == [3] * 100
