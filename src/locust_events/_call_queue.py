"""The spawned path in one place: every spawned call and batch event, from its fire to its end.

A :class:`CallQueue` belongs to one :class:`~locust_events.ListenerPool` and owns what a call
touches on its way: the queued calls, the room left under the bound, the home thread and its
hub, the idle workers, the running calls, the counts, the firers waiting for room (and how
long they waited) and the joins. Its steps are the enqueue (:meth:`CallQueue.put`, on every
spawned fire, from ``_spawned``), the one slow way for calls and batch events
(:meth:`CallQueue.take_slowly`), a batch's hand-over (:meth:`CallQueue.queue_held`) and the
workers' round (:meth:`CallQueue.run_round`, calls under a timeout through ``_call_timeouts``).
The pool starts and replaces workers and warns; the queue asks it through callables (see
``_calls``).

Every call is accounted for in events: a spawned call is one, a batch's call is its events.
The bound, ``maxsize``, counts the events queued and those batch listeners hold in batches not
handed over yet (:attr:`CallQueue.load`); :meth:`CallQueue.has_room` is the one room test.

Where a compiler exists, ``setup.py`` compiles this very file with Cython as
``_call_queue_compiled`` (its ``.pxd`` declares the classes final C types, hence no
``typing.final``), which the module adopts at its end unless ``LOCUST_EVENTS_PURE`` is set.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final

import gevent
import gevent.event
import gevent.monkey
from gevent.hub import Waiter

from ._call_timeouts import CallAbandoned, run_within
from ._calls import (
    Arguments,
    Call,
    CallSource,
    HeldBatch,
    InLine,
    MoveHere,
    NoteDropped,
    NoteWaiting,
    OnFull,
    StartWorkers,
    closed_error,
    full_error,
)
from ._errors import describe_listener, log_safely
from ._handover import ThreadHandOver
from ._implementation import adopt_compiled_twin, call_with

__all__ = ["NEVER", "CallQueue"]

# The real thread identity even under monkey-patching, where threading names greenlets. The
# compiled module's is CPython's C function the .pxd names (as gevent's modules name theirs):
# compared with the home's ident as C integers, a fire's thread test makes no object.
_thread_ident: Callable[[], int]
locals()["_thread_ident"] = gevent.monkey.get_original("_thread", "get_ident")
# A queued call the cycle collector leaves out: a million queued calls would otherwise be
# traversed by every full collection, which then costs more than the enqueues. Compiled, the
# .pxd's C function; pure Python cannot, and keeps the call as it is. What a call holds is
# still tracked on its own; a cycle through a call itself (a value referring back to its pool)
# is freed once the call runs or the pool closes, not by the collector.
untracked: Callable[[Call], Call]
locals()["untracked"] = lambda call: call

# The clock a call's fire time is read from: compiled, Cython's C reading of the same clock.
_monotonic: Callable[[], float]
locals()["_monotonic"] = time.monotonic
#: A deadline that never comes.
NEVER: Final = float("inf")


class CallQueue:
    """Everything of one pool's calls from fire to end; see the module's docstring.

    Fields are read by the pool and the batch listeners, and changed only through the steps
    below, in the home thread (other threads go through :attr:`handover`).
    """

    __slots__ = (
        "append_call",
        "batch_listeners",
        "calls",
        "closed",
        "completed",
        "discarded",
        "dropped",
        "failed",
        "handover",
        "high_water",
        "home",
        "hub",
        "idle",
        "in_line",
        "join_deadline",
        "joins",
        "load",
        "maxsize",
        "move_here",
        "name",
        "note_dropped",
        "note_timed_out",
        "note_waiting",
        "on_full",
        "pop_oldest_call",
        "profiled",
        "ready",
        "refill_pending",
        "run_in_thread",
        "running",
        "start_workers",
        "time_waited",
        "timed_out",
        "timeouts_on",
        "waited",
    )

    def __init__(
        self,
        name: str,
        maxsize: int,
        on_full: OnFull,
        *,
        start_workers: StartWorkers,
        move_here: MoveHere,
        note_dropped: NoteDropped,
        note_waiting: NoteWaiting,
        note_timed_out: NoteDropped,
    ) -> None:
        self.start_workers: Final = start_workers
        self.move_here: Final = move_here
        self.note_dropped: Final = note_dropped
        self.note_waiting: Final = note_waiting
        self.note_timed_out: Final = note_timed_out
        #: How messages name the pool.
        self.name: Final = name
        #: How many events may be queued or held in batches at once.
        self.maxsize: Final = maxsize
        #: What a call or event that finds no room gets.
        self.on_full: Final = on_full
        #: The hand-over of calls and events fired in other threads.
        self.handover: Final = ThreadHandOver()
        #: The batch listeners of this pool: joins and closes hand their batches over.
        self.batch_listeners: list[HeldBatch] = []
        #: Whether a source of this pool has a call timeout: only then does the round look
        #: for one (a flag read per call: a pool without timeouts pays nothing more).
        self.timeouts_on = False
        #: Whether a source of this pool was ever profiled (by the Listeners tab or a
        #: profiler): only then does the round look for a source's profile as a call ends.
        self.profiled = False
        self.closed = False
        self.start_afresh()

    def start_afresh(self) -> None:
        """Empty, homeless and uncounted: at construction, and in a forked child (the
        parent's calls and batches are the parent's)."""
        self._hold_calls(deque())
        #: Events queued plus events held in batches not handed over: what the bound counts.
        self.load = 0
        #: Events completed, failed and dropped so far.
        self.completed = 0
        self.failed = 0
        self.dropped = 0
        #: Of the failed events, those whose call ran past its timeout and was abandoned;
        #: of the dropped ones, those the pool discarded as it closed.
        self.timed_out = 0
        self.discarded = 0
        #: Fires of the home thread that waited (or wait) for room, and the seconds they
        #: waited in all, counted as each wait ends (other threads': the hand-over's).
        self.waited = 0
        self.time_waited = 0.0
        #: The most :attr:`load` seen, read just before it shrinks.
        self.high_water = 0
        #: Whether the workers run and the pool is open: the enqueue may queue on its own.
        self.ready = False
        #: The ident of the thread whose greenlets run the calls (0 while there is none: no
        #: thread's ident is 0), and its hub.
        self.home = 0
        self.hub: Any = None
        self._fresh_home_fields()
        self.handover.start_afresh()
        for batch_listener in self.batch_listeners:
            batch_listener.discard()

    def _fresh_home_fields(self) -> None:
        """What belongs to one home thread: workers of a former home see it is not theirs."""
        #: One waiter per worker asleep on an empty queue.
        self.idle: list[Waiter[Any]] = []
        #: Each worker in a round: its slot, which holds the call it runs (``None`` between
        #: calls), so that a killed worker's call is accounted for. A slot per round, not an
        #: entry per call: setting a list's item costs a call less than a dict's entry.
        self.running: dict[Any, list[Call | None]] = {}
        #: Items waiting for room, oldest first.
        self.in_line: deque[InLine] = deque()
        self.refill_pending = False
        #: Each join's deadline and the event that wakes it, and the earliest deadline.
        self.joins: list[tuple[float, gevent.event.Event]] = []
        self.join_deadline = NEVER
        #: Set by a thread-backed pool: runs a listener with a call's arguments in a thread,
        #: waiting cooperatively for its outcome.
        self.run_in_thread: Callable[[Callable[..., Any], Arguments], Any] | None = None

    def move_home(self, home: int, hub: Any) -> list[Call]:
        """Make ``home`` (the calling thread) the home: the former one ended. What it left
        queued or in line stays (its firers are gone with it); returns the calls it was
        running, now counted failed."""
        stranded = self.running_calls()
        in_line = self.in_line
        self.home, self.hub = home, hub
        self._hold_calls(deque(self.calls))
        self.ready = False
        self._fresh_home_fields()
        for place in in_line:
            self.in_line.append(
                InLine(place.admit, place.item, place.source, None, place.from_thread)
            )
        for call in stranded:
            self.failed += call[4]
        return stranded

    def _hold_calls(self, calls: deque[Call]) -> None:
        """Make ``calls`` the queue's deque, with its two steps on every call bound once (a
        compiled caller of a deque's method would look the method up on every call)."""
        #: The calls waiting for a worker, oldest first.
        self.calls = calls
        self.append_call: Callable[[Call], None] = calls.append
        self.pop_oldest_call: Callable[[], Call] = calls.popleft

    def has_room(self) -> bool:
        """Whether one more event fits under the bound."""
        return self.load < self.maxsize

    def takes_now(self) -> bool:
        """Whether a call or event fired now goes straight in: the workers run, there is
        room, and the fire runs in the home thread. Else it takes :meth:`take_slowly`."""
        return self.ready and self.has_room() and _thread_ident() == self.home

    def running_calls(self) -> list[Call]:
        """The calls the workers run now (a snapshot: safe from other threads)."""
        calls = []
        for slot in list(self.running.values()):
            call = slot[0]
            if call is not None:
                calls.append(call)
        return calls

    def running_events(self) -> int:
        """Events of the calls the workers run now (a snapshot: safe from other threads)."""
        return sum(call[4] for call in self.running_calls())

    def unfinished(self) -> int:
        """Events taken in the home thread that have not ended: queued, held, in line, running."""
        return self.load + len(self.in_line) + self.running_events()

    # The enqueue: a spawned listener's fire.

    def put(self, source: CallSource, run: Callable[..., Any], arguments: Arguments) -> None:
        """Queue a call of ``run`` with ``arguments`` for ``source``.

        :raises PoolClosed: the pool was closed (also to a firer waiting for room then).
        :raises PoolFull: no room and ``on_full`` is ``"raise"``.
        """
        call: Call = untracked((_monotonic(), source, run, arguments, 1))
        if self.takes_now():
            self.queue_call(call)
        else:
            self.take_slowly(self.queue_call, call, source)

    def queue_call(self, call: Call) -> None:
        """Queue a call there is room for, in the home thread, waking an idle worker.

        An exception landing between its steps (a ``KeyboardInterrupt``, a
        ``RecursionError``) leaves the call either queued and counted, or neither.
        """
        calls, load, events = self.calls, self.load, call[4]
        try:
            self.append_call(call)
            self.load = load + events
        except BaseException:
            self.load = load + (events if calls and calls[-1] is call else 0)
            raise
        if self.idle:
            self.wake_one()

    def queue_held(self, call: Call) -> None:
        """Queue a batch's call, whose events :attr:`load` counts already (they were held).
        Only appends, which nothing interrupts: then call :meth:`wake_or_start_workers`."""
        self.append_call(call)

    def holds_last(self, call: Call) -> bool:
        """Whether ``call`` is the one queued last."""
        return bool(self.calls) and self.calls[-1] is call

    def wake_or_start_workers(self) -> None:
        """Calls were queued: wake an idle worker, or start the workers."""
        if self.idle:
            self.wake_one()
        elif not self.ready and not self.closed:
            self.start_workers()

    def wake_one(self) -> None:
        """Wake one idle worker (it takes every call queued by then)."""
        self.hub.loop.run_callback(self.idle.pop().switch, None)

    def take_slowly(self, admit: Callable[[Any], None], item: Any, source: CallSource) -> None:
        """Everything the hot paths leave: a closed pool, another thread, workers not started,
        no room. ``admit(item)`` takes the item once there is room."""
        if self.closed:
            raise closed_error(self.name, source)
        if _thread_ident() != self.home:
            self._take_from_other_thread(admit, item, source)
            return
        if not self.ready:
            self.start_workers()
        if self.has_room():
            admit(item)
        elif self.on_full == "drop":
            self.drop(source)
        elif self.on_full == "raise":
            raise full_error(self.name, self.maxsize, source)
        elif gevent.getcurrent() is self.hub:
            # The hub cannot wait on itself: the item waits in line without its firer.
            self.in_line.append(InLine(admit, item, source, None))
        else:
            waiter: Waiter[Any] = Waiter(self.hub)
            place = InLine(admit, item, source, waiter)
            self.in_line.append(place)
            self.waited += 1
            self.note_waiting(source)  # never raises
            started = _monotonic()
            # Killed while waiting, the firer leaves: its item stays in line, delivered later.
            try:
                waiter.get()
            finally:  # measured around the real wait
                self.time_waited += _monotonic() - started
            if place.refused:
                raise closed_error(self.name, source)

    def drop(self, source: CallSource) -> None:
        """An event with no room under ``on_full="drop"``, or arriving at a closed pool."""
        self.dropped += 1
        self.note_dropped(source)

    # Other threads: their side waits for room in the hand-over, the hub admits.

    def _take_from_other_thread(
        self, admit: Callable[[Any], None], item: Any, source: CallSource
    ) -> None:
        handover = self.handover
        with handover.lock:
            moving = not self.home or not handover.home_alive()
            if moving:
                self.move_here()
        if moving:
            self.take_slowly(admit, item, source)
            return
        if handover.reserve(self, source):
            handover.call_in_home(self._arrived, admit, item, source)
        else:
            self.note_dropped(source)

    def _arrived(self, admit: Callable[[Any], None], item: Any, source: CallSource) -> None:
        """In the home hub: take an item another thread handed over (it waited for room)."""
        self.handover.arrived()
        try:
            if self.closed:
                self.handover.left_the_bound()
                self.discarded += 1
                self.drop(source)
            else:
                if not self.ready:
                    self.start_workers()
                if self.has_room() and not self.in_line:
                    self.handover.left_the_bound()
                    admit(item)
                else:
                    self.in_line.append(InLine(admit, item, source, None, from_thread=True))
        except Exception as error:  # a hub callback must not raise
            log_safely("error", "%s could not take a handed-over call", self.name, exc_info=error)
        self.wake_joins_if_done()

    # Room made: the items in line go in.

    def refill_soon(self) -> None:
        """A worker took a call: the hub moves items waiting in line into the room made."""
        if not self.refill_pending:
            self.refill_pending = True
            self.hub.loop.run_callback(self._refill)

    def _refill(self) -> None:
        """In the hub: admit the oldest items in line while there is room, waking each firer
        at once (it may fire again straight away: the workers made room meanwhile)."""
        self.refill_pending = False
        in_line = self.in_line
        while in_line and self.has_room():
            place = in_line.popleft()
            try:
                place.admit(place.item)  # takes the item first: what fails after keeps it
            except Exception as error:  # a hub callback must not raise
                log_safely(
                    "error", "%s: admitting a waiting call raised", self.name, exc_info=error
                )
            if place.from_thread:
                self.handover.left_the_bound()
            if place.wake is not None:
                place.wake.switch(None)

    # The workers' round.

    def run_round(self, worker: object) -> bool:
        """Run every queued call in turn in ``worker`` (the calling greenlet); True once the
        queue is empty, False when the queue started afresh while a call ran (a fork, a new
        home): the worker must end, its call is not this queue's now.

        Each call ends exactly once: the worker notes it in its slot of :attr:`running` while
        it runs (a worker killed meanwhile leaves it there for the pool to count failed), then
        counts it completed, or failed with its ``Exception`` recorded by its source; any other
        ``BaseException`` propagates. No greenlet switch between calls unless a listener
        yields: a burst of fires costs one wake-up.
        """
        calls = self.calls
        running = self.running
        slot: list[Call | None] = [None]
        running[worker] = slot
        in_thread = self.run_in_thread
        while True:
            # A join without a timeout (the deadline NEVER) costs the round no clock reading.
            if self.join_deadline != NEVER and self.join_deadline <= _monotonic():
                self._let_late_joins_return()
                if calls is not self.calls:
                    return False
            if not calls:
                del running[worker]
                return True
            if self.load > self.high_water:
                self.high_water = self.load
            call = self._take(calls, slot)
            events = call[4]
            source = call[1]
            if self.in_line:
                self.refill_soon()
            failed = True
            try:
                if self.timeouts_on and source.timeout:
                    run_within(call, in_thread, self.hub)
                elif in_thread is None:
                    call_with(call[2], call[3])
                else:
                    in_thread(call[2], call[3])
            except CallAbandoned:
                if calls is not self.calls:
                    return False
                self.failed += events
                self.timed_out += events
                self.note_timed_out(source)  # never raises
            except Exception as error:
                if calls is not self.calls:
                    return False
                self.failed += events
                with contextlib.suppress(Exception):  # a recorder must not kill the worker
                    source.record_failure(call, error)
            else:
                if calls is not self.calls:
                    return False
                self.completed += events
                failed = False
            if self.profiled and source.profile is not None:
                source.count_end(call, failed)
            slot[0] = None
            if self.joins and not calls:
                self.wake_joins_if_done()

    def _take(self, calls: deque[Call], slot: list[Call | None]) -> Call:
        """Move the oldest call from ``calls`` (the round's :attr:`calls`, still this
        queue's) to a worker's ``slot``. An exception landing between the steps leaves it
        either queued or running, and counted once."""
        call = calls[0]
        load, events = self.load, call[4]
        try:
            slot[0] = call
            self.pop_oldest_call()
            self.load = load - events
        except BaseException:
            if calls and calls[0] is call:
                slot[0] = None  # still queued
            else:
                self.load = load - events  # running: a lost worker's call is counted failed
            raise
        return call

    def worker_lost(self, worker: object, why: str) -> None:
        """A worker ended outside its round (killed, or its thread): its call failed."""
        slot = self.running.pop(worker, None)
        call = None if slot is None else slot[0]
        if call is None:
            return
        self.failed += call[4]
        log_safely(
            "error",
            "A worker of %s ended (%s) while running listener %s of hook %r; that call is "
            "counted as failed",
            self.name,
            why,
            describe_listener(call[1].listener),
            call[1].hook.name,
        )
        self.wake_joins_if_done()

    # Joins.

    def join(self, deadline: float) -> bool:
        """Wait in the home thread until every event taken has ended, or ``deadline``."""
        wake = gevent.event.Event()
        joiner = (deadline, wake)
        self.joins.append(joiner)
        self.join_deadline = min(self.join_deadline, deadline)
        try:
            while True:
                self.hand_over_batches()
                if self.calls:
                    self.wake_or_start_workers()
                if self.done():
                    return True
                remaining = deadline - _monotonic()
                if remaining <= 0:
                    return False
                wake.clear()
                wake.wait(None if remaining == NEVER else remaining)
        finally:
            self.joins.remove(joiner)
            self.join_deadline = min((d for d, _ in self.joins), default=NEVER)

    def done(self) -> bool:
        """Nothing unfinished here, and nothing on its way from other threads."""
        return not self.unfinished() and not self.handover.on_their_way()

    def wake_joins_if_done(self) -> None:
        if self.joins and self.done():
            for _, wake in self.joins:
                wake.set()

    def _let_late_joins_return(self) -> None:
        """Between calls: wake the joins whose deadline passed and let them run."""
        now = _monotonic()
        late = [wake for deadline, wake in self.joins if deadline <= now]
        if late:
            for wake in late:
                wake.set()
            gevent.sleep(0)

    def hand_over_batches(self) -> None:
        """Queue every batch listener's unfinished batch now, in the home thread."""
        if _thread_ident() == self.home:
            for batch_listener in list(self.batch_listeners):
                batch_listener.hand_over()

    # Closing.

    def refuse_all_waiting(self) -> int:
        """At close, after the last join: drop what is queued, held or in line (firers waiting
        get ``PoolClosed``); returns how many events that was."""
        self.ready = False
        if self.load > self.high_water:
            self.high_water = self.load
        self.hand_over_batches()
        discarded = sum(call[4] for call in self.calls)
        self.calls.clear()
        for batch_listener in self.batch_listeners:
            discarded += batch_listener.discard()
        self.load = 0
        while self.in_line:
            place = self.in_line.popleft()
            discarded += 1
            place.refused = True
            if place.from_thread:
                self.handover.left_the_bound()
            if place.wake is not None:
                self.hub.loop.run_callback(place.wake.switch, None)
        self.handover.release_all()
        self.dropped += discarded
        self.discarded += discarded
        self.wake_joins_if_done()
        return discarded


# Where setup.py compiled this file with Cython (as ``_call_queue_compiled``, whose ``.pxd``
# declares the classes above as final C types), the module becomes that build.
adopt_compiled_twin(globals(), "locust_events._call_queue_compiled")
