"""The hooks of :class:`~locust_events.Events` that do more than call their listeners.

``Events`` declares ``cpu_warning``, ``usage_monitor``, ``quitting`` and ``quit`` with these
classes, so every registry makes them so from the start: a hook's class never changes after
it is made. They complete a fire that passes only Locust's names (Locust's runners and
``locust.main`` fire them so) with the other names their listeners may ask for, and the other
way round. :class:`InPlaceHook` declares the hooks whose caller goes on with what their
listeners did: they refuse spawned and batch listeners.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeVar

from ._errors import describe_listener
from ._hooks import EventHook
from ._native import positional_arguments_refused
from ._pool import ListenerPool

__all__ = [
    "CpuWarningHook",
    "InPlaceHook",
    "InitHook",
    "QuitHook",
    "QuittingHook",
    "UsageMonitorHook",
    "spawn_refused",
]

_AcceptsT = TypeVar("_AcceptsT", bound=Callable[..., Any], contravariant=True)
_ListenerT = TypeVar("_ListenerT", bound=Callable[..., Any])
_BatchListenerT = TypeVar("_BatchListenerT", bound=Callable[[list[Mapping[str, Any]]], Any])

#: Why each of Locust's in-place hooks needs its listeners to have run before Locust goes on,
#: as read in Locust's own code (``locust.main``, ``locust.argument_parser``, ``locust.runners``).
IN_PLACE_REASONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "init_command_line_parser": (
            "Locust parses the command line as soon as its listeners return, so an option "
            "added by a spawned call would be refused as unrecognized"
        ),
        "init": (
            "Locust starts the runner, the web UI and then the users as soon as its listeners "
            "return (and exits when one of them failed), so what a spawned call sets up would "
            "not be there when the users start"
        ),
        "test_start": (
            "Locust spawns the users as soon as its listeners return, so what a spawned call "
            "sets up or resets would not be there for the first users"
        ),
        "test_stopping": (
            "Locust stops the users as soon as its listeners return, so a spawned call would "
            "run once they are gone"
        ),
        "report_to_master": (
            "Locust sends the report as soon as its listeners return, so what a spawned call "
            "adds to data would miss it"
        ),
        "quitting": (
            "Locust works out the exit code as soon as its listeners return, so a spawned call "
            "could not set environment.process_exit_code in time"
        ),
    }
)


def spawn_refused(hook_name: str, listener: object, how: str) -> TypeError:
    """The error for spawning ``listener`` (``how``: "spawned" or "batch") on an in-place hook."""
    reason = IN_PLACE_REASONS.get(
        hook_name, "its caller goes on with what the listeners did as soon as they return"
    )
    return TypeError(
        f"Cannot add {how} listener {describe_listener(listener)} to hook {hook_name!r}: its "
        f"listeners must run before the fire returns ({reason}). Add it without spawning "
        f"(events.{hook_name}.add_listener(func)) and spawn only the slow part from inside it "
        "(gevent.spawn, or fire a hook of your own whose listener is spawned)"
    )


class InPlaceHook(EventHook[_AcceptsT]):
    """A hook whose caller goes on with what its listeners did once the fire returns (Locust
    parses the options its ``init_command_line_parser`` listeners added, starts the users its
    ``init`` listeners prepared...): spawned and batch listeners would run too late, so
    ``add_listener(func, spawn=...)`` and ``add_batch_listener`` refuse them with a
    ``TypeError`` naming the hook, the listener and the fix. Synchronous listeners run as
    on any hook."""

    __slots__ = ()

    def add_listener(
        self: InPlaceHook[_ListenerT],
        func: _ListenerT,
        spawn: bool | ListenerPool = False,
        *,
        timeout: float | None = None,
    ) -> _ListenerT:
        if spawn is not False:
            raise spawn_refused(self.name, func, "spawned")
        return super().add_listener(func, timeout=timeout)

    def add_batch_listener(
        self,
        func: _BatchListenerT,
        *,
        max_size: int = 1000,
        max_wait: float = 1.0,
        pool: ListenerPool | None = None,
        timeout: float | None = None,
    ) -> _BatchListenerT:
        raise spawn_refused(self.name, func, "batch")


class CpuWarningHook(EventHook[_AcceptsT]):
    """``cpu_warning``: passes the usage as both ``cpu_usage`` and ``usage_percent``."""

    __slots__ = ()

    def fire(self, /, *args: Any, reverse: bool = False, **kwargs: Any) -> None:
        if args:
            raise positional_arguments_refused(self, args)
        if "usage_percent" not in kwargs and "cpu_usage" in kwargs:
            kwargs["usage_percent"] = kwargs["cpu_usage"]
        elif "cpu_usage" not in kwargs and "usage_percent" in kwargs:
            kwargs["cpu_usage"] = kwargs["usage_percent"]
        super().fire(reverse=reverse, **kwargs)


class UsageMonitorHook(EventHook[_AcceptsT]):
    """``usage_monitor``: passes ``cpu_usage`` and ``memory_usage`` also as the ``stats`` dict."""

    __slots__ = ()

    def fire(self, /, *args: Any, reverse: bool = False, **kwargs: Any) -> None:
        if args:
            raise positional_arguments_refused(self, args)
        if "stats" not in kwargs:
            kwargs["stats"] = {
                "cpu_usage": kwargs.get("cpu_usage"),
                "memory_usage": kwargs.get("memory_usage"),
            }
        else:
            for name in ("cpu_usage", "memory_usage"):
                if name not in kwargs:
                    kwargs[name] = kwargs["stats"].get(name)
        super().fire(reverse=reverse, **kwargs)


class QuittingHook(InPlaceHook[_AcceptsT]):
    """``quitting``: passes ``exit_code`` where the fire does not, from :attr:`exit_code_source`.

    Locust fires ``quitting`` with the environment alone and works out the process's exit
    code after its listeners ran, since they may change it (a listener that sets
    ``environment.process_exit_code``, as locust-plugins' ``--check-fail-ratio`` does).
    So each listener gets the code as known when it is called: one called after a listener
    that changed the code sees the change, one called before it does not. ``quit`` gets
    Locust's final code.
    """

    __slots__ = ("exit_code_source",)

    def __init__(self: QuittingHook[Callable[..., Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Given the fire's ``environment``, the exit code the process would end with now
        #: (the Locust integration sets :func:`locust_events.locust.locust_exit_code`).
        #: ``None``: a fire without ``exit_code`` passes none.
        self.exit_code_source: Callable[[Any], int] | None = None

    def fire(self, /, *args: Any, reverse: bool = False, **kwargs: Any) -> None:
        if args:
            raise positional_arguments_refused(self, args)
        source = self.exit_code_source
        if source is None or "exit_code" in kwargs:
            super().fire(reverse=reverse, **kwargs)
            return
        environment = kwargs.get("environment")
        for listener in self._current_listeners(reverse):
            kwargs["exit_code"] = source(environment)
            try:
                listener(**kwargs)
            except Exception as error:
                self._listener_failed(listener, error)


class InitHook(InPlaceHook[_AcceptsT]):
    """``init``: calls :attr:`before_fire` with the fire's arguments before the listeners run."""

    __slots__ = ("before_fire",)

    def __init__(self: InitHook[Callable[..., Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Called with the fire's keyword arguments as a dict before the listeners (the
        #: Locust integration sets up the Listeners tab there, once Locust's environment and
        #: web UI exist), or ``None``.
        self.before_fire: Callable[[dict[str, Any]], object] | None = None

    def fire(self, /, *args: Any, reverse: bool = False, **kwargs: Any) -> None:
        if args:
            raise positional_arguments_refused(self, args)
        before_fire = self.before_fire
        if before_fire is not None:
            before_fire(kwargs)
        super().fire(reverse=reverse, **kwargs)


class QuitHook(EventHook[_AcceptsT]):
    """``quit``: calls :attr:`after_fire` once the listeners ran, however the fire ended."""

    __slots__ = ("after_fire",)

    def __init__(self: QuitHook[Callable[..., Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: Called without arguments after every fire (the Locust integration drains the
        #: registry's listener pools there, as the process is about to exit), or ``None``.
        self.after_fire: Callable[[], object] | None = None

    def fire(self, /, *args: Any, reverse: bool = False, **kwargs: Any) -> None:
        if args:
            raise positional_arguments_refused(self, args)
        try:
            super().fire(reverse=reverse, **kwargs)
        finally:
            after_fire = self.after_fire
            if after_fire is not None:
                after_fire()
