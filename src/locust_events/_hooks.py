"""The hook objects: :class:`EventHook` and :class:`DeprecatedEventHook`."""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from ._errors import ErrorPolicy, describe_listener, logger
from ._implementation import FilteredListener, HookCore, Measurement
from ._listener_kinds import refuse_listener_that_never_runs
from ._pool import ListenerPool, SpawnedListener, default_pool
from ._profiling import Profiler
from ._signature import check_listener_signature

__all__ = ["DeprecatedEventHook", "EventHook", "SpawnedListener"]

_ListenerT = TypeVar("_ListenerT", bound=Callable[..., Any])
#: The listener type a hook accepts. Contravariant: a hook that takes any callable can stand
#: where a hook of ``RequestListener`` is expected, and ``add_listener`` can check a listener
#: against it while returning the listener's type.
_AcceptsT = TypeVar("_AcceptsT", bound=Callable[..., Any], contravariant=True)
PoolSource = Callable[[], ListenerPool]


class EventHook(HookCore, Generic[_AcceptsT]):
    """One named event: listeners subscribe to it and :meth:`fire` calls them all.

    ::

        my_event = EventHook("my_event", passes=("a", "b"))

        @my_event.add_listener
        def on_my_event(a, b, **kwargs):
            print(f"fired with {a} and {b}")

        my_event.fire(a="foo", b="bar")

    ``EventHook[RequestListener]`` types the hook for mypy and pyright: ``add_listener``
    then accepts only listeners that can take the protocol's keyword arguments. A hook made
    without a listener type (``EventHook("my_event")``) accepts any callable.

    Listeners run synchronously in the greenlet that fires, in registration order. One that
    raises an ``Exception`` is logged and counted and the others still run; see
    :class:`~locust_events.Events` for the error policy a registry shares between its hooks.

    :param name: how errors and messages name the hook; the attribute name in an ``Events``.
    :param passes: the keyword arguments every fire passes. When given, :meth:`add_listener`
        rejects a listener that requires a name never passed, and calls a listener without
        ``**kwargs`` with only the names it takes. ``None`` accepts any callable.
    :param policy: the error policy; a hook made on its own gets one of its own.

    As Locust's hooks, a hook takes attributes of its own: ``mock.patch.object(hook, "fire",
    wraps=hook.fire)`` patches this hook's ``fire`` (``measure()`` goes through it too), and
    deleting the attribute restores the class's.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_entries",
        "_mutation_lock",
        "_policy",
        "_pool_source",
        "_profiler",
        "_registered",
        "error_count",
        "name",
        "passes",
    )

    def __init__(
        self: EventHook[Callable[..., Any]],
        name: str = "unnamed hook",
        passes: Iterable[str] | None = None,
        *,
        policy: ErrorPolicy | None = None,
        pool_source: PoolSource = default_pool,
    ) -> None:
        super().__init__()
        #: The hook's name, as messages and errors give it.
        self.name: str = name
        #: The keyword arguments the hook declares it passes, or ``None`` for any.
        self.passes: frozenset[str] | None = None if passes is None else frozenset(passes)
        #: Listener errors of this hook logged (or re-raised in strict mode) so far.
        self.error_count: int = 0
        self._policy = ErrorPolicy() if policy is None else policy
        self._pool_source = pool_source
        #: What callers registered, parallel to the entries.
        self._registered: tuple[Callable[..., Any], ...] = ()
        #: What fire calls for each registration when not profiling: the listener itself, or
        #: the ``SpawnedListener`` that queues it.
        self._entries: tuple[Callable[..., Any], ...] = ()
        #: While set, fire calls profiling wrappers of the entries instead.
        self._profiler: Profiler | None = None
        # Threads may register too; greenlets never switch inside a mutation.
        self._mutation_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} with {len(self._listeners)} listener(s)>"

    def __len__(self) -> int:
        """How many listener registrations a fire calls (a listener added twice counts twice)."""
        return len(self._listeners)

    def __bool__(self) -> bool:
        """Whether any listener is registered: ``if hook:`` skips building an unwanted payload."""
        return bool(self._listeners)

    @property
    def listeners(self) -> tuple[Callable[..., Any], ...]:
        """The registered listeners, in order, as a snapshot that later changes do not touch."""
        return self._registered

    @property
    def pools(self) -> frozenset[ListenerPool]:
        """The pools the spawned listeners registered now run in."""
        return frozenset(
            entry.pool for entry in self._entries if isinstance(entry, SpawnedListener)
        )

    @property
    def policy(self) -> ErrorPolicy:
        """The error policy deciding what a listener's exception does to a fire."""
        return self._policy

    def add_listener(
        self: EventHook[_ListenerT], func: _ListenerT, spawn: bool | ListenerPool = False
    ) -> _ListenerT:
        """Register ``func`` to be called on every fire, after the listeners already there.

        Returns ``func`` unchanged, so this works as a decorator. Adding a listener twice
        registers it twice. A fire already running does not call it.

        :param spawn: ``True`` runs ``func`` in the owning registry's :class:`ListenerPool`
            instead of the firing greenlet (a standalone hook uses the process-wide default
            pool); a ``ListenerPool`` runs it there. The fire then only queues the call.
        When the hook declares what it passes and ``func`` has no ``**kwargs`` and does not
        take every declared name, each fire calls it with only the names it takes (worked
        out here, once), as a listener of Locust's shape expects.

        :raises TypeError: ``func`` is not callable, or (when the hook declares what it
            passes) it requires a parameter the hook never passes.
        """
        takes = self._check_listener(func)
        listener: Callable[..., Any] = func if takes is None else FilteredListener(func, takes)
        if spawn is True:
            listener = SpawnedListener(self, listener, self._pool_source())
        elif isinstance(spawn, ListenerPool):
            listener = SpawnedListener(self, listener, spawn)
        elif spawn is not False:
            raise TypeError(
                f"Cannot add listener {describe_listener(func)} to hook {self.name!r}: spawn "
                f"must be True, False or a ListenerPool, not {spawn!r}"
            )
        with self._mutation_lock:
            self._registered = (*self._registered, func)
            self._set_listeners((*self._entries, listener))
        return func

    def spawn_listener(self: EventHook[_ListenerT], func: _ListenerT) -> _ListenerT:
        """Decorator form of ``add_listener(func, spawn=True)``."""
        return self.add_listener(func, spawn=True)

    def remove_listener(self, func: Callable[..., Any]) -> None:
        """Remove the first registration of ``func``: the very object, else one equal to it
        (as a new bound method of the same object and function is).

        A fire already running still calls it. A registered listener whose ``==`` raises is
        taken as not equal.

        :raises ValueError: ``func`` is not registered on this hook.
        """
        with self._mutation_lock:
            registered = self._registered
            index = _index_of(registered, func)
            if index is None:
                raise ValueError(
                    f"Cannot remove listener {describe_listener(func)} from hook {self.name!r}: "
                    "it is not registered there (was it added to another hook, or removed already?)"
                )
            self._registered = registered[:index] + registered[index + 1 :]
            entries = self._entries
            self._set_listeners(entries[:index] + entries[index + 1 :])

    def measure(
        self,
        request_type: str,
        name: str,
        response_length: int = 0,
        context: dict[str, Any] | None = None,
    ) -> Measurement:
        """Time the ``with`` block and fire this hook once for it, like Locust's ``measure``.

        ::

            with events.request.measure("grpc", "GetUser") as request_meta:
                request_meta["response_length"] = len(call_the_service())

        The block gets the ``request_meta`` dict (``request_type``, ``name``,
        ``response_length``, ``context``, ``exception``, ``start_time``, ``url``,
        ``response``); whatever it adds or changes is passed on. An ``Exception`` raised in the
        block becomes ``exception`` and is not re-raised. ``response_time`` is in milliseconds.
        """
        return Measurement(self, request_type, name, response_length, context)

    def _check_listener(self, func: object) -> frozenset[str] | None:
        """Refuse ``func`` if it cannot be a listener here; else the names to call it with
        (``None``: everything a fire passes)."""
        if not callable(func):
            raise TypeError(
                f"Cannot add {func!r} to hook {self.name!r}: a listener must be callable "
                "(pass the function itself, not the result of calling it)"
            )
        refuse_listener_that_never_runs(self.name, func)
        if self.passes is not None:
            return check_listener_signature(self.name, self.passes, func)
        return None

    def _set_listeners(self, entries: tuple[Callable[..., Any], ...]) -> None:
        self._entries = entries
        profiler = self._profiler
        listeners = entries if profiler is None else profiler.wrap_all(self, entries)
        self._listeners = listeners
        self._reversed_listeners = listeners[::-1]

    def _profile_with(self, profiler: Profiler | None) -> None:
        """Start (a profiler) or stop (``None``) calling profiling wrappers of the listeners."""
        with self._mutation_lock:
            self._profiler = profiler
            self._set_listeners(self._entries)

    def _listener_failed(self, listener: Callable[..., Any], error: Exception) -> None:
        if type(listener) is FilteredListener:
            listener = listener.__wrapped__
        self._policy.handle(self, listener, error)

    def _record_spawned_failure(self, listener: Callable[..., Any], error: Exception) -> None:
        if type(listener) is FilteredListener:
            listener = listener.__wrapped__
        self._policy.record(self, listener, error)

    # Merge note: the hooks branch adds the public ``record_failure``; this alias stands in
    # for it until then (drop it at the merge).
    record_failure = _record_spawned_failure


