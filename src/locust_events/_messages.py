"""Custom messages between Locust's master and workers as hooks, on Locust's own messaging.

``message_hook("run_id")`` makes the hook ``message_run_id`` of the registry (listeners take
``environment`` and ``msg``, as Locust's ``register_message`` handlers do). At ``init`` the
integration registers one handler per message type with the runner, which fires the hook:
synchronous listeners run in Locust's receiving greenlet as Locust's own handlers do, spawned
ones only queue a call in their bounded pool, so a slow one never holds up the heartbeats the
same greenlet handles. Handlers a locustfile or plugin registers with ``register_message``
for the same type, before or after, become listeners of the hook (``concurrent=True``: spawned
into the registry's pool) instead of being refused.
"""

from __future__ import annotations

import weakref
from typing import Any, Final

from ._events import Events
from ._hooks import EventHook

__all__ = ["PREFIX", "attach", "message_hook", "send_message"]

#: A message type's hook is named this followed by the type.
PREFIX: Final = "message_"

# By registry: message type -> hook, as declared by message_hook().
_declared: weakref.WeakKeyDictionary[Events, dict[str, EventHook[Any]]] = (
    weakref.WeakKeyDictionary()
)
# The environments whose runner can send, latest last (send_message uses the latest).
_environments: list[Any] = []


def message_hook(msg_type: str, registry: Events) -> EventHook[Any]:
    """The hook of custom message type ``msg_type`` in ``registry`` (made on first use).

    :raises ValueError: ``msg_type`` cannot be part of a hook's name (letters, digits and
        underscores only), or the registry has another attribute of that name.
    """
    if not isinstance(msg_type, str) or not (PREFIX + msg_type).isidentifier():
        raise ValueError(
            f"Cannot make a hook of message type {msg_type!r}: its hook is named "
            f"{PREFIX}<type>, so use letters, digits and underscores only, e.g. 'run_id'"
        )
    hooks = _declared.setdefault(registry, {})
    hook = hooks.get(msg_type)
    if hook is None:
        hook = registry.hooks.get(PREFIX + msg_type) or registry.add_hook(
            PREFIX + msg_type, "environment", "msg"
        )
        hooks[msg_type] = hook
        for environment in _environments:
            if getattr(environment, "events", None) is registry:
                _install(hook, msg_type, environment)
    return hook


def _install(hook: EventHook[Any], msg_type: str, environment: Any) -> None:
    """Have the runner fire ``hook`` for each message of ``msg_type``; a handler registered for
    that type already becomes a listener of the hook."""
    runner = environment.runner
    previous = runner.custom_messages.get(msg_type)
    if previous is not None and getattr(previous[0], "locust_events_hook", None) is hook:
        return
    if previous is not None:
        handler, concurrent = previous
        hook.add_listener(handler, spawn=bool(concurrent))

    def fire_hook(environment: Any, msg: Any, **kwargs: Any) -> None:
        hook.fire(environment=environment, msg=msg)

    fire_hook.locust_events_hook = hook  # type: ignore[attr-defined]
    runner.custom_messages[msg_type] = (fire_hook, False)


def attach(registry: Events, environment: Any) -> None:
    """At ``init``: install the registry's message hooks on the runner, and make the runner's
    ``register_message`` add handlers of those types to their hooks instead of refusing them."""
    runner = getattr(environment, "runner", None)
    if runner is None or getattr(runner, "locust_events_messages", False):
        return
    _environments.append(environment)
    for msg_type, hook in _declared.get(registry, {}).items():
        _install(hook, msg_type, environment)
    register_message = runner.register_message

    def register_on_hook(msg_type: str, listener: Any, concurrent: bool = False) -> None:
        """Locust's ``register_message``; a type with a hook gets ``listener`` as a listener
        (``concurrent=True``: spawned into the registry's bounded pool, not one greenlet per
        message)."""
        hook = _declared.get(registry, {}).get(msg_type)
        if hook is None:
            register_message(msg_type, listener, concurrent)
        else:
            hook.add_listener(listener, spawn=bool(concurrent))

    runner.register_message = register_on_hook
    runner.locust_events_messages = True


def send_message(msg_type: str, data: Any = None, client_id: str | None = None) -> None:
    """Send a custom message through the runner's ``send_message``: from a worker to the
    master, from the master to every worker (or to ``client_id``); a local run delivers it to
    itself.

    :raises RuntimeError: no Locust runner exists yet (send from ``init`` on, e.g. in
        ``test_start``).
    """
    if not _environments:
        raise RuntimeError(
            f"Cannot send message {msg_type!r}: no Locust runner exists yet; send it once "
            "Locust's init fired (e.g. from a test_start listener)"
        )
    _environments[-1].runner.send_message(msg_type, data, client_id)
