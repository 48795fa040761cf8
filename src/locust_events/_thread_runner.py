"""The threads of a thread-backed pool: a worker greenlet hands each call to one of them and
waits for its outcome cooperatively, so the users keep running meanwhile. A worker that stops
waiting (a call timeout, a kill) abandons the call: its thread finishes it alone, then ends,
and a new thread takes its place."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, final

import gevent.monkey
from gevent.hub import Waiter

from ._calls import Arguments
from ._hub_inbox import HubInbox
from ._implementation import call_with

__all__ = ["ThreadRunner"]

# The real primitives even under monkey-patching, where threading names greenlets.
_start_thread: Final[Callable[..., int]] = gevent.monkey.get_original("_thread", "start_new_thread")
_SimpleQueue: Final[type[Any]] = gevent.monkey.get_original("queue", "SimpleQueue")
_allocate_lock: Final[Callable[[], Any]] = gevent.monkey.get_original("_thread", "allocate_lock")


@final
class _Job:
    """One call handed to a thread, and its outcome."""

    __slots__ = ("abandoned", "arguments", "error", "finished", "listener", "wake")

    def __init__(self, listener: Callable[..., Any], arguments: Arguments, wake: Any) -> None:
        self.listener: Final = listener
        self.arguments: Final = arguments
        #: Switched to, in the hub, once the call has returned or raised.
        self.wake: Final = wake
        self.error: BaseException | None = None
        # The two flags below are guarded by their runner's lock: the thread and the worker
        # each set one.
        #: The call returned or raised (set by its thread).
        self.finished = False
        #: Its worker stopped waiting first (set by the worker): the thread ends after it.
        self.abandoned = False


def _serve(
    jobs: Any, finished: HubInbox, returned: Callable[[_Job], None], flags_lock: Any
) -> None:
    """A thread's life: run the calls handed over until told to stop (``None``)."""
    while True:
        job = jobs.get()
        if job is None:
            return
        try:
            call_with(job.listener, job.arguments)
        except BaseException as error:  # handed to the waiting worker, which decides
            job.error = error
        with flags_lock:
            job.finished = True
            abandoned = job.abandoned
        if abandoned:  # nobody waits: a new thread has taken this one's place
            job.error = None
            return
        finished.ask(returned, job)
        del job


@final
class ThreadRunner:
    """Runs a listener with a call's arguments (see ``call_with``) in one of ``size`` threads
    of its own, started on first use.

    Finished calls come back through a :class:`HubInbox` of the home hub, which keeps the
    hub alive while calls run in threads. Unlike gevent's ``ThreadPool``, nothing here prints a
    call's error (the pool's error policy logs it), and :meth:`stop` never waits for a
    thread: one stuck in a call stays stuck, alone, and ends with it.
    """

    __slots__ = (
        "_finished",
        "_flags_lock",
        "_in_flight",
        "_jobs",
        "_size",
        "_started",
        "_wake",
    )

    def __init__(self, size: int, hub: Any) -> None:
        self._size: Final = size
        self._jobs: Final = _SimpleQueue()
        #: Calls the threads finished, handed back to their workers in the hub; listened to
        #: only while calls run in threads.
        self._finished: Final = HubInbox(keeps_hub_alive=True)
        self._finished.bind(hub)
        self._finished.stop_listening()
        self._wake: Final = functools.partial(Waiter, hub)
        #: Guards each job's ``finished`` and ``abandoned``: one lock for all, not one made
        #: per call (the flags are set once each, so its threads hardly ever wait on it).
        self._flags_lock: Final = _allocate_lock()
        self._in_flight = 0
        self._started = 0

    def __call__(self, listener: Callable[..., Any], arguments: Arguments) -> None:
        """In a worker greenlet: run the call in a thread, wait for it cooperatively, and
        raise what it raised. A worker killed meanwhile leaves; the thread finishes alone."""
        if self._started < self._size:
            self._started += 1
            _start_thread(_serve, (self._jobs, self._finished, self._returned, self._flags_lock))
        if not self._in_flight:
            self._finished.listen()
        self._in_flight += 1
        job = _Job(listener, arguments, self._wake())
        self._jobs.put(job)
        try:
            job.wake.get()
        except BaseException:
            self._abandon(job)
            raise
        error = job.error
        if error is not None:
            job.error = None  # no cycle through the traceback
            raise error

    def _abandon(self, job: _Job) -> None:
        """In the worker, which stops waiting for ``job``: unless its thread finished it
        already (its outcome is on the way back, and is dropped there), the thread ends
        after it and the next call starts a thread in its place."""
        with self._flags_lock:
            if job.finished:
                job.abandoned = True  # handed back (or about to be): _hand_back skips it
                return
            job.abandoned = True
        self._in_flight -= 1
        self._started -= 1
        if not self._in_flight:
            self._finished.stop_listening()

    def _returned(self, job: _Job) -> None:
        """In the hub: wake the worker of a finished call."""
        self._in_flight -= 1
        if not job.abandoned:
            job.wake.switch(None)
        if not self._in_flight:
            self._finished.stop_listening()

    def stop(self) -> None:
        """Let every thread end once its current call returns; waits for none of them."""
        for _ in range(self._started):
            self._jobs.put(None)
        self._started = 0
        self._finished.stop_listening()
