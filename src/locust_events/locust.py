"""Locust on this dispatcher: ``from locust_events.locust import events`` atop a locustfile.

Needs the ``locust`` extra; importing :mod:`locust_events` alone never imports Locust.
"""

from __future__ import annotations

import atexit
import functools
import weakref
from typing import Any, Final

import locust
import locust.env
import locust.log
from locust.exception import (
    InterruptTaskSet,
    RescheduleTask,
    RescheduleTaskImmediately,
    StopTest,
    StopUser,
)

from . import events as _global_events
from ._errors import logger
from ._events import Events
from ._locust_options import add_options, drain_timeout_option
from ._profiling import profiling_requested
from ._special_hooks import InitHook, QuitHook, QuittingHook
from ._unswitched import warn_if_unswitched
from ._version import warn_once_if_not_compiled

__all__ = [
    "CONTROL_FLOW_EXCEPTIONS",
    "DRAIN_TIMEOUT",
    "environment_events",
    "events",
    "fresh_environment_events",
    "locust_exit_code",
    "switch_locust_events",
]

#: Locust's exceptions that steer a user; they leave a fire at once, as in Locust.
CONTROL_FLOW_EXCEPTIONS: Final[tuple[type[Exception], ...]] = (
    StopUser,
    StopTest,
    RescheduleTask,
    RescheduleTaskImmediately,
    InterruptTaskSet,
)

#: Seconds the pools of spawned listeners get to deliver their calls before Locust's process
#: exits; what is still undelivered then is summed up in one logged line. A locustfile may
#: change it (``locust_events.locust.DRAIN_TIMEOUT = 30``), as Locust's runner settings; the
#: ``--listeners-drain-timeout`` option (``LOCUST_EVENTS_DRAIN_TIMEOUT``), when given, wins.
DRAIN_TIMEOUT: float = 10.0

# Registries already made ready for Locust, so that doing it again changes nothing.
_prepared: weakref.WeakSet[Events] = weakref.WeakSet()
# The drain timeout each registry's Locust run was given as an option, set at its init.
_drain_timeouts: weakref.WeakKeyDictionary[Events, float] = weakref.WeakKeyDictionary()


def locust_exit_code(environment: Any) -> int:
    """The exit code Locust's shutdown will give the process, as things stand now.

    Mirrors ``locust.main``'s ``shutdown``: the code a listener set in
    ``environment.process_exit_code``, else ``--exit-code-on-error`` (1 by default) when the
    runner recorded errors or exceptions, else 2 after an unhandled greenlet or listener
    error, else 0. A ``quitting`` listener may still change it (by setting
    ``process_exit_code`` or by failing); ``quit`` gets the final code from Locust itself.
    """
    code = getattr(environment, "process_exit_code", None)
    if code is not None:
        return int(code)
    runner = getattr(environment, "runner", None)
    if runner is not None and (len(runner.errors) or len(runner.exceptions)):
        options = getattr(environment, "parsed_options", None)
        return int(getattr(options, "exit_code_on_error", 1))
    if locust.log.unhandled_greenlet_exception:
        return 2
    return 0


def _drain_at_quit(registry: Events) -> None:
    """Drain every pool of ``registry`` once its ``quit`` listeners ran.

    Locust fires ``quit`` last, just before ``sys.exit``, on every way out that goes through
    its shutdown: the end of ``--run-time``, Ctrl-C and SIGTERM, on a master, a worker or a
    local run. Spawned calls queued until then (by ``quit`` listeners too) are delivered
    within :data:`DRAIN_TIMEOUT` seconds (or ``--listeners-drain-timeout``); what is not
    gets one summary line in the log.
    """
    registry.shutdown(_drain_timeouts.get(registry, DRAIN_TIMEOUT))