def _index_of(registered: tuple[Callable[..., Any], ...], func: object) -> int | None:
    """Where ``func`` is registered: identity first, then ``==`` (an ``==`` that raises is
    no match, so one listener's broken ``__eq__`` cannot keep another from being removed)."""
    for index, candidate in enumerate(registered):
        if candidate is func:
            return index
    for index, candidate in enumerate(registered):
        with contextlib.suppress(Exception):
            if candidate == func:
                return index
    return None


class DeprecatedEventHook(EventHook[_AcceptsT]):
    """An :class:`EventHook` kept for old code: adding a listener warns with ``message``.

    The warning goes both to the ``locust_events`` logger and, as a ``DeprecationWarning``,
    to Python's warnings machinery, so test suites that turn warnings into errors see it.
    """

    __slots__ = ("message",)

    def __init__(
        self: DeprecatedEventHook[Callable[..., Any]],
        message: str,
        name: str = "unnamed hook",
        passes: Iterable[str] | None = None,
        *,
        policy: ErrorPolicy | None = None,
        pool_source: PoolSource = default_pool,
    ) -> None:
        super().__init__(name, passes, policy=policy, pool_source=pool_source)
        #: What a caller of :meth:`add_listener` is told, e.g. which hook to use instead.
        self.message: str = message

    def add_listener(
        self: DeprecatedEventHook[_ListenerT],
        func: _ListenerT,
        spawn: bool | ListenerPool = False,
    ) -> _ListenerT:
        logger.warning(self.message)
        warnings.warn(self.message, DeprecationWarning, stacklevel=2)
        return super().add_listener(func, spawn)
