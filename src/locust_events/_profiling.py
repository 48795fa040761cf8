"""Opt-in per-listener profiling: calls, time, errors and queue wait, while a ``Profiler`` runs.

Profiling wraps each listener in the hooks' called tuples and unwraps them when it stops, so
a registry that is not being profiled runs exactly the code it runs without this module.
"""

from __future__ import annotations

import functools
import keyword
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Final, Protocol, cast, final

from ._batching import batch_listener_of
from ._errors import describe_listener
from ._histogram import Histogram, add, quantile
from ._settings import PROFILE_VARIABLE, switch
from ._spawned import SpawnedListener, spawned_listener_of
from ._text import shorten_middle

if TYPE_CHECKING:
    from ._pool import ListenerPool


class ProfiledHook(Protocol):
    """What a profiler reads of a hook: its name, and the keyword arguments it declares."""

    @property
    def name(self) -> str: ...

    @property
    def passes(self) -> frozenset[str] | None: ...


__all__ = ["PROFILE_VARIABLE", "ListenerProfile", "Profiler", "profiling_requested"]


def profiling_requested() -> bool:
    """Whether the environment asks for listener profiling (``LOCUST_EVENTS_PROFILE=1``)."""
    return switch(PROFILE_VARIABLE, False)


_perf_counter: Final = time.perf_counter


@final
@dataclass(slots=True)
class ListenerProfile:
    """What one listener of one hook cost while the profiler ran.

    Two costs are told apart. What the *users* pay is the fire's share: the whole call for a
    listener run in the firing greenlet (``sync``), only the enqueue for a spawned one (which
    may wait for room in a full pool). How long the *listener* takes is the call itself, for
    a spawned listener including the time it waits cooperatively on its own I/O, which no
    user waits for. Batch listeners' fires (an append) are not timed.
    """

    hook: str
    listener: str
    spawned: bool
    #: Calls that ran (for a spawned listener: that a worker ran).
    calls: int = 0
    #: Calls that raised (spawned and batch calls: also those abandoned past their timeout).
    errors: int = 0
    #: Seconds of the timed calls (every call, or one in ``sample_every``), summed and at most.
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    #: The timed calls' durations, in logarithmic buckets (bounded: see ``_histogram``).
    durations: Histogram = field(default_factory=dict)
    #: Spawned only: seconds from the fire to a worker starting the call, summed and at most.
    queue_wait_total_seconds: float = 0.0
    queue_wait_max_seconds: float = 0.0
    #: Calls whose time (and, spawned, queue wait) was measured: all of them unless sampled.
    timed_calls: int = 0
    #: Spawned only: the timed fires' cost to the firing greenlet (the enqueue), as above.
    timed_fires: int = 0
    fire_total_seconds: float = 0.0
    fire_max_seconds: float = 0.0
    fire_costs: Histogram = field(default_factory=dict)
    #: Spawned only: the name of the pool that runs it.
    pool: str = ""
    #: Batch listeners only: the events in the batches that ran (``calls`` counts batches).
    events: int = 0
    #: Whether it is a batch listener (each call gets a batch of events).
    batched: bool = False

    @property
    def kind(self) -> str:
        """``sync``, ``spawned`` or ``batch``."""
        return "batch" if self.batched else "spawned" if self.spawned else "sync"

    @property
    def mean_batch_size(self) -> float:
        """Batch listeners: the mean events per batch that ran."""
        return self.events / self.calls if self.calls else 0.0

    @property
    def mean_seconds(self) -> float:
        """The listener's mean duration over the timed calls."""
        return self.total_seconds / self.timed_calls if self.timed_calls else 0.0

    @property
    def estimated_total_seconds(self) -> float:
        """The listener's time over all its calls: the timed calls' mean times every call."""
        return self.mean_seconds * self.calls

    @property
    def mean_fire_seconds(self) -> float | None:
        """What a fire cost its user, on average: the whole call if sync, the enqueue if
        spawned; None for a batch listener (its fires are not timed)."""
        if self.batched:
            return None
        if not self.spawned:
            return self.mean_seconds
        return self.fire_total_seconds / self.timed_fires if self.timed_fires else 0.0

    @property
    def estimated_fire_total_seconds(self) -> float:
        """What the users paid for this listener in all: the mean fire cost times the calls."""
        return (self.mean_fire_seconds or 0.0) * self.calls

    @property
    def mean_queue_wait_seconds(self) -> float:
        return self.queue_wait_total_seconds / self.timed_calls if self.timed_calls else 0.0

    def percentile_seconds(self, fraction: float) -> float | None:
        """The duration below which ``fraction`` of the timed calls fell (None before any)."""
        found = quantile(self.durations, fraction)
        return None if found is None else min(found, self.max_seconds)

    def record(self, seconds: float, failed: bool) -> None:
        """A timed call ended: count it and its time."""
        self.count(failed)
        self.record_time(seconds)

    def count(self, failed: bool) -> None:
        """A call ended (a spawned or batch one, as its pool's round counts it)."""
        self.calls += 1
        self.errors += failed

    def record_time(self, seconds: float) -> None:
        """The time of a call that is (or will be) counted apart."""
        self.timed_calls += 1
        self.total_seconds += seconds
        if seconds > self.max_seconds:
            self.max_seconds = seconds
        add(self.durations, seconds)

    def record_wait(self, seconds: float) -> None:
        self.queue_wait_total_seconds += seconds
        if seconds > self.queue_wait_max_seconds:
            self.queue_wait_max_seconds = seconds

    def record_fire(self, seconds: float) -> None:
        self.timed_fires += 1
        self.fire_total_seconds += seconds
        if seconds > self.fire_max_seconds:
            self.fire_max_seconds = seconds
        add(self.fire_costs, seconds)

    def reset(self) -> None:
        """Forget every figure (Locust's "Reset Stats"); what it is, and where, stays."""
        for spec in fields(self):
            if spec.name in _IDENTITY:
                continue
            default: Any = (
                spec.default_factory() if callable(spec.default_factory) else spec.default
            )
            setattr(self, spec.name, default)


