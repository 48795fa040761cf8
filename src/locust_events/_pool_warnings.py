"""A pool's rate-limited warnings: calls dropped, simulated users waiting for room, calls
abandoned past their timeout. Each kind is logged the first time, then at most once per
interval with the count since, so a saturated pool tells without flooding the log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, final

import gevent.monkey

from ._calls import CallSource
from ._errors import describe_listener, log_safely

__all__ = ["WARNING_INTERVAL", "PoolWarnings"]

_allocate_lock: Final[Callable[[], Any]] = gevent.monkey.get_original("_thread", "allocate_lock")
#: At most one warning of each kind per this many seconds and pool.
WARNING_INTERVAL: Final = 10.0


@final
class _RateLimit:
    """One kind of warning: what happened since it was last logged, and when that was."""

    __slots__ = ("last", "unreported")

    def __init__(self) -> None:
        self.unreported = 0
        #: When it was last logged; ``None`` before the first time, which is logged at once.
        self.last: float | None = None

    def due(self, now: float, count: int, flush: bool) -> int:
        """Count ``count`` more; return how many to log now (0: keep quiet)."""
        self.unreported += count
        if not self.unreported:
            return 0
        if not flush and self.last is not None and now - self.last < WARNING_INTERVAL:
            return 0
        self.last = now
        reported, self.unreported = self.unreported, 0
        return reported


def _named(source: CallSource) -> str:
    return f"{describe_listener(source.listener)} on hook {source.hook.name!r}"


@final
class PoolWarnings:
    """The warnings of one pool, named ``name`` with ``maxsize`` room. Threads note too: the
    counts change under a lock of their own; logging happens outside it."""

    __slots__ = ("_dropped", "_lock", "_timed_out", "_waiting", "maxsize", "name")

    def __init__(self, name: str, maxsize: int) -> None:
        self.name: Final = name
        self.maxsize: Final = maxsize
        self.start_afresh()

    def start_afresh(self) -> None:
        """Nothing noted: at construction, and in a forked child (whose lock is new)."""
        self._lock = _allocate_lock()
        self._dropped = _RateLimit()
        self._waiting = _RateLimit()
        self._timed_out = _RateLimit()

    def _due(self, kind: _RateLimit, now: float, count: int, flush: bool = False) -> int:
        with self._lock:
            return kind.due(now, count, flush)

    def dropped(self, source: CallSource | None, now: float) -> None:
        """A call of ``source`` was dropped for lack of room (``None``: log what the rate
        limit kept quiet, as shutdown does)."""
        count = self._due(self._dropped, now, source is not None, flush=source is None)
        if not count:
            return
        latest = "" if source is None else f", the latest of {_named(source)}"
        log_safely(
            "warning",
            "%s is full (%d pending): dropped %d call(s) of spawned listeners%s; raise its "
            "maxsize or size, or use on_full='block'",
            self.name,
            self.maxsize,
            count,
            latest,
        )

    def waiting_due(self, now: float) -> bool:
        """A firer is about to wait for room: whether to warn (and tell watchers) now."""
        return bool(self._due(self._waiting, now, 1))

    def users_waited(self, waited: int, time_waited: float, listeners: tuple[str, ...]) -> None:
        """Log that firers (simulated users) waited for room, and what to do about it."""
        log_safely(
            "warning",
            "%s is full and users wait for room: %d fire(s) waited so far (%.3f s in all, "
            "waits going on not counted yet), behind listener(s) %s; the users that fire "
            "generate less load while they wait. Give the pool more "
            "workers (size) or room (maxsize), choose on_full='drop' to drop calls instead of "
            "waiting, or make the listener a batch listener",
            self.name,
            waited,
            time_waited,
            ", ".join(listeners) or "(none running now)",
        )

    def timed_out(self, source: CallSource, now: float) -> None:
        """A call of ``source`` ran past its timeout and was abandoned."""
        count = self._due(self._timed_out, now, 1)
        if not count:
            return
        log_safely(
            "warning",
            "%s abandoned %d call(s) that ran past their timeout (%g s), the latest of %s; "
            "they are counted as failed and timed out. A greenlet listener is interrupted "
            "at its next cooperative wait; in a thread-backed pool the thread finishes the "
            "call on its own. Make the listener faster or give it a longer timeout",
            self.name,
            count,
            source.timeout,
            _named(source),
        )
