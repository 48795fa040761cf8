"""The hand-over of calls and batch events fired in threads other than their pool's home.

Written once for both: a firing thread reserves room here (waiting, dropping or raising as
the pool's ``on_full`` says), then hands the item to the home hub, which admits it.
"""

from __future__ import annotations

import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Final, Protocol, final

import gevent.monkey

from ._calls import closed_error, full_error
from ._hub_inbox import HubInbox

__all__ = ["ThreadHandOver"]

# The real thread primitives even under monkey-patching, where threading names greenlets.
_allocate_lock: Final[Callable[[], Any]] = gevent.monkey.get_original("_thread", "allocate_lock")
_thread_local: Final[type[Any]] = gevent.monkey.get_original("_thread", "_local")
_monotonic: Final = time.monotonic


class _Bound(Protocol):
    """What the hand-over reads of its queue."""

    closed: bool
    load: int

    @property
    def maxsize(self) -> int: ...

    @property
    def on_full(self) -> str: ...

    @property
    def name(self) -> str: ...

    def note_waiting(self, source: Any) -> None: ...


class _HomeToken:
    """Lives in its home thread's local storage, so it dies with that thread."""

    __slots__ = ("__weakref__",)


_home_tokens: Any = _thread_local()


def _no_home() -> None:
    return None


@final
class ThreadHandOver:
    """The other threads' side of one pool's bound.

    At most ``maxsize`` items from other threads are on their way to the hub or waiting in
    line there at once; beyond that a firing thread waits (a real thread wait, under
    ``"block"``) until one is admitted or the pool closes. Every field changes under
    :attr:`lock`.
    """

    __slots__ = (
        "dropped",
        "home_token",
        "in_transit",
        "inbox",
        "lock",
        "outstanding",
        "time_waited",
        "waited",
        "waiters",
    )

    def __init__(self) -> None:
        #: What other threads ask the home hub to run (:meth:`call_in_home`).
        self.inbox: Final = HubInbox(keeps_hub_alive=False)
        self.start_afresh()

    def start_afresh(self) -> None:
        """Nothing on its way: at construction and in a forked child (whose lock is new)."""
        self.lock = _allocate_lock()
        #: Items other threads dropped for lack of room.
        self.dropped = 0
        #: Tells whether the home thread lives: a weak reference to its thread-local token.
        self.home_token: Callable[[], object] = _no_home
        #: Items handed to the hub that it has not taken yet.
        self.in_transit = 0
        #: Items reserved and not admitted yet: in transit or in line in the hub.
        self.outstanding = 0
        #: Threads waiting for room, each blocked on a lock of its own.
        self.waiters: deque[Any] = deque()
        #: Fires that waited (or wait now) here for room, and the seconds they waited in all.
        self.waited = 0
        self.time_waited = 0.0
        self.inbox.close()
        self.inbox.clear()

    def bind_home(self, hub: Any) -> None:
        """Make the calling thread, whose hub is ``hub``, the home whose life
        :meth:`home_alive` tells, and the one :meth:`call_in_home` reaches; what other
        threads sent the former home and it did not run yet runs here. Its watcher does not
        keep the hub's loop alive."""
        token = getattr(_home_tokens, "token", None)
        if token is None:
            token = _home_tokens.token = _HomeToken()
        self.home_token = weakref.ref(token)
        self.inbox.bind(hub)

    def call_in_home(self, function: Callable[..., None], *args: Any) -> None:
        """From any thread: have the home hub run ``function(*args)``, in the order asked."""
        self.inbox.ask(function, *args)

    def home_alive(self) -> bool:
        return self.home_token() is not None

    def reserve(self, queue: _Bound, source: Any) -> bool:
        """In the firing thread: take a place for one item; False if it is dropped.

        Waits for room under ``"block"``; raises the queue's ``PoolFull`` under ``"raise"``
        and its ``PoolClosed`` once the pool is closed.
        """
        lock = self.lock
        with lock:
            while not queue.closed and not self._room(queue):
                if queue.on_full == "drop":
                    self.dropped += 1
                    return False
                if queue.on_full == "raise":
                    raise full_error(queue.name, queue.maxsize, source)
                waiter = _allocate_lock()
                waiter.acquire()
                self.waiters.append(waiter)
                self.waited += 1
                lock.release()
                started = _monotonic()
                try:
                    queue.note_waiting(source)  # never raises
                    waiter.acquire()
                finally:
                    lock.acquire()
                    self.time_waited += _monotonic() - started
                    if waiter in self.waiters:  # interrupted: not woken
                        self.waiters.remove(waiter)
            if queue.closed:
                raise closed_error(queue.name, source)
            self.outstanding += 1
            self.in_transit += 1
            return True

    def _room(self, queue: _Bound) -> bool:
        if queue.on_full == "block":
            return self.outstanding < queue.maxsize
        # "drop" and "raise" decide now, in the firing thread, from what the queue holds too.
        return self.outstanding + queue.load < queue.maxsize

    def arrived(self) -> None:
        """In the hub: an item handed over has been taken (admitted, in line or refused)."""
        with self.lock:
            self.in_transit -= 1

    def left_the_bound(self) -> None:
        """An item from another thread was admitted or refused: let one waiting thread on."""
        with self.lock:
            self.outstanding -= 1
            if self.waiters:
                self.waiters.popleft().release()

    def release_all(self) -> None:
        """At close: wake every waiting thread (each finds the pool closed)."""
        with self.lock:
            while self.waiters:
                self.waiters.popleft().release()

    def on_their_way(self) -> int:
        """Items handed over that the hub has not taken, and threads waiting for room."""
        return self.in_transit + len(self.waiters)