#: The fields of a profile that say what it profiles, kept by ``reset``.
_IDENTITY: Final = frozenset({"hook", "listener", "spawned", "pool", "batched"})


@final
class _TimedCall:
    """Runs a listener and records its time in a profile."""

    __slots__ = ("__wrapped__", "_profile")

    def __init__(self, listener: Callable[..., Any], profile: ListenerProfile) -> None:
        self.__wrapped__ = listener
        self._profile = profile

    def __call__(self, **kwargs: Any) -> Any:
        failed = True
        started = _perf_counter()
        try:
            result = self.__wrapped__(**kwargs)
            failed = False
            return result
        finally:
            self._profile.record(_perf_counter() - started, failed)


@final
class _TimedSpawnedCall:
    """One sampled spawned call, made as its fire starts: records what the enqueue cost the
    firer, how long the call waited in the queue and how long it ran (its pool's round
    counts it, as every call)."""

    __slots__ = ("__wrapped__", "_fired_at", "_profile")

    def __init__(self, listener: Callable[..., Any], profile: ListenerProfile) -> None:
        self.__wrapped__ = listener
        self._profile = profile
        self._fired_at = _perf_counter()

    def queued(self) -> None:
        self._profile.record_fire(_perf_counter() - self._fired_at)

    def __call__(self, **kwargs: Any) -> Any:
        profile = self._profile
        started = _perf_counter()
        profile.record_wait(started - self._fired_at)
        try:
            return self.__wrapped__(**kwargs)
        finally:
            profile.record_time(_perf_counter() - started)


def _sampled_call(
    listener: Callable[..., Any], profile: ListenerProfile, every: int
) -> Callable[..., Any]:
    """A stand-in for ``listener`` that counts every call and error and times one in ``every``.

    The first call is timed, then every ``every``-th: the counts stay exact while the timer
    runs rarely. A closure rather than an object with ``__call__``: CPython calls a function
    with keyword arguments for about half of what it takes to call an instance, and this
    runs on every request.
    """
    countdown = 1

    def sampled(**kwargs: Any) -> Any:
        nonlocal countdown
        countdown -= 1
        if countdown:
            profile.calls += 1
            try:
                return listener(**kwargs)
            except Exception:
                profile.errors += 1
                raise
        countdown = every
        failed = True
        started = _perf_counter()
        try:
            result = listener(**kwargs)
            failed = False
            return result
        finally:
            profile.record(_perf_counter() - started, failed)

    sampled.__wrapped__ = listener  # type: ignore[attr-defined]
    return sampled


#: Stands for a keyword argument a fire did not pass, in a wrapper that names them all.
_NOT_PASSED: Final = object()
#: Names the generated wrappers use themselves: a hook passing one of them gets the generic one.
_WRAPPER_NAMES: Final = frozenset(
    {"_listener", "_profile", "_every", "_generic", "_not_passed", "_clock", "_countdown"}
    | {"_sampled", "_result", "_failed", "_started", "_rest"}
)

_NAMED_WRAPPER_SOURCE: Final = """
def _make(_listener, _profile, _every, _generic, _not_passed, _clock):
    _countdown = 1

    def _sampled(*, {parameters}, **_rest):
        nonlocal _countdown
        if _rest or {any_missing}:
            return _generic(**{{k: v for k, v in {pairs} if v is not _not_passed}}, **_rest)
        _countdown -= 1
        if _countdown:
            _profile.calls += 1
            try:
                return _listener({arguments})
            except Exception:
                _profile.errors += 1
                raise
        _countdown = _every
        _failed = True
        _started = _clock()
        try:
            _result = _listener({arguments})
            _failed = False
            return _result
        finally:
            _profile.record(_clock() - _started, _failed)

    return _sampled
"""


