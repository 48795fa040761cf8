"""What a listener's exception does: logged and counted, passed through, or propagated."""

from __future__ import annotations

import logging
from typing import Any

import greenlet
import pytest

from locust_events import EventHook, Events

from .conftest import REQUEST_PAYLOAD, Recorder


class StopUser(Exception):
    """Stands in for Locust's control-flow exceptions."""


def broken_listener(**kwargs: Any) -> None:
    raise RuntimeError("listener bug")


def test_failing_listener_between_two_good_ones_is_logged_with_traceback_and_counted(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[str] = []
    registry.test_start.add_listener(Recorder("before", log))
    registry.test_start.add_listener(broken_listener)
    registry.test_start.add_listener(Recorder("after", log))

    registry.test_start.fire(environment=None)

    assert log == ["before", "after"]
    assert registry.test_start.error_count == 1
    assert registry.error_count == 1
    [record] = [r for r in caplog.records if r.name == "locust_events"]
    assert record.levelno == logging.ERROR
    assert "test_listener_errors.broken_listener" in record.getMessage()
    assert "'test_start'" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is not None
    assert str(record.exc_info[1]) == "listener bug"
    assert "raise RuntimeError" in caplog.text


def test_registry_error_count_adds_up_every_hook(registry: Events) -> None:
    registry.test_start.add_listener(broken_listener)
    registry.request.add_listener(broken_listener)
    registry.test_start.fire(environment=None)
    registry.request.fire(**REQUEST_PAYLOAD)
    registry.request.fire(**REQUEST_PAYLOAD)
    assert registry.test_start.error_count == 1
    assert registry.request.error_count == 2
    assert registry.error_count == 3


def test_pass_through_exception_is_reraised_at_once_and_not_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = Events(pass_through=[StopUser])
    after = Recorder()

    def stop(**kwargs: Any) -> None:
        raise StopUser

    registry.test_stop.add_listener(stop)
    registry.test_stop.add_listener(after)
    with pytest.raises(StopUser):
        registry.test_stop.fire(environment=None)
    assert after.calls == []
    assert registry.error_count == 0
    assert not [r for r in caplog.records if r.name == "locust_events"]


def test_pass_through_types_can_be_set_on_a_live_registry(registry: Events) -> None:
    def stop(**kwargs: Any) -> None:
        raise StopUser

    registry.quit.add_listener(stop)
    registry.quit.fire(exit_code=0)
    assert registry.error_count == 1
    registry.pass_through = (StopUser,)
    assert registry.pass_through == (StopUser,)
    with pytest.raises(StopUser):
        registry.quit.fire(exit_code=0)


@pytest.mark.parametrize("kind", [KeyboardInterrupt, SystemExit, greenlet.GreenletExit])
def test_base_exceptions_always_propagate(hook: EventHook, kind: type[BaseException]) -> None:
    after = Recorder()

    def raiser(**kwargs: Any) -> None:
        raise kind

    hook.add_listener(raiser)
    hook.add_listener(after)
    with pytest.raises(kind):
        hook.fire()
    assert after.calls == []
    assert hook.error_count == 0


def test_strict_mode_reraises_listener_errors(registry: Events) -> None:
    registry.strict = True
    assert registry.strict
    registry.init.add_listener(broken_listener)
    with pytest.raises(RuntimeError, match="listener bug"):
        registry.init.fire(environment=None, runner=None, web_ui=None)
    assert registry.error_count == 1


def test_strict_registry_from_the_constructor() -> None:
    registry = Events(strict=True)
    registry.reset_stats.add_listener(broken_listener)
    with pytest.raises(RuntimeError):
        registry.reset_stats.fire()


def test_error_callbacks_hear_of_each_logged_error(registry: Events) -> None:
    heard: list[tuple[str, Any, type[Exception]]] = []

    @registry.on_listener_error
    def remember(hook_name: str, listener: Any, error: Exception) -> None:
        heard.append((hook_name, listener, type(error)))

    registry.quitting.add_listener(broken_listener)
    registry.quitting.fire(environment=None, exit_code=0)
    assert heard == [("quitting", broken_listener, RuntimeError)]


def test_a_failing_error_callback_is_logged_and_does_not_break_the_fire(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    after = Recorder()

    @registry.on_listener_error
    def broken_callback(hook_name: str, listener: Any, error: Exception) -> None:
        raise ValueError("callback bug")

    registry.quitting.add_listener(broken_listener)
    registry.quitting.add_listener(after)
    registry.quitting.fire(environment=None, exit_code=0)
    assert len(after.calls) == 1
    assert "broken_callback" in caplog.text
    assert "callback bug" in caplog.text


def test_a_standalone_hook_has_its_own_error_policy(hook: EventHook) -> None:
    hook.add_listener(broken_listener)
    hook.fire()
    assert hook.error_count == 1
    assert hook.policy.error_count == 1
    assert EventHook("other").policy is not hook.policy
