"""``Lifecycle``: Locust's order of lifecycle events, its guards, exit codes and draining."""

from __future__ import annotations

import types
from typing import Any

import gevent
import pytest

from locust_events import Events, Lifecycle, UsageMonitor

LIFECYCLE_HOOKS = (
    "init",
    "test_start",
    "spawning_complete",
    "test_stopping",
    "test_stop",
    "quitting",
    "quit",
)


@pytest.fixture
def fired(registry: Events) -> list[tuple[str, dict[str, Any]]]:
    log: list[tuple[str, dict[str, Any]]] = []
    for name in LIFECYCLE_HOOKS:
        registry.hooks[name].add_listener(
            lambda name=name, **kwargs: log.append((name, kwargs)),
        )
    return log


@pytest.fixture
def environment() -> Any:
    return types.SimpleNamespace(process_exit_code=None)


def names(log: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [name for name, _ in log]


def test_a_whole_run_fires_in_locusts_order_with_the_payloads(
    registry: Events, fired: list[tuple[str, dict[str, Any]]], environment: Any
) -> None:
    runner, web_ui = object(), object()
    lifecycle = Lifecycle(registry, environment, runner=runner, web_ui=web_ui)
    lifecycle.init()
    lifecycle.start()
    lifecycle.spawning_complete(user_count=100)
    stopped_users: list[bool] = []
    lifecycle.stop(stop_users=lambda: stopped_users.append(True))
    assert lifecycle.quit() == 0
    assert fired == [
        ("init", {"environment": environment, "runner": runner, "web_ui": web_ui}),
        ("test_start", {"environment": environment}),
        ("spawning_complete", {"user_count": 100}),
        ("test_stopping", {"environment": environment}),
        ("test_stop", {"environment": environment}),
        ("quitting", {"environment": environment, "exit_code": 0}),
        ("quit", {"exit_code": 0}),
    ]
    assert stopped_users == [True]
    assert lifecycle.state == "quit"


def test_users_are_stopped_between_test_stopping_and_test_stop(
    registry: Events, fired: list[tuple[str, dict[str, Any]]]
) -> None:
    lifecycle = Lifecycle(registry)
    lifecycle.start()
    lifecycle.stop(stop_users=lambda: fired.append(("users stopped", {})))
    assert names(fired)[-3:] == ["test_stopping", "users stopped", "test_stop"]


def test_quitting_fires_last_registered_listener_first(registry: Events) -> None:
    order: list[str] = []
    registry.quitting.add_listener(lambda **kwargs: order.append("first registered"))
    registry.quitting.add_listener(lambda **kwargs: order.append("last registered"))
    Lifecycle(registry).quit()
    assert order == ["last registered", "first registered"]


def test_start_fires_init_first_when_the_runner_skipped_it(
    registry: Events, fired: list[tuple[str, dict[str, Any]]]
) -> None:
    Lifecycle(registry).start()
    assert names(fired) == ["init", "test_start"]


def test_test_start_does_not_fire_twice_for_one_run(
    registry: Events, fired: list[tuple[str, dict[str, Any]]]
) -> None:
    lifecycle = Lifecycle(registry)
    assert lifecycle.start() is True
    assert lifecycle.start() is False
    assert names(fired).count("test_start") == 1


def test_stop_without_start_fires_nothing(
    registry: Events, fired: list[tuple[str, dict[str, Any]]]
) -> None:
    lifecycle = Lifecycle(registry)
    lifecycle.init()
    assert lifecycle.stop() is False
    assert names(fired) == ["init"]


def test_stop_then_start_begins_a_new_run(
    registry: Events, fired: list[tuple[str, dict[str, Any]]]
) -> None:
    lifecycle = Lifecycle(registry)
    lifecycle.start()
    lifecycle.stop()
    lifecycle.start()
    assert names(fired) == [
        "init",
        "test_start",
        "test_stopping",
        "test_stop",
        "test_start",
    ]


def test_init_fires_once(registry: Events, fired: list[tuple[str, dict[str, Any]]]) -> None:
    lifecycle = Lifecycle(registry)
    lifecycle.init()
    lifecycle.init()
    assert names(fired) == ["init"]


def test_quit_stops_a_running_test_first_and_a_second_quit_fires_nothing(
    registry: Events, fired: list[tuple[str, dict[str, Any]]]
) -> None:
    lifecycle = Lifecycle(registry)
    lifecycle.start()
    lifecycle.quit()
    lifecycle.quit()
    assert names(fired)[2:] == ["test_stopping", "test_stop", "quitting", "quit"]


def test_spawning_complete_outside_a_run_is_refused(registry: Events) -> None:
    with pytest.raises(RuntimeError, match="call start"):
        Lifecycle(registry).spawning_complete(10)


def test_nothing_can_start_after_quit(registry: Events) -> None:
    lifecycle = Lifecycle(registry)
    lifecycle.quit()
    with pytest.raises(RuntimeError, match="has quit"):
        lifecycle.start()


def broken(**kwargs: Any) -> None:
    raise RuntimeError("listener bug")


def test_exit_code_is_1_when_a_listener_raised_during_init(registry: Events) -> None:
    registry.init.add_listener(broken)
    lifecycle = Lifecycle(registry)
    lifecycle.init()
    assert lifecycle.quit() == 1


def test_exit_code_is_2_when_a_listener_raised_after_init_as_in_locust(registry: Events) -> None:
    registry.test_stop.add_listener(broken)
    lifecycle = Lifecycle(registry)
    lifecycle.start()
    assert lifecycle.quit() == 2


def test_exit_code_on_error_when_the_runner_reports_errors(registry: Events) -> None:
    lifecycle = Lifecycle(registry, exit_code_on_error=3)
    lifecycle.start()
    lifecycle.record_runner_error()
    assert lifecycle.quit() == 3


def test_the_code_the_runner_sets_wins(registry: Events, environment: Any) -> None:
    registry.init.add_listener(broken)
    lifecycle = Lifecycle(registry, environment)
    lifecycle.init()
    lifecycle.record_runner_error()
    lifecycle.set_exit_code(7)
    assert lifecycle.quit() == 7


def test_a_quitting_listener_may_set_the_code_quit_reports(
    registry: Events, environment: Any
) -> None:
    codes: list[int] = []

    def set_code(environment: Any, exit_code: int) -> None:
        codes.append(exit_code)
        environment.process_exit_code = 5

    registry.quitting.add_listener(set_code)
    registry.quit.add_listener(lambda exit_code: codes.append(exit_code))
    assert Lifecycle(registry, environment).quit() == 5
    assert codes == [0, 5]


def test_quit_drains_spawned_listeners_before_it_returns(registry: Events) -> None:
    delivered: list[str] = []

    def slow_webhook(**kwargs: Any) -> None:
        gevent.sleep(0.05)
        delivered.append("test_stop")

    registry.test_stop.add_listener(slow_webhook, spawn=True)
    registry.quit.add_listener(lambda **kwargs: delivered.append("quit"), spawn=True)
    lifecycle = Lifecycle(registry, drain_timeout=5)
    lifecycle.start()
    lifecycle.quit()
    assert delivered == ["test_stop", "quit"]


def test_quit_gives_up_after_the_drain_timeout_and_says_what_is_left(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    registry.quit.add_listener(lambda **kwargs: gevent.sleep(1), spawn=True)
    lifecycle = Lifecycle(registry, drain_timeout=0.05)
    lifecycle.quit()
    assert "not delivered after" in caplog.text
    assert "1 running" in caplog.text
    registry.join(timeout=5)


def test_init_starts_the_usage_monitor_and_quit_stops_it(registry: Events) -> None:
    samples: list[float] = []
    registry.usage_monitor.add_listener(lambda cpu_usage, **kwargs: samples.append(cpu_usage))
    monitor = UsageMonitor(registry, interval=0.01, sampler=lambda: (12.5, 1024))
    lifecycle = Lifecycle(registry, monitor=monitor)
    lifecycle.init()
    assert monitor.running
    for _ in range(5000):  # bounded by samples, not by how fast this machine runs the monitor
        if samples:
            break
        gevent.sleep(0.01)
    lifecycle.quit()
    assert not monitor.running
    count = len(samples)
    assert count >= 1
    gevent.sleep(0.03)
    assert len(samples) == count