@functools.lru_cache(maxsize=64)
def _named_wrapper_factory(names: tuple[str, ...]) -> Callable[..., Callable[..., Any]]:
    """Make (once per set of names) a factory of :func:`_sampled_call` that names them all.

    A wrapper that takes ``(**kwargs)`` builds a dict on every call and unpacks it again;
    one whose keyword parameters are the names the hook passes takes them and passes them
    on without either, which costs about half as much per call. Generated, as dataclasses
    generate ``__init__``, because the names are the hook's. Fires that leave a name out or
    pass more go through the generic wrapper, so every fire reaches the listener as is.
    """
    source = _NAMED_WRAPPER_SOURCE.format(
        parameters=", ".join(f"{name}=_not_passed" for name in names),
        any_missing=" or ".join(f"{name} is _not_passed" for name in names),
        pairs="(" + "".join(f"({name!r}, {name}), " for name in names) + ")",
        arguments=", ".join(f"{name}={name}" for name in names),
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<locust_events sampled wrapper of {names}>", "exec"), namespace)  # noqa: S102
    make: Callable[..., Callable[..., Any]] = namespace["_make"]
    return make


def _sampled_call_of_hook(
    passes: frozenset[str] | None,
    listener: Callable[..., Any],
    profile: ListenerProfile,
    every: int,
) -> Callable[..., Any]:
    """:func:`_sampled_call`, with the hook's names as parameters where they allow it."""
    generic = _sampled_call(listener, profile, every)
    if (
        not passes
        or len(passes) > 32
        or passes & _WRAPPER_NAMES
        or not all(name.isidentifier() and not keyword.iskeyword(name) for name in passes)
    ):
        return generic
    make = _named_wrapper_factory(tuple(sorted(passes)))
    sampled = make(listener, profile, every, generic, _NOT_PASSED, _perf_counter)
    sampled.__wrapped__ = listener  # type: ignore[attr-defined]
    return sampled


#: What a hook calls for one registration (the listener, a ``FilteredListener`` or the enqueue
#: of the ``SpawnedListener`` that queues it), and the pool it runs in (``None``: not spawned).
Entry = tuple[Callable[..., Any], "ListenerPool | None"]


def _listener_of(entry: Entry) -> object:
    """The listener a hook entry stands for: a spawned listener's function, else itself."""
    called, pool = entry
    if pool is None:
        return called
    batch_listener = batch_listener_of(called)
    if batch_listener is not None:
        return batch_listener.listener
    return cast("SpawnedListener", spawned_listener_of(called)).listener


@final
class Profiler:
    """Collects a :class:`ListenerProfile` per listener of the hooks it was attached to.

    Made and attached by :meth:`Events.start_profiling` (or the ``Events.profiling()``
    context manager); read :meth:`as_dict` or :meth:`table` at any time.
    """

    __slots__ = ("_profiles", "_retired", "_wrappers", "sample_every")

    def __init__(self, sample_every: int = 1) -> None:
        if isinstance(sample_every, bool) or not isinstance(sample_every, int) or sample_every < 1:
            raise ValueError(
                f"Profiler: sample_every must be a whole number of calls, at least 1 (1 times "
                f"every call), not {sample_every!r}"
            )
        #: One call in this many is timed; every call is counted.
        self.sample_every: Final = sample_every
        #: The profiles of the listeners registered now, by hook name, then listener id.
        self._profiles: dict[str, dict[int, ListenerProfile]] = {}
        #: The profiles of listeners removed since: their figures, not the listeners.
        self._retired: list[ListenerProfile] = []
        # Per hook, entry id -> (entry, its wrapper), so re-wrapping after an add or remove
        # keeps the same profile. Only the hook's current entries are kept.
        self._wrappers: dict[str, dict[int, tuple[object, Callable[..., Any]]]] = {}

    def wrap_all(
        self, hook: ProfiledHook, entries: Sequence[Entry]
    ) -> tuple[Callable[..., Any], ...]:
        """The callables a profiled hook calls in place of its ``entries``, in order.

        Listeners no longer among the entries are let go: their rows keep their figures.
        """
        wrappers = tuple(self.wrap(hook, entry) for entry in entries)
        current = {id(called) for called, _ in entries}
        cache = self._wrappers.get(hook.name, {})
        for entry_id in [entry_id for entry_id in cache if entry_id not in current]:
            del cache[entry_id]
        listeners = {id(_listener_of(entry)) for entry in entries}
        profiles = self._profiles.get(hook.name, {})
        for listener_id in [i for i in profiles if i not in listeners]:
            self._retired.append(profiles.pop(listener_id))
        return wrappers

    def wrap(self, hook: ProfiledHook, entry: Entry) -> Callable[..., Any]:
        """The callable a profiled hook calls in place of ``entry`` (a listener or a spawn)."""
        called, pool = entry
        cache = self._wrappers.setdefault(hook.name, {})
        cached = cache.get(id(called))
        if cached is not None and cached[0] is called:
            return cached[1]
        listener = _listener_of(entry)
        profiles = self._profiles.setdefault(hook.name, {})
        profile = profiles.get(id(listener))
        if profile is None:
            profile = ListenerProfile(hook.name, describe_listener(listener), pool is not None)
            if pool is not None:
                profile.pool = pool.name
            profiles[id(listener)] = profile
        every = self.sample_every
        wrapper: Callable[..., Any]
        batch_listener = None if pool is None else batch_listener_of(called)
        if batch_listener is not None:
            # Its batches are timed when they run; the fire's half (an append) stays as is.
            profile.batched = True
            batch_listener.profile_with(profile)
            wrapper = called
        elif pool is not None:
            # Counted as each call ends, one fire in ``every`` timed, by the spawned listener.
            spawned = cast("SpawnedListener", spawned_listener_of(called))
            timed_run = functools.partial(_TimedSpawnedCall, spawned.listener, profile)
            spawned.profile_with(profile, every, timed_run)
            wrapper = called
        elif every == 1:
            wrapper = _TimedCall(called, profile)
        else:
            wrapper = _sampled_call_of_hook(hook.passes, called, profile, every)
        cache[id(called)] = (called, wrapper)
        return wrapper

    @property
    def profiles(self) -> list[ListenerProfile]:
        """Every listener's profile, the costliest to its users first (what they paid in all,
        estimated from the timed calls), then the costliest to run."""
        every = [p for profiles in self._profiles.values() for p in profiles.values()]
        every += self._retired
        return sorted(
            every,
            key=lambda p: (p.estimated_fire_total_seconds, p.estimated_total_seconds),
            reverse=True,
        )

    def reset(self) -> None:
        """Start every figure afresh (Locust's "Reset Stats"): the listeners stay wrapped, and
        those removed since profiling started are forgotten."""
        for profiles in self._profiles.values():
            for profile in profiles.values():
                profile.reset()
        self._retired.clear()

    def as_dict(self) -> dict[str, list[Mapping[str, Any]]]:
        """The profiles by hook name, as plain data (for JSON or a runner's UI)."""
        by_hook: dict[str, list[Mapping[str, Any]]] = {}
        for profile in self.profiles:
            by_hook.setdefault(profile.hook, []).append(
                {
                    **asdict(profile),
                    "mean_seconds": profile.mean_seconds,
                    "mean_batch_size": profile.mean_batch_size,
                    "estimated_total_seconds": profile.estimated_total_seconds,
                    "mean_fire_seconds": profile.mean_fire_seconds,
                }
            )
        return by_hook

    def table(self) -> str:
        """A readable table of the profiles, the costliest to the users first.

        "user µs" is what a fire cost its user on average (a spawned listener's enqueue);
        "p50", "p95" and "max µs" are the listener's own durations; "user total s" is what the
        users paid in all, the mean times every call (marked ``~`` where calls were sampled).
        """
        sampled = self.sample_every > 1
        header = (
            f"{'hook':<20} {'listener':<48} {'kind':<7} {'calls':>8} {'errors':>6} "
            f"{'user µs':>9} {'mean µs':>9} {'p50 µs':>9} {'p95 µs':>9} {'max µs':>9} "
            f"{'user total s':>12} {'max wait ms':>11}"
        )
        rows = [header, "-" * len(header)]
        for p in self.profiles:
            wait = f"{p.queue_wait_max_seconds * 1e3:11.2f}" if p.spawned else f"{'':>11}"
            name = p.listener
            if p.batched:
                name = f"{name} ({p.mean_batch_size:.0f} per batch)"
            fire = p.mean_fire_seconds
            total = (
                ""
                if fire is None
                else ("~" if sampled else "") + f"{p.estimated_fire_total_seconds:.3f}"
            )
            rows.append(
                f"{p.hook:<20} {shorten_middle(name, 48):<48} {p.kind:<7} "
                f"{p.calls:>8} {p.errors:>6} {_micros_text(fire):>9} "
                f"{p.mean_seconds * 1e6:>9.1f} {_micros_text(p.percentile_seconds(0.5)):>9} "
                f"{_micros_text(p.percentile_seconds(0.95)):>9} {p.max_seconds * 1e6:>9.1f} "
                f"{total:>12} {wait}"
            )
        return "\n".join(row.rstrip() for row in rows)


def _micros_text(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1e6:.1f}"
