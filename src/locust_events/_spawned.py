"""A spawned listener in its hook: what each fire of it does, and its profile.

Its ``enqueue`` is the hook's entry: ``keywords_to`` packs a fire's keyword arguments (no
dict) and hands them to :meth:`SpawnedListener.fired`, which queues the call in its pool's
:class:`~locust_events._call_queue.CallQueue`. Compiled by Cython where a compiler exists, as
``_call_queue.py`` is (see there): the ``.pxd`` beside it declares the class a final C type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ._call_queue import CallQueue
from ._calls import NO_TIMEOUT, Arguments, Call, TimedRun
from ._errors import describe_listener
from ._implementation import adopt_compiled_twin, keywords_to, owner_of_forwarder

__all__ = ["SpawnedListener", "spawned_listener_of"]


class SpawnedListener:
    """A spawned listener in its hook: the hook calls its :attr:`enqueue` on every fire, which
    hands the fire's keyword arguments, packed without a dict, to :meth:`fired`."""

    __slots__ = (
        "countdown",
        "enqueue",
        "hook",
        "listener",
        "pool",
        "profile",
        "queue",
        "sample_every",
        "timed_run",
        "timeout",
    )

    def __init__(
        self,
        hook: Any,
        listener: Callable[..., Any],
        pool: Any,
        queue: CallQueue,
        timeout: float = NO_TIMEOUT,
    ) -> None:
        #: The hook it is registered on, whose error policy records its failures.
        self.hook: Final = hook
        #: The function the pool calls (perhaps a ``FilteredListener`` of it).
        self.listener: Final = listener
        #: The pool that runs it.
        self.pool: Final = pool
        #: The pool's queue, whose enqueue a fire is.
        self.queue: Final = queue
        #: Seconds a call may run before it is abandoned (:data:`NO_TIMEOUT`: no limit).
        self.timeout: Final = timeout
        if timeout:
            queue.timeouts_on = True
        #: While profiled (see :meth:`profile_with`): the profile, one fire in how many is
        #: timed, fires left until the next timed one, and what runs a timed call.
        self.profile: Any = None
        self.sample_every = 1
        self.countdown = 1
        self.timed_run: Callable[[], TimedRun] | None = None
        #: What the hook calls on each fire: :meth:`fired` with the fire's arguments packed.
        self.enqueue: Final[Callable[..., None]] = keywords_to(self.fired)

    def fired(self, arguments: Arguments) -> None:
        """A fire of the hook: queue the call."""
        if self.profile is None:
            self.queue.put(self, self.listener, arguments)
        else:
            self._fired_profiled(arguments)

    def _fired_profiled(self, arguments: Arguments) -> None:
        """A fire while profiled: the first, then one in :attr:`sample_every`, queues a
        timed call and records what the enqueue cost its firer."""
        self.countdown -= 1
        if self.countdown > 0 or self.timed_run is None:
            self.queue.put(self, self.listener, arguments)
            return
        self.countdown = self.sample_every
        timed = self.timed_run()
        self.queue.put(self, timed, arguments)
        timed.queued()

    def profile_with(
        self,
        profile: Any,
        sample_every: int = 1,
        timed_run: Callable[[], TimedRun] | None = None,
    ) -> None:
        """Count its calls in ``profile`` (``None`` stops), each as it ends, and time one fire
        in ``sample_every``: it queues ``timed_run()`` (made as the fire starts, told when
        the call is queued), which runs the listener and records the times."""
        self.timed_run = timed_run
        self.sample_every = sample_every
        self.countdown = 1
        self.profile = profile
        if profile is not None:
            self.queue.profiled = True

    def count_end(self, call: Call, failed: bool) -> None:
        """Count one of its calls ended, and whether it failed, in :attr:`profile`."""
        profile = self.profile
        try:  # the profile's count(), inlined: this runs for every call while profiled
            profile.calls += 1
            if failed:
                profile.errors += 1
        except Exception:  # noqa: S110 - a profile must not kill the worker
            pass

    def record_failure(self, call: Call, error: Exception) -> None:
        self.hook.record_failure(self.listener, error)

    def __repr__(self) -> str:
        return f"<spawned {describe_listener(self.listener)} in {self.pool!r}>"


def spawned_listener_of(entry: object) -> SpawnedListener | None:
    """The spawned listener whose :attr:`SpawnedListener.enqueue` a hook entry is, else
    ``None``."""
    found = owner_of_forwarder(entry)
    return found if type(found) is SpawnedListener else None


# Where setup.py compiled this file with Cython (as ``_spawned_compiled``, whose ``.pxd``
# declares ``SpawnedListener`` a final C type), the module becomes that build.
adopt_compiled_twin(globals(), "locust_events._spawned_compiled")
