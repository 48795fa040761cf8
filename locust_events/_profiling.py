"""Opt-in per-listener profiling: calls, time, errors and queue wait, while a ``Profiler`` runs.

Profiling wraps each listener in the hooks' called tuples and unwraps them when it stops, so
a registry that is not being profiled runs exactly the code it runs without this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final, final

from ._errors import describe_listener
from ._text import shorten_middle

if TYPE_CHECKING:
    from ._hooks import EventHook, SpawnedListener

__all__ = ["ListenerProfile", "Profiler"]

_perf_counter: Final = time.perf_counter


@final
@dataclass
class ListenerProfile:
    """What one listener of one hook cost while the profiler ran."""

    hook: str
    listener: str
    spawned: bool
    #: Calls that ran (for a spawned listener: that a worker ran).
    calls: int = 0
    #: Calls that raised.
    errors: int = 0
    total_seconds: float = 0.0
    max_seconds: float = 0.0
    #: Spawned only: seconds from the fire to a worker starting the call, summed and at most.
    queue_wait_total_seconds: float = 0.0
    queue_wait_max_seconds: float = 0.0

    @property
    def mean_seconds(self) -> float:
        return self.total_seconds / self.calls if self.calls else 0.0

    def record(self, seconds: float, failed: bool) -> None:
        self.calls += 1
        self.errors += failed
        self.total_seconds += seconds
        if seconds > self.max_seconds:
            self.max_seconds = seconds

    def record_wait(self, seconds: float) -> None:
        self.queue_wait_total_seconds += seconds
        if seconds > self.queue_wait_max_seconds:
            self.queue_wait_max_seconds = seconds


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
class _QueuedTimedCall:
    """One spawned call: records how long it waited in the queue, then runs timed."""

    __slots__ = ("__wrapped__", "_fired_at")

    def __init__(self, timed: _TimedCall, fired_at: float) -> None:
        self.__wrapped__ = timed
        self._fired_at = fired_at

    def __call__(self, **kwargs: Any) -> Any:
        timed = self.__wrapped__
        timed._profile.record_wait(_perf_counter() - self._fired_at)
        return timed(**kwargs)


@final
class _TimedSpawn:
    """Stands for a spawned listener while profiling: queues a call that knows its fire time."""

    __slots__ = ("__wrapped__", "_timed")

    def __init__(self, spawned: SpawnedListener, profile: ListenerProfile) -> None:
        self.__wrapped__ = spawned
        self._timed = _TimedCall(spawned.listener, profile)

    def __call__(self, **kwargs: Any) -> None:
        spawned = self.__wrapped__
        call = _QueuedTimedCall(self._timed, _perf_counter())
        spawned.pool.submit(spawned.hook, call, kwargs)


def _listener_of(entry: object) -> object:
    """The listener a hook entry stands for: a spawned listener's function, else itself."""
    from ._hooks import SpawnedListener

    return entry.listener if isinstance(entry, SpawnedListener) else entry


@final
class Profiler:
    """Collects a :class:`ListenerProfile` per listener of the hooks it was attached to.

    Made and attached by :meth:`Events.start_profiling` (or the ``Events.profiling()``
    context manager); read :meth:`as_dict` or :meth:`table` at any time.
    """

    __slots__ = ("_profiles", "_retired", "_wrappers")

    def __init__(self) -> None:
        #: The profiles of the listeners registered now, by hook name, then listener id.
        self._profiles: dict[str, dict[int, ListenerProfile]] = {}
        #: The profiles of listeners removed since: their figures, not the listeners.
        self._retired: list[ListenerProfile] = []
        # Per hook, entry id -> (entry, its wrapper), so re-wrapping after an add or remove
        # keeps the same profile. Only the hook's current entries are kept.
        self._wrappers: dict[str, dict[int, tuple[object, Callable[..., Any]]]] = {}

    def wrap_all(
        self, hook: EventHook[Any], entries: tuple[Callable[..., Any], ...]
    ) -> tuple[Callable[..., Any], ...]:
        """The callables a profiled hook calls in place of its ``entries``, in order.

        Listeners no longer among the entries are let go: their rows keep their figures.
        """
        wrappers = tuple(self.wrap(hook, entry) for entry in entries)
        current = {id(entry) for entry in entries}
        cache = self._wrappers.get(hook.name, {})
        for entry_id in [entry_id for entry_id in cache if entry_id not in current]:
            del cache[entry_id]
        listeners = {id(_listener_of(entry)) for entry in entries}
        profiles = self._profiles.get(hook.name, {})
        for listener_id in [i for i in profiles if i not in listeners]:
            self._retired.append(profiles.pop(listener_id))
        return wrappers

    def wrap(self, hook: EventHook[Any], entry: Callable[..., Any]) -> Callable[..., Any]:
        """The callable a profiled hook calls in place of ``entry`` (a listener or a spawn)."""
        cache = self._wrappers.setdefault(hook.name, {})
        cached = cache.get(id(entry))
        if cached is not None and cached[0] is entry:
            return cached[1]
        from ._hooks import SpawnedListener

        spawned = isinstance(entry, SpawnedListener)
        listener = _listener_of(entry)
        profiles = self._profiles.setdefault(hook.name, {})
        profile = profiles.get(id(listener))
        if profile is None:
            profile = ListenerProfile(hook.name, describe_listener(listener), spawned)
            profiles[id(listener)] = profile
        wrapper: Callable[..., Any] = (
            _TimedSpawn(entry, profile)
            if isinstance(entry, SpawnedListener)
            else _TimedCall(entry, profile)
        )
        cache[id(entry)] = (entry, wrapper)
        return wrapper

    @property
    def profiles(self) -> list[ListenerProfile]:
        """Every listener's profile, the costliest (total time) first."""
        every = [p for profiles in self._profiles.values() for p in profiles.values()]
        every += self._retired
        return sorted(every, key=lambda p: p.total_seconds, reverse=True)

    def as_dict(self) -> dict[str, list[Mapping[str, Any]]]:
        """The profiles by hook name, as plain data (for JSON or a runner's UI)."""
        by_hook: dict[str, list[Mapping[str, Any]]] = {}
        for profile in self.profiles:
            by_hook.setdefault(profile.hook, []).append(
                {**asdict(profile), "mean_seconds": profile.mean_seconds}
            )
        return by_hook

    def table(self) -> str:
        """A readable table of the profiles, costliest first."""
        header = (
            f"{'hook':<20} {'listener':<48} {'kind':<7} {'calls':>8} {'errors':>6} "
            f"{'mean µs':>9} {'max µs':>9} {'total s':>9} {'max wait ms':>11}"
        )
        rows = [header, "-" * len(header)]
        for p in self.profiles:
            wait = f"{p.queue_wait_max_seconds * 1e3:11.2f}" if p.spawned else f"{'':>11}"
            rows.append(
                f"{p.hook:<20} {shorten_middle(p.listener, 48):<48} "
                f"{'spawned' if p.spawned else 'sync':<7} "
                f"{p.calls:>8} {p.errors:>6} {p.mean_seconds * 1e6:>9.1f} "
                f"{p.max_seconds * 1e6:>9.1f} {p.total_seconds:>9.3f} {wait}"
            )
        return "\n".join(row.rstrip() for row in rows)