def _attach_listeners_tab(registry: Events, init_arguments: dict[str, Any]) -> None:
    """Read this package's Locust options and set up the Listeners tab
    (:mod:`locust_events.webui`) as ``init`` fires, before its listeners: on where Locust's
    web UI runs (and on the workers of such a master); a headless run is left as it was.
    With ``--otel`` (set up by then), the pools' figures are reported as OpenTelemetry
    metrics too."""
    environment = init_arguments.get("environment")
    if environment is not None:
        timeout = drain_timeout_option(getattr(environment, "parsed_options", None))
        if timeout is not None:
            _drain_timeouts[registry] = timeout
        from . import webui  # only Locust runs that reach init need the web UI's code

        webui.attach(registry, environment, init_arguments.get("web_ui"))
        if getattr(getattr(environment, "parsed_options", None), "otel", False):
            from ._otel_metrics import observe_pools  # only --otel runs need OpenTelemetry

            observe_pools(registry)


def _attach_across_processes(registry: Events, init_arguments: dict[str, Any]) -> None:
    """Settle placed listeners, message hooks and custom metrics for the runner Locust made
    (see :mod:`locust_events.distributed`), as ``init`` fires, before its listeners."""
    environment = init_arguments.get("environment")
    if environment is not None and getattr(environment, "runner", None) is not None:
        from . import _listener_figures_at_quit, _messages, _metrics_locust, _placement

        _placement.settle(environment)
        _messages.attach(registry, environment)
        _metrics_locust.attach(registry, environment, init_arguments.get("web_ui"))
        _listener_figures_at_quit.attach(registry, environment)


def _before_init(registry: Events, init_arguments: dict[str, Any]) -> None:
    _attach_listeners_tab(registry, init_arguments)
    _attach_across_processes(registry, init_arguments)


@atexit.register
def _drain_at_exit() -> None:
    """Deliver what is still queued when the process exits without Locust's shutdown.

    Locust calls ``sys.exit`` without firing ``quit`` on a few early ways out (a listener
    error during ``init``, workers that never came); spawned calls made until then still
    get their bounded chance. After a normal shutdown the pools are empty and this is quick.
    """
    for registry in list(_prepared):
        try:
            # Does nothing after quit shut it down.
            registry.shutdown(_drain_timeouts.get(registry, DRAIN_TIMEOUT))
        except Exception:
            logger.exception("Could not drain the listener pools of %r at exit", registry)


def _count_towards_exit_code(hook_name: str, listener: object, error: Exception) -> None:
    """A listener error makes Locust exit non-zero, as an error in Locust's own dispatcher does."""
    locust.log.unhandled_greenlet_exception = True


def environment_events(registry: Events | None = None) -> Events:
    """Make ``registry`` ready to be a Locust environment's events, and return it.

    For library users who build the environment themselves::

        from locust.env import Environment
        from locust_events.locust import environment_events

        env = Environment(user_classes=[MyUser], events=environment_events())

    Without an argument this is the global ``locust_events.events``, and Locust's global
    ``locust.events`` is switched onto it too (see :func:`switch_locust_events`), so code
    that fires or listens through either reaches the same hooks. With a registry of your own,
    only that registry is made ready:

    - Locust's control-flow exceptions (:data:`CONTROL_FLOW_EXCEPTIONS`) pass through
      listeners, so a request listener raising ``RescheduleTask`` still reschedules;
    - a listener error sets ``locust.log.unhandled_greenlet_exception``, so the process exits
      with the code Locust gives after an error in a listener (2 unless something else decides);
    - ``quitting`` gets ``exit_code`` when Locust fires it without, as known when each
      listener is called (:func:`locust_exit_code`, set as the hook's ``exit_code_source``).
      (``cpu_warning`` and ``usage_monitor`` of every registry complete Locust's names by
      themselves; Locust already fires ``quitting`` last listener first.)
    - once ``quit``'s listeners ran, every pool of the registry's spawned listeners
      (``add_listener(func, spawn=True)``) is drained within :data:`DRAIN_TIMEOUT` seconds,
      so their calls are delivered before the process exits, also on Ctrl-C and SIGTERM;
    - with ``LOCUST_EVENTS_PROFILE=1`` in the environment, every listener is profiled from
      here on and the table is logged once ``quit`` fired (``registry.profiler`` has it).

    Idempotent: calling it again for the same registry changes nothing.
    """
    if registry is None:
        return switch_locust_events()
    if registry in _prepared:
        return registry
    missing = [kind for kind in CONTROL_FLOW_EXCEPTIONS if kind not in registry.pass_through]
    registry.pass_through = (*registry.pass_through, *missing)
    registry.on_listener_error(_count_towards_exit_code)
    # The hooks were made for this from the start (see Events' declarations); only the
    # integration knows Locust's exit code and when Locust's process is about to exit.
    quitting = registry.hooks.get("quitting")
    if isinstance(quitting, QuittingHook) and quitting.exit_code_source is None:
        quitting.exit_code_source = locust_exit_code
    quit_hook = registry.hooks.get("quit")
    if isinstance(quit_hook, QuitHook) and quit_hook.after_fire is None:
        quit_hook.after_fire = functools.partial(_drain_at_quit, registry)
    init = registry.hooks.get("init")
    if isinstance(init, InitHook) and init.before_fire is None:
        init.before_fire = functools.partial(_before_init, registry)
    if profiling_requested():
        registry.start_profiling()
    _prepared.add(registry)
    return registry


