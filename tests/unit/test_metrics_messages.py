"""Custom message types as hooks, on a stand-in for Locust's runner (its message registry)."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import gevent
import pytest

from locust_events import Events, ListenerPool, _messages


class StandInRunner:
    """Locust's runner as far as custom messages go: ``custom_messages``, which its receiving
    greenlet looks handlers up in, and ``register_message``, which refuses a second handler."""

    def __init__(self) -> None:
        self.custom_messages: dict[str, tuple[Callable[..., Any], bool]] = {}
        self.sent: list[tuple[str, Any, str | None]] = []

    def register_message(self, msg_type: str, listener: Any, concurrent: bool = False) -> None:
        if msg_type in self.custom_messages:
            raise Exception(f"Tried to register listener method for {msg_type}")
        self.custom_messages[msg_type] = (listener, concurrent)

    def send_message(self, msg_type: str, data: Any = None, client_id: str | None = None) -> None:
        self.sent.append((msg_type, data, client_id))

    def receive(self, environment: Any, msg_type: str, data: Any) -> None:
        """What Locust's receiving greenlet does with a custom message."""
        listener, concurrent = self.custom_messages[msg_type]
        msg = SimpleNamespace(type=msg_type, data=data, node_id="worker-1")
        if concurrent:
            gevent.spawn(listener, environment=environment, msg=msg)
        else:
            listener(environment=environment, msg=msg)


def environment_of(registry: Events) -> Any:
    return SimpleNamespace(events=registry, runner=StandInRunner())


def test_a_message_type_fires_its_hook_for_every_listener() -> None:
    registry = Events()
    environment = environment_of(registry)
    hook = _messages.message_hook("run_id", registry)
    seen: list[tuple[str, Any]] = []
    hook.add_listener(lambda environment, msg: seen.append(("first", msg.data)))
    hook.add_listener(lambda environment, msg: seen.append(("second", msg.data)))
    _messages.attach(registry, environment)
    environment.runner.receive(environment, "run_id", "run-42")
    assert seen == [("first", "run-42"), ("second", "run-42")]


def test_handlers_registered_with_register_message_before_or_after_become_listeners() -> None:
    registry = Events()
    environment = environment_of(registry)
    runner = environment.runner
    seen: list[str] = []
    runner.register_message("run_id", lambda environment, msg: seen.append("plugin, before"))
    _messages.message_hook("run_id", registry).add_listener(lambda **kwargs: seen.append("hook"))
    _messages.attach(registry, environment)
    runner.register_message("run_id", lambda environment, msg: seen.append("locustfile, after"))
    runner.register_message("other", lambda environment, msg: seen.append("other"))
    runner.receive(environment, "run_id", None)
    runner.receive(environment, "other", None)
    # The hook's own listener came first; the earlier handler joined when the runner existed.
    assert seen == ["hook", "plugin, before", "locustfile, after", "other"]
    with pytest.raises(Exception, match="other"):  # a type without a hook: Locust's own rule
        runner.register_message("other", lambda **kwargs: None)


def test_a_concurrent_handler_runs_in_the_bounded_pool_not_a_greenlet_per_message() -> None:
    pool = ListenerPool(size=1, maxsize=100)
    registry = Events(pool=pool)
    environment = environment_of(registry)
    _messages.message_hook("slow", registry)
    _messages.attach(registry, environment)
    done: list[int] = []

    def slow(environment: Any, msg: Any) -> None:
        gevent.sleep(0.001)
        done.append(msg.data)

    environment.runner.register_message("slow", slow, concurrent=True)
    for number in range(20):
        environment.runner.receive(environment, "slow", number)  # returns at once: only queued
    assert done == []
    assert pool.stats.submitted == 20
    assert pool.join(timeout=30)
    assert done == list(range(20))  # one worker greenlet, in order


def test_a_failing_message_listener_is_logged_and_counted_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = Events()
    environment = environment_of(registry)
    hook = _messages.message_hook("run_id", registry)
    seen: list[str] = []

    def broken(environment: Any, msg: Any) -> None:
        raise RuntimeError("bad payload")

    hook.add_listener(broken)
    hook.add_listener(lambda **kwargs: seen.append("next"))
    _messages.attach(registry, environment)
    environment.runner.receive(environment, "run_id", None)
    assert seen == ["next"]
    assert hook.error_count == 1
    assert "bad payload" in caplog.text


def test_send_message_goes_through_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_messages, "_environments", [])
    with pytest.raises(RuntimeError, match=r"'run_id'.*no Locust runner exists yet"):
        _messages.send_message("run_id", "run-42")
    registry = Events()
    environment = environment_of(registry)
    _messages.attach(registry, environment)
    _messages.send_message("run_id", "run-42", client_id="worker-1")
    assert environment.runner.sent == [("run_id", "run-42", "worker-1")]


def test_a_message_type_that_cannot_name_a_hook_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match=r"'run-id'.*letters, digits and underscores"):
        _messages.message_hook("run-id", Events())
