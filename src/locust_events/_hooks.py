"""The hook object: :class:`EventHook`, its registrations and what a fire calls for each."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import FunctionType, MethodType
from typing import Any, Final, Generic, TypeVar, final, overload

from ._batching import (
    BatchListener,
    BatchSettings,
    batch_listener_of,
    check_batch_listener,
    check_pool_fits,
)
from ._errors import ErrorPolicy, describe_listener
from ._implementation import COMPILED, FilteredListener, HookCore, Measurement
from ._listener_kinds import refuse_listener_that_never_runs
from ._pool import ListenerPool, default_pool, listener_timeout, queue_of, spawned_listener
from ._profiling import Profiler
from ._signature import check_listener_signature
from ._spawned import spawned_listener_of

__all__ = ["BatchSettings", "EventHook", "PoolSource", "Registration"]

_ListenerT = TypeVar("_ListenerT", bound=Callable[..., Any])
_BatchListenerT = TypeVar("_BatchListenerT", bound=Callable[[list[Mapping[str, Any]]], Any])
#: The listener type a hook accepts. Contravariant: a hook that takes any callable can stand
#: where a hook of ``RequestListener`` is expected, and ``add_listener`` can check a listener
#: against it while returning the listener's type.
_AcceptsT = TypeVar("_AcceptsT", bound=Callable[..., Any], contravariant=True)
PoolSource = Callable[[], ListenerPool]

#: Up to this many listeners, a change rebuilds the tuples fire walks at once (a copy of a
#: few dozen pointers). Beyond, the first fire after changes rebuilds them, once for all the
#: changes since: per-user listeners then register in constant time, and the fire that
#: pays the copy of ``n`` pointers is calling ``n`` listeners anyway.
REBUILD_AT_ONCE_UP_TO: Final = 64
#: How many listener functions a hook remembers the registration checks of.
_CHECKS_KEPT: Final = 256


@final
@dataclass(frozen=True, slots=True)
class Registration:
    """One registration on a hook, as :attr:`EventHook.registrations` lists them."""

    #: What the caller passed to :meth:`EventHook.add_listener`.
    listener: Callable[..., Any]
    #: The pool a spawned listener runs in; ``None`` for one called in the firing greenlet.
    pool: ListenerPool | None
    #: When a batch listener's batches are delivered; ``None`` for any other listener.
    batch: BatchSettings | None = None
    #: Seconds a spawned or batch listener's call may run (its own, else its pool's);
    #: ``None``: no limit.
    timeout: float | None = None


#: What a hook keeps per registration: the listener registered, what fire calls for it (the
#: listener, a ``FilteredListener`` or the enqueue of the ``SpawnedListener`` that queues it),
#: its pool, and whether it is in the hook's index (else it could not be hashed).
_Record = tuple[Callable[..., Any], Callable[..., Any], "ListenerPool | None", bool]


@final
class _RebuildingFire:
    """Stands alone in a hook's tuples after listeners changed: the fire that calls it
    rebuilds the tuples, once for every change since, and calls the listeners itself.

    A fire running meanwhile keeps the tuple it started with, as with every change. It refers
    to its hook weakly: a hook's own tuples never keep it alive.
    """

    __slots__ = ("_hook", "_reverse")

    def __init__(self, hook: EventHook[Any], reverse: bool) -> None:
        self._hook = weakref.ref(hook)
        self._reverse = reverse

    def __call__(self, **kwargs: Any) -> None:
        hook = self._hook()
        if hook is None:  # only a tuple kept from a hook that is gone
            return
        listener_failed = hook._listener_failed
        for listener in hook._current_listeners(self._reverse):
            try:
                listener(**kwargs)
            except Exception as error:
                listener_failed(listener, error)

    def __repr__(self) -> str:
        hook = self._hook()
        return f"<listeners of {getattr(hook, 'name', None)!r}, rebuilt at the next fire>"


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
        calls a listener without ``**kwargs`` with only the names it takes (and warns once
        about one requiring a name not declared). ``None`` accepts any callable.
    :param policy: the error policy; a hook made on its own gets one of its own.

    As Locust's hooks, a hook takes attributes of its own: ``mock.patch.object(hook, "fire",
    wraps=hook.fire)`` patches this hook's ``fire`` (``measure()`` goes through it too), and
    deleting the attribute restores the class's.
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_checked",
        "_index",
        "_mutation_lock",
        "_next_serial",
        "_policy",
        "_pool_source",
        "_profiler",
        "_records",
        "_stale",
        "_stand_ins",
        "_unindexed",
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
        #: The registrations, by a serial number that grows with each: in registration order,
        #: and one is removed without moving the others. The tuples fire walks derive from it.
        self._records: dict[int, _Record] = {}
        self._next_serial = 0
        #: The serial of the registration of each hashable listener (a list of them, in order,
        #: for one registered more than once), found as a dict finds keys (identity, else
        #: equal hash and ``==``): remove_listener scans none. A lone serial is kept as an int,
        #: not a list: per-user listeners then allocate less for the cycle collector to walk.
        self._index: dict[object, int | list[int]] = {}
        #: The serials of listeners that cannot be hashed (or whose hash or ``==`` raised).
        self._unindexed: dict[int, None] = {}
        #: Whether the tuples fire walks are the stand-ins that rebuild them (see
        #: ``REBUILD_AT_ONCE_UP_TO``); ``len(hook)`` and the properties read the records.
        self._stale = False
        self._stand_ins = ((_RebuildingFire(self, False),), (_RebuildingFire(self, True),))
        #: (function, bound) -> (code, defaults, keyword defaults, passes, names it takes):
        #: the registration checks of plain functions, which depend on nothing else.
        self._checked: dict[tuple[FunctionType, bool], tuple[object, object, object, object, Any]]
        self._checked = {}
        #: While set, fire calls profiling wrappers of the entries instead.
        self._profiler: Profiler | None = None
        # Threads may register too; greenlets never switch inside a mutation. Reentrant: the
        # first fire after changes takes it to rebuild the tuples, and a signal handler may
        # fire between two statements of a mutation in the same thread.
        self._mutation_lock = threading.RLock()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} with {len(self._records)} listener(s)>"

    def __len__(self) -> int:
        """How many listener registrations a fire calls (a listener added twice counts twice)."""
        return len(self._records)

    def __bool__(self) -> bool:
        """Whether any listener is registered: ``if hook:`` skips building an unwanted payload."""
        return bool(self._records)

    @property
    def listeners(self) -> tuple[Callable[..., Any], ...]:
        """The registered listeners, in order, as a snapshot that later changes do not touch."""
        with self._mutation_lock:
            return tuple([record[0] for record in self._records.values()])

    @property
    def registrations(self) -> tuple[Registration, ...]:
        """Every registration, in order: the listener and the pool it runs in (``None``:
        called in the firing greenlet). A snapshot that later changes do not touch."""
        with self._mutation_lock:
            records = tuple(self._records.values())
        registrations = []
        for listener, entry, pool, _ in records:
            batch_listener = batch_listener_of(entry)
            batch = None if batch_listener is None else batch_listener.settings
            source = batch_listener or spawned_listener_of(entry)
            timeout = None if source is None else source.timeout or None
            registrations.append(Registration(listener, pool, batch, timeout))
        return tuple(registrations)

    @property
    def pools(self) -> frozenset[ListenerPool]:
        """The pools the spawned listeners registered now run in."""
        with self._mutation_lock:
            return frozenset(record[2] for record in self._records.values() if record[2])

    @property
    def policy(self) -> ErrorPolicy:
        """The error policy deciding what a listener's exception does to a fire."""
        return self._policy

    def add_listener(
        self: EventHook[_ListenerT],
        func: _ListenerT,
        spawn: bool | ListenerPool = False,
        *,
        timeout: float | None = None,
    ) -> _ListenerT:
        """Register ``func`` to be called on every fire, after the listeners already there.

        Returns ``func`` unchanged, so this works as a decorator. Adding a listener twice
        registers it twice. A fire already running does not call it. When the hook declares
        what it passes and ``func`` has no ``**kwargs`` and does not take every declared name,
        each fire calls it with only the names it takes (worked out here, once), as a
        listener of Locust's shape expects. One that requires a name the hook does not
        declare (a custom client's ``grpc_status``) is accepted, as on Locust, with a warning
        logged once: a fire that does not pass it counts one listener error.

        :param spawn: ``True`` runs ``func`` in the owning registry's :class:`ListenerPool`
            instead of the firing greenlet (a standalone hook uses the process-wide default
            pool); a ``ListenerPool`` runs it there. The fire then only queues the call.
        :param timeout: seconds a spawned call may run before it is abandoned, counted failed
            and timed out (see ``ListenerPool``); ``None`` takes the pool's ``timeout``.

        :raises TypeError: ``func`` is not callable, is an ``async def`` or generator
            function, or (when the hook declares what it passes) requires a positional-only
            parameter.
        """
        takes = self._check_listener(func)
        listener: Callable[..., Any] = func if takes is None else FilteredListener(func, takes)
        pool: ListenerPool | None = None
        if spawn is True:
            pool = self._pool_source()
        elif isinstance(spawn, ListenerPool):
            pool = spawn
        elif spawn is not False:
            raise TypeError(
                f"Cannot add listener {describe_listener(func)} to hook {self.name!r}: spawn "
                f"must be True, False or a ListenerPool, not {spawn!r}"
            )
        owner = f"Cannot add listener {describe_listener(func)} to hook {self.name!r}"
        limit = listener_timeout(owner, timeout, pool)
        if pool is not None:
            listener = spawned_listener(self, listener, pool, limit)
        self._register(func, listener, pool)
        return func

    def _register(self, func: Any, entry: Callable[..., Any], pool: ListenerPool | None) -> None:
        """Record ``func``'s registration, called through ``entry``, after the others."""
        with self._mutation_lock:
            serial = self._next_serial
            self._next_serial = serial + 1
            self._records[serial] = (func, entry, pool, self._indexed(func, serial))
            self._listeners_changed()

    def spawn_listener(self: EventHook[_ListenerT], func: _ListenerT) -> _ListenerT:
        """Decorator form of ``add_listener(func, spawn=True)``."""
        return self.add_listener(func, spawn=True)

    def add_batch_listener(
        self,
        func: _BatchListenerT,
        *,
        max_size: int = 1000,
        max_wait: float = 1.0,
        pool: ListenerPool | None = None,
        timeout: float | None = None,
    ) -> _BatchListenerT:
        """Register ``func`` to get this hook's fires in batches: ``func(batch)``, where
        ``batch`` is a list of the fires' keyword arguments, each a read-only mapping as at
        fire time, in fire order.

        A batch is delivered once it holds ``max_size`` events, once ``max_wait`` seconds
        passed since its first event, and when its pool is joined or closed (shutdown
        included) or ``func`` is removed: nothing fired is lost. It runs in ``pool`` (else
        the registry's pool), where its events count one by one: against the pool's bound
        (``maxsize``) from the fire until a worker takes their batch, as queued calls do,
        and in its statistics (a batch of 50 completes 50 calls, or fails 50, logged once).
        An event fired when the pool holds ``maxsize`` events or calls meets the pool's
        ``on_full``: "block" waits for a worker to take a batch (fired from the hub, which
        cannot wait, the event is taken all the same), "drop" drops that event, "raise"
        raises :class:`~locust_events.PoolFull`.

        A batch's call running past ``timeout`` seconds (``None``: the pool's ``timeout``) is
        abandoned, its events counted failed and timed out.
        Returns ``func`` unchanged. :meth:`batch_listener` is the decorator form.

        :raises TypeError: ``func`` is not callable, cannot take one positional argument,
            or a setting is not a number.
        :raises ValueError: ``max_size`` is below 1 or above the pool's ``maxsize``, or
            ``max_wait`` is not above 0.
        """
        check_batch_listener(self.name, func, max_size, max_wait)
        if pool is None:
            pool = self._pool_source()
        elif not isinstance(pool, ListenerPool):
            raise TypeError(
                f"Cannot add batch listener {describe_listener(func)} to hook {self.name!r}: "
                f"pool must be a ListenerPool or None, not {pool!r}"
            )
        check_pool_fits(self.name, func, max_size, pool)
        owner = f"Cannot add batch listener {describe_listener(func)} to hook {self.name!r}"
        limit = listener_timeout(owner, timeout, pool)
        settings = BatchSettings(max_size, float(max_wait))
        batch_listener = BatchListener(self, func, queue_of(pool), settings, limit)
        self._register(func, batch_listener.accept, pool)
        return func

    @overload
    def batch_listener(self, func: _BatchListenerT) -> _BatchListenerT: ...

    @overload
    def batch_listener(
        self,
        *,
        max_size: int = 1000,
        max_wait: float = 1.0,
        pool: ListenerPool | None = None,
        timeout: float | None = None,
    ) -> Callable[[_BatchListenerT], _BatchListenerT]: ...

    def batch_listener(
        self,
        func: Callable[[list[Mapping[str, Any]]], Any] | None = None,
        *,
        max_size: int = 1000,
        max_wait: float = 1.0,
        pool: ListenerPool | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Decorator form of :meth:`add_batch_listener`, bare for the default settings::

        @events.request.batch_listener(max_size=500, max_wait=2.0)
        def write_rows(batch):
            database.insert_many(batch)
        """
        if func is not None:
            return self.add_batch_listener(func)

        def register(func: _BatchListenerT) -> _BatchListenerT:
            return self.add_batch_listener(
                func, max_size=max_size, max_wait=max_wait, pool=pool, timeout=timeout
            )

        return register

    def remove_listener(self, func: Callable[..., Any]) -> None:
        """Remove the first registration of ``func``: the very object, else one equal to it
        (as a new bound method of the same object and function is).

        A fire already running still calls it. A registered listener whose ``==`` raises is
        taken as not equal. Equal listeners are found as a dict finds keys, by their hash
        first, so removing one costs the same however many are registered; a listener that
        cannot be hashed is compared with every registered one.

        A batch listener's unfinished batch is handed over to its pool (at once in the
        pool's thread, else by its ``max_wait``), not lost.

        :raises ValueError: ``func`` is not registered on this hook.
        """
        with self._mutation_lock:
            serial = self._serial_of(func)
            if serial is None:
                raise ValueError(
                    f"Cannot remove listener {describe_listener(func)} from hook {self.name!r}: "
                    "it is not registered there (was it added to another hook, or removed already?)"
                )
            registered, entry, _, indexed = self._records.pop(serial)
            if indexed:
                self._unindex(registered, serial)
            else:
                del self._unindexed[serial]
            self._listeners_changed()
        if (batch_listener := batch_listener_of(entry)) is not None:
            batch_listener.detach()

    # Twin: hookcore_measure in _speedups.c, the compiled HookCore's measure.
    if not COMPILED:

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
            ``response_length``, ``context``, ``exception``, ``start_time``), the keys Locust's
            own ``measure`` passes; whatever it adds or changes is passed on. An ``Exception``
            raised in the block becomes ``exception`` and is not re-raised. ``response_time``
            is in milliseconds.
            """
            return Measurement(self, request_type, name, response_length, context)

    def record_failure(self, listener: Callable[..., Any], error: Exception) -> None:
        """Log and count ``error``, raised by ``listener`` outside a fire (a pool ran it),
        under the hook's error policy; it never raises, strict mode included, since no fire
        is there to stop."""
        if type(listener) is FilteredListener:
            listener = listener.__wrapped__
        self._policy.record(self, listener, error)

    def _check_listener(self, func: object) -> frozenset[str] | None:
        """Refuse ``func`` if it cannot be a listener here; else the names to call it with
        (``None``: everything a fire passes).

        The checks of a plain function (or a method bound to one) depend only on its code,
        its defaults and whether it is bound: they run once for, say, the bound methods of
        10,000 users of one class, and again when any of those changed.
        """
        if not callable(func):
            raise TypeError(
                f"Cannot add {func!r} to hook {self.name!r}: a listener must be callable "
                "(pass the function itself, not the result of calling it)"
            )
        bound = isinstance(func, MethodType)
        function: object = func.__func__ if isinstance(func, MethodType) else func
        # Attributes (``__wrapped__``, ``__signature__``...) can change what inspect sees.
        if not isinstance(function, FunctionType) or function.__dict__:
            return self._inspect_listener(func)
        key = (function, bound)
        passes = self.passes
        checked = self._checked.get(key)
        if (
            checked is not None
            and checked[0] is function.__code__
            and checked[1] is function.__defaults__
            and checked[2] is function.__kwdefaults__
            and checked[3] is passes
        ):
            takes: frozenset[str] | None = checked[4]
            return takes
        takes = self._inspect_listener(func)
        if len(self._checked) >= _CHECKS_KEPT:
            self._checked.clear()
        self._checked[key] = (
            function.__code__,
            function.__defaults__,
            function.__kwdefaults__,
            passes,
            takes,
        )
        return takes

    def _inspect_listener(self, func: object) -> frozenset[str] | None:
        refuse_listener_that_never_runs(self.name, func)
        if self.passes is not None:
            return check_listener_signature(self.name, self.passes, func)
        return None

    def _indexed(self, func: object, serial: int) -> bool:
        """Enter registration ``serial`` of ``func`` in the index; whether it could be."""
        index = self._index
        try:
            equals = index.get(func)
            if equals is None:
                index[func] = serial
            elif isinstance(equals, int):
                index[func] = [equals, serial]
            else:
                equals.append(serial)
        except Exception:  # unhashable, or a hash or == that raises
            self._unindexed[serial] = None
            return False
        return True

    def _unindex(self, registered: object, serial: int) -> None:
        # An == that raises leaves the entry: lookups skip serials no longer registered.
        with contextlib.suppress(Exception):
            equals = self._index[registered]
            if isinstance(equals, int):
                del self._index[registered]
            else:
                equals.remove(serial)
                if not equals:
                    del self._index[registered]

    def _serial_of(self, func: object) -> int | None:
        """The first registration of ``func``: the very object, else one equal to it. An
        ``==`` that raises is no match, so one listener's broken ``__eq__`` cannot keep
        another from being removed."""
        records = self._records
        try:
            equals = self._index.get(func)
        except Exception:  # unhashable, or a hash or == that raises: look at every one
            candidates: Iterable[int] = records
        else:
            if isinstance(equals, int):
                if equals in records:
                    return equals
            elif equals:
                registered = [serial for serial in equals if serial in records]
                for serial in registered:
                    if records[serial][0] is func:
                        return serial
                if registered:
                    return registered[0]
            candidates = self._unindexed
        return _first_match(func, ((serial, records[serial][0]) for serial in candidates))

    def _listeners_changed(self) -> None:
        """Bring the tuples fire walks up to date, now or at the next fire (under the lock)."""
        if len(self._records) <= REBUILD_AT_ONCE_UP_TO:
            self._rebuild_listeners()
        else:
            self._stale = True
            self._listeners, self._reversed_listeners = self._stand_ins

    def _rebuild_listeners(self) -> None:
        records = tuple(self._records.values())
        profiler = self._profiler
        listeners = (
            tuple([record[1] for record in records])
            if profiler is None
            else profiler.wrap_all(self, tuple([(entry, pool) for _, entry, pool, _ in records]))
        )
        self._listeners = listeners
        self._reversed_listeners = listeners[::-1]
        self._stale = False

    def _current_listeners(self, reverse: bool) -> tuple[Callable[..., Any], ...]:
        """The listeners a fire starting now calls, the tuples rebuilt if changes wait."""
        with self._mutation_lock:
            if self._stale:
                self._rebuild_listeners()
            return self._reversed_listeners if reverse else self._listeners

    def _profile_with(self, profiler: Profiler | None) -> None:
        """Start (a profiler) or stop (``None``) calling profiling wrappers of the listeners."""
        with self._mutation_lock:
            self._profiler = profiler
            if profiler is None:
                for _, entry, _, _ in self._records.values():
                    if source := batch_listener_of(entry) or spawned_listener_of(entry):
                        source.profile = None
            self._rebuild_listeners()

    def _listener_failed(self, listener: Callable[..., Any], error: Exception) -> None:
        if type(listener) is _RebuildingFire:
            raise error  # it handled each listener's error as it raised; this one stops the fire
        source = batch_listener_of(listener) or spawned_listener_of(listener)  # its enqueue
        listener = listener if source is None else source.listener
        if type(listener) is FilteredListener:
            listener = listener.__wrapped__
        self._policy.handle(self, listener, error)


def _first_match(func: object, registered: Iterator[tuple[int, object]]) -> int | None:
    """The serial of the first of ``registered`` that is ``func``, else that equals it."""
    candidates = list(registered)
    for serial, candidate in candidates:
        if candidate is func:
            return serial
    for serial, candidate in candidates:
        with contextlib.suppress(Exception):
            if candidate == func:
                return serial
    return None