def fresh_environment_events() -> Events:
    """A new registry of ours, made ready for Locust as :func:`environment_events` says.

    After the switch, this is what every Locust ``Environment`` built without ``events=``
    gets, where Locust's own would make a new ``locust.event.Events()``.
    """
    return environment_events(Events())


def switch_locust_events() -> Events:
    """Make each hook of Locust's global ``locust.events`` the matching hook of ours, and
    every ``Environment`` Locust builds without ``events=`` use a fresh registry of ours.

    After it, ``locust.events.request is locust_events.events.request`` (and so on for all
    eighteen hooks), so Locust's runners, its ``Environment`` (which ``locust.main`` builds
    with ``events=locust.events``) and every module that did ``from locust import events``
    fire into this dispatcher. Listeners already registered on either side are kept: each
    hook keeps its own listeners first, then gets the ones Locust's hook had, in their order.
    ``Environment()`` without ``events=`` (scripts using Locust as a library, Locust's runners
    in tests) gets :func:`fresh_environment_events`, where Locust's would get a new Locust
    ``Events()``. Idempotent. Returns ``locust_events.events``, made ready as
    :func:`environment_events` describes.

    :raises TypeError: a listener registered on Locust's hook requires a positional-only
        argument (it would fail on every fire); the message names it and the fix.
    """
    ours = _global_events
    if ours not in _prepared:
        environment_events(ours)
        # Locust fires its parser's hook on ``locust.events``, which this switch makes ours.
        ours.init_command_line_parser.add_listener(add_options)
    theirs: Any = locust.events
    for name in Events.hook_declarations:  # the eighteen hooks both registries declare
        hook = ours.hooks[name]
        previous = getattr(theirs, name, None)
        if previous is hook:
            continue
        for listener in list(getattr(previous, "_handlers", ())):
            if listener is warn_if_unswitched:
                continue  # it watched for this very switch: it stays behind with Locust's hook
            try:
                hook.add_listener(listener)
            except TypeError as error:
                raise TypeError(
                    f"Cannot move a listener of locust.events.{name} onto locust_events: {error}"
                ) from error
        setattr(theirs, name, hook)
    # Environment.__init__ looks the name up when it runs: ``Events()`` there makes ours.
    setattr(locust.env, "Events", fresh_environment_events)  # noqa: B010
    logger.debug("locust.events now dispatches through locust_events.events")
    return ours


#: The global registry, shared with Locust's ``locust.events`` once this module is imported.
events: Final[Events] = switch_locust_events()
warn_once_if_not_compiled()  # a failed compile at install showed only in pip's verbose output
