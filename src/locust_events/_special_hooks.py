"""The hooks of :class:`~locust_events.Events` that do more on a fire than call their listeners.

``Events`` declares ``cpu_warning``, ``usage_monitor``, ``quitting`` and ``quit`` with these
classes, so every registry makes them so from the start: a hook's class never changes after
it is made. They complete a fire that passes only Locust's names (Locust's runners and
``locust.main`` fire them so) with the other names their listeners may ask for, and the other
way round.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ._hooks import EventHook
from ._native import positional_arguments_refused

__all__ = ["CpuWarningHook", "InitHook", "QuitHook", "QuittingHook", "UsageMonitorHook"]

_AcceptsT = TypeVar("_AcceptsT", bound=Callable[..., Any], contravariant=True)


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


class QuittingHook(EventHook[_AcceptsT]):
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


class InitHook(EventHook[_AcceptsT]):
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
