"""The calling loop of a hook in pure Python: what runs on every fire."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = [
    "FilteredListener",
    "HookCore",
    "call_with",
    "keywords_to",
    "positional_arguments_refused",
]

Listener = Callable[..., Any]


# Twin: refuse_positional_arguments in _speedups.c.
def positional_arguments_refused(hook: object, args: tuple[object, ...]) -> TypeError:
    """The error for ``hook.fire`` given positional arguments, worded as the C loop words it.

    The hook is named by its ``name``, or by its type's name where reading ``name`` raises an
    Exception: the caller's mistake is the positional arguments, and that is the error to
    report. Any other BaseException (KeyboardInterrupt, GreenletExit) propagates.
    """
    try:
        name = getattr(hook, "name")  # noqa: B009 - HookCore has no name; subclasses do
    except Exception:
        name = type(hook).__name__
    return TypeError(
        f"Cannot fire hook {name!r} with {len(args)} positional argument(s): fire() takes "
        "keyword arguments only; pass each one by name, as fire(name=value)"
    )


# Twin: HookCore in _speedups.c (struct HookCore, hookcore_* functions).
class HookCore:
    """Holds a hook's listeners as immutable tuples and calls them on :meth:`fire`.

    The tuples are replaced, never changed, when listeners are added or removed, so a fire
    walks a snapshot without copying anything: listeners added or removed meanwhile take
    effect from the next fire on. Everything else about a hook lives in its subclass
    :class:`~locust_events.EventHook`.
    """

    __slots__ = ("_listeners", "_reversed_listeners")

    # Twin: hookcore_init.
    def __init__(self, listeners: tuple[Listener, ...] = ()) -> None:
        if type(listeners) is not tuple:
            raise TypeError(
                f"HookCore() argument 'listeners' must be tuple, not {type(listeners).__name__}"
            )
        #: The callables fire calls, in registration order.
        self._listeners: tuple[Listener, ...] = listeners
        #: The same callables, last registered first, kept ready for ``fire(reverse=True)``.
        self._reversed_listeners: tuple[Listener, ...] = listeners[::-1]

    if TYPE_CHECKING:  # keyword arguments only, as far as type checkers are concerned

        def fire(self, /, *, reverse: bool = False, **kwargs: Any) -> None: ...

    else:
        # Twin: hookcore_fire (with call_listeners, fire_with_reverse, listener_failed).
        def fire(self, /, *args, reverse=False, **kwargs):
            """Call every listener with ``kwargs``, in the calling greenlet, in order.

            :param reverse: call the listeners last registered first (Locust does so for
                ``quitting``); never passed on to the listeners.
            :raises TypeError: positional arguments were given: listeners take keywords only.
            """
            if args:
                raise positional_arguments_refused(self, args)
            for listener in self._reversed_listeners if reverse else self._listeners:
                try:
                    listener(**kwargs)
                except Exception as error:
                    self._listener_failed(listener, error)

    # Twin: hookcore_listener_failed.
    def _listener_failed(self, listener: Listener, error: Exception) -> None:
        """Log, count or re-raise ``error``; see :class:`~locust_events.EventHook`."""
        raise error


# Twin: FilteredListener in _speedups.c (struct FilteredListener, filtered_* functions).
class FilteredListener:
    """Calls a listener with only the keyword arguments it takes, of those a fire passes.

    A hook registers this in place of a listener without ``**kwargs`` that names only some
    of what the hook passes (as Locust's listeners often do); the names are worked out once,
    at registration. ``__wrapped__`` is the listener, for messages and profiles.
    """

    __slots__ = ("__wrapped__", "takes")

    # Twin: filtered_new.
    def __init__(self, listener: Listener, takes: frozenset[str]) -> None:
        self.__wrapped__ = listener
        #: The keyword arguments the listener gets, where a fire passes them.
        self.takes = takes

    if TYPE_CHECKING:  # keyword arguments only, as far as type checkers are concerned

        def __call__(self, /, **kwargs: Any) -> Any: ...

    else:
        # Twin: filtered_vectorcall (with filtered_learn).
        def __call__(self, /, *args, **kwargs):
            if args:
                raise TypeError(
                    f"Cannot call listener {self.__wrapped__!r} with {len(args)} positional "
                    "argument(s): listeners take keyword arguments only; pass each one by "
                    "name, as listener(name=value)"
                )
            return self.__wrapped__(**{name: kwargs[name] for name in self.takes if name in kwargs})

    # Twin: filtered_repr.
    def __repr__(self) -> str:
        return f"<filtered {self.__wrapped__!r} taking {sorted(self.takes)}>"


#: A spawned call's keyword arguments as :func:`keywords_to` packs them: their values, then
#: the tuple of their names.
Arguments = tuple[Any, ...]


def _forward_keywords(target: Callable[[Arguments], Any], /, *args: Any, **kwargs: Any) -> Any:
    if args:
        raise TypeError(
            f"Cannot call {target!r} with {len(args)} positional argument(s): it takes "
            "keyword arguments only; pass each one by name"
        )
    return target((*kwargs.values(), tuple(kwargs)))


# Twin: keywords_to in _speedups.c (with forward_keywords).
def keywords_to(target: Callable[[Arguments], Any]) -> Callable[..., Any]:
    """A function whose calls with keyword arguments call ``target(arguments)``: their values,
    then the tuple of their names. Its ``__self__`` is ``target``."""
    return types.MethodType(_forward_keywords, target)


# Twin: call_with in _speedups.c.
def call_with(function: Callable[..., Any], arguments: Arguments) -> Any:
    """Call ``function`` with the keyword arguments :func:`keywords_to` packed."""
    names = arguments[-1] if type(arguments) is tuple and arguments else None
    if type(names) is not tuple or len(names) != len(arguments) - 1 or not _all_str(names):
        raise TypeError(
            "call_with(function, arguments) takes arguments as keywords_to packs them: their "
            "values, then the tuple of their names"
        )
    # zip stops at the names, one shorter than the arguments (whose last item they are).
    return function(**dict(zip(names, arguments, strict=False)))


def _all_str(names: tuple[Any, ...]) -> bool:
    """Whether every name is a ``str`` (``str.join`` checks them all at C speed)."""
    try:
        "".join(names)
    except TypeError:
        return False
    return True
