"""The calling loop of a hook in pure Python: what runs on every fire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["FilteredListener", "HookCore"]

Listener = Callable[..., Any]


class HookCore:
    """Holds a hook's listeners as immutable tuples and calls them on :meth:`fire`.

    The tuples are replaced, never changed, when listeners are added or removed, so a fire
    walks a snapshot without copying anything: listeners added or removed meanwhile take
    effect from the next fire on. Everything else about a hook lives in its subclass
    :class:`~locust_events.EventHook`.
    """

    __slots__ = ("_listeners", "_reversed_listeners")

    def __init__(self) -> None:
        #: The callables fire calls, in registration order.
        self._listeners: tuple[Listener, ...] = ()
        #: The same callables, last registered first, kept ready for ``fire(reverse=True)``.
        self._reversed_listeners: tuple[Listener, ...] = ()

    def fire(self, /, *, reverse: bool = False, **kwargs: Any) -> None:
        """Call every listener with ``kwargs``, in the calling greenlet, in order.

        :param reverse: call the listeners last registered first (Locust does so for
            ``quitting``); never passed on to the listeners.
        """
        for listener in self._reversed_listeners if reverse else self._listeners:
            try:
                listener(**kwargs)
            except Exception as error:
                self._listener_failed(listener, error)

    def _listener_failed(self, listener: Listener, error: Exception) -> None:
        """Log, count or re-raise ``error``; see :class:`~locust_events.EventHook`."""
        raise error


class FilteredListener:
    """Calls a listener with only the keyword arguments it takes, of those a fire passes.

    A hook registers this in place of a listener without ``**kwargs`` that names only some
    of what the hook passes (as Locust's listeners often do); the names are worked out once,
    at registration. ``__wrapped__`` is the listener, for messages and profiles.
    """

    __slots__ = ("__wrapped__", "takes")

    def __init__(self, listener: Listener, takes: frozenset[str]) -> None:
        self.__wrapped__ = listener
        #: The keyword arguments the listener gets, where a fire passes them.
        self.takes = takes

    def __call__(self, **kwargs: Any) -> Any:
        return self.__wrapped__(**{name: kwargs[name] for name in self.takes if name in kwargs})

    def __repr__(self) -> str:
        return f"<filtered {self.__wrapped__!r} taking {sorted(self.takes)}>"
