"""Batch listeners: fires collected into batches, delivered by size, by wait and at drain."""

from __future__ import annotations

import copy
import fnmatch
import gc
import json
import logging
import pickle
import sys
import threading
import tracemalloc
import weakref
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

import gevent
import gevent.event
import pytest

import locust_events
from locust_events import (
    BatchSettings,
    EventHook,
    Events,
    ListenerPool,
    PoolClosed,
    PoolFull,
    Registration,
)
from locust_events._batch_event import BatchEvent
from locust_events._batching import batch_listener_of
from locust_events._profiling import Profiler


class Batches:
    """A batch listener that keeps every batch it got, as plain dicts."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.raw: list[list[Mapping[str, Any]]] = []
        self.arrived = gevent.event.Event()

    def __call__(self, batch: list[Mapping[str, Any]]) -> None:
        self.raw.append(batch)
        self.batches.append([dict(event) for event in batch])
        self.arrived.set()

    @property
    def sizes(self) -> list[int]:
        return [len(batch) for batch in self.batches]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]


@pytest.fixture
def pool() -> ListenerPool:
    return ListenerPool(size=2, maxsize=1000, name="batch pool")


def counts(pool: ListenerPool) -> tuple[int, int, int, int, int, int]:
    stats = pool.stats
    return (
        stats.submitted,
        stats.completed,
        stats.failed,
        stats.dropped,
        stats.pending,
        stats.running,
    )


def test_a_batch_is_delivered_when_it_holds_max_size_events_in_fire_order(
    hook: EventHook, pool: ListenerPool
) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=10, max_wait=60.0, pool=pool)
    for n in range(25):
        hook.fire(n=n, name=f"/item/{n}")
    gevent.sleep(0)  # the workers run the two full batches; five events still wait
    assert got.sizes == [10, 10]
    assert counts(pool) == (25, 20, 0, 0, 5, 0)
    assert pool.join(timeout=60)
    assert got.sizes == [10, 10, 5]
    assert got.events == [{"n": n, "name": f"/item/{n}"} for n in range(25)]


def test_each_event_is_a_read_only_mapping_of_the_fire_keyword_arguments(
    hook: EventHook, pool: ListenerPool
) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=2, pool=pool)
    shared = {"a": 1}
    hook.fire(payload=shared, n=1)
    hook.fire(n=2)
    assert pool.join(timeout=60)
    first, second = got.raw[0]
    assert dict(first) == {"payload": {"a": 1}, "n": 1}
    assert dict(second) == {"n": 2}
    with pytest.raises(TypeError):
        first["n"] = 5  # type: ignore[index]


class _Name(str):
    """A keyword name that is a str subclass, as ``fire(**mapping)`` may pass one."""


def _matched_n(event: object) -> object:
    match event:
        case {"n": n}:
            return n
        case _:
            return None


#: What a listener may do with an event: each gives the same result (or raises the same
#: kind of error) for an event as for a mappingproxy of a dict of the same items.
_MAPPING_USES: dict[str, Callable[[Any], object]] = {
    "item": lambda event: event["name"],
    "item by an equal str": lambda event: event["".join(["na", "me"])],
    "missing item": lambda event: event["missing"],
    "item by an int": lambda event: event[1],
    "item by an unhashable key": lambda event: event[[]],
    "get": lambda event: event.get("n"),
    "get missing": lambda event: event.get("missing"),
    "get missing with a default": lambda event: event.get("missing", 5),
    "in": lambda event: ("n" in event, "missing" in event, 1 in event),
    "iteration": lambda event: list(event),
    "len": len,
    "keys": lambda event: (list(event.keys()), event.keys() & {"n"}, event.keys() == {"n"}),
    "values": lambda event: list(event.values()),
    "items": lambda event: list(event.items()),
    "reversed": lambda event: list(reversed(event)),
    "dict": dict,
    "copy": lambda event: (type(event.copy()), event.copy()),
    "equality": lambda event: (event == dict(event), event != {}, event == MappingProxyType({})),
    "order": lambda event: event < event,
    "or": lambda event: (event | {"extra": 1}, {"extra": 1} | event),
    "in-place or": lambda event: event.__ior__({}),
    "repr, past the type's name": lambda event: repr(event).partition("(")[1:],
    "str": str,
    "hash": hash,
    "assignment": lambda event: event.__class__.__setitem__,
    "item assignment": lambda event: exec("event['n'] = 0", {"event": event}),
    "item deletion": lambda event: exec("del event['n']", {"event": event}),
    "pickle": pickle.dumps,
    "copy.copy": copy.copy,
    "json": json.dumps,
    "is a Mapping": lambda event: isinstance(event, Mapping),
    "is a dict": lambda event: isinstance(event, dict),
    "mapping pattern": lambda event: _matched_n(event),
}


def _outcome(use: Callable[[Any], object], event: object) -> object:
    try:
        return use(event)
    except Exception as error:  # the kind of error is what must match
        return type(error)


def test_each_event_behaves_as_a_mappingproxy_of_the_fire_keyword_arguments(
    hook: EventHook, pool: ListenerPool
) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=100, max_wait=60.0, pool=pool)
    fired: list[dict[str, Any]] = []
    for n in range(3):  # the first fire starts the workers; the others take the fast path
        fired.append({"n": n, "name": f"/item/{n}", "context": {"user": n}})
        hook.fire(n=n, name=f"/item/{n}", context=fired[-1]["context"])
    fired.append({"name": "/spread", "n": 3})
    hook.fire(**fired[-1])
    fired.append({_Name("n"): 4, "name": "/named"})  # a str subclass: made a dict
    hook.fire(**fired[-1])
    fired.append({})
    hook.fire()
    assert pool.join(timeout=60)
    (batch,) = got.raw
    for event, kwargs in zip(batch, fired, strict=True):
        like = MappingProxyType(dict(kwargs))
        for use_name, use in _MAPPING_USES.items():
            assert _outcome(use, event) == _outcome(use, like), (use_name, kwargs)
    # As at fire time: the very values the fire passed.
    assert batch[0]["context"] is fired[0]["context"]


def test_a_fire_allocates_only_its_packed_keywords_per_event(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=10_000)
    got = Batches()
    hook.add_batch_listener(got, max_size=5_000, max_wait=60.0, pool=pool)
    fire, context = hook.fire, {}

    def fire_events(count: int) -> None:
        for _ in range(count):
            fire(
                request_type="GET",
                name="/api",
                response_time=12.5,
                response_length=512,
                exception=None,
                context=context,
                start_time=1.0,
                url="/api",
                response=None,
            )

    fire_events(100)  # the workers started, the interpreter specialised the calls
    not_the_snapshots = [tracemalloc.Filter(False, tracemalloc.__file__)]
    # Filtering compiles the filter's pattern and checks the filters' type once per process
    # (cached after): done now, untraced, so that the measured round sees the fires alone
    # whichever tests ran before.
    fnmatch.fnmatch(tracemalloc.__file__, not_the_snapshots[0].filename_pattern)
    assert isinstance(not_the_snapshots, Iterable)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces(not_the_snapshots)
        fire_events(1_000)
        after = tracemalloc.take_snapshot().filter_traces(not_the_snapshots)
    finally:
        tracemalloc.stop()
    made = sum(stat.count_diff for stat in after.compare_to(before, "filename"))
    # The tuple the fire packed its nine keywords into (the pure loop: and their names' tuple,
    # which the compiled one shares with the calling code); the batch list grows in place and
    # the pool's counts replace their ints.
    assert 1_000 <= made <= 2 * 1_000 + 10, made
    batch_listener = batch_listener_of(hook._listeners[0])
    assert batch_listener is not None
    waiting = list(batch_listener._batch)
    assert pool.join(timeout=60)
    (delivered,) = got.raw
    assert len(delivered) == len(waiting) == 1_100
    # Each event is delivered as a read-only view of its keywords as the fire passed them.
    assert all(
        event == dict(zip(packed[-1], packed[:-1], strict=True))
        for event, packed in zip(delivered, waiting, strict=True)
    )
    assert dict(delivered[-1]) == {
        "request_type": "GET",
        "name": "/api",
        "response_time": 12.5,
        "response_length": 512,
        "exception": None,
        "context": {},
        "start_time": 1.0,
        "url": "/api",
        "response": None,
    }
    pool.close()


def test_delivered_events_let_go_of_what_the_fires_passed(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=10_000)
    seen: list[int] = []
    hook.add_batch_listener(lambda batch: seen.append(len(batch)), max_size=1_000, pool=pool)
    payload, name = object(), f"/api/{id(pool)}"  # a str of its own, not a shared constant
    before = sys.getrefcount(payload), sys.getrefcount(name)
    hook.fire(payload=payload, name=name)  # the slow path's first event: it starts the workers
    for _ in range(4_999):
        hook.fire(payload=payload, name=name)
    assert sys.getrefcount(payload) == before[0] + 5_000  # held by the waiting events
    assert pool.join(timeout=60)
    hook.fire(payload=None, name="/other")  # the worker's last call is another batch now
    assert pool.join(timeout=60)
    assert sum(seen) == 5_001
    assert (sys.getrefcount(payload), sys.getrefcount(name)) == before
    pool.close()


def test_fires_from_call_sites_with_other_keyword_names_each_keep_their_own(
    hook: EventHook, pool: ListenerPool
) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=100, max_wait=60.0, pool=pool)
    for n in range(3):
        hook.fire(n=n, name="/a")
        hook.fire(name="/b", n=n)
        hook.fire(n=n)
        hook.fire(**{"n": n, "extra": True})
    hook.fire()
    assert pool.join(timeout=60)
    assert got.events == [
        *(
            event
            for n in range(3)
            for event in (
                {"n": n, "name": "/a"},
                {"name": "/b", "n": n},
                {"n": n},
                {"n": n, "extra": True},
            )
        ),
        {},
    ]
    assert [list(event) for event in got.events[:2]] == [["n", "name"], ["name", "n"]]


class _Marker:
    """Something whose end a weak reference sees."""


def _ends_of_markers_delivered_in_one_batch(
    hook: EventHook, listener: Callable[[list[Mapping[str, Any]]], None]
) -> list[weakref.ref[_Marker]]:
    """Fire two events, each with a marker in its context, into ``listener`` as a batch
    listener of ``hook`` (``max_size=2``, a pool of one worker); once the batch was delivered,
    the weak references to the markers, which nothing else here holds."""
    pool = ListenerPool(size=1, maxsize=100)  # one worker: its last call is the one after
    hook.add_batch_listener(listener, max_size=2, max_wait=60.0, pool=pool)
    markers = [_Marker(), _Marker()]
    ends = [weakref.ref(marker) for marker in markers]
    for marker in markers:
        hook.fire(context={"marker": marker})
    del marker, markers
    assert pool.join(timeout=60)
    hook.fire(context={})  # the worker's last call is another batch now
    assert pool.join(timeout=60)
    return ends


def test_events_a_listener_keeps_in_a_reference_cycle_are_collected(hook: EventHook) -> None:
    def keep_in_a_cycle(batch: list[Mapping[str, Any]]) -> None:
        for event in batch:
            event["context"]["event"] = event  # context -> event -> context

    ends = _ends_of_markers_delivered_in_one_batch(hook, keep_in_a_cycle)
    gc.collect()
    assert [end() for end in ends] == [None, None]


def test_events_in_a_cycle_with_their_batch_are_collected_after_the_listener_raised(
    hook: EventHook,
) -> None:
    def keep_in_a_cycle_then_fail(batch: list[Mapping[str, Any]]) -> None:
        for event in batch:
            event["context"]["batch"] = batch  # context -> batch -> event -> context
        raise ValueError("the database is down")

    logging.disable(logging.ERROR)  # a captured log record would hold the traceback
    try:
        ends = _ends_of_markers_delivered_in_one_batch(hook, keep_in_a_cycle_then_fail)
    finally:
        logging.disable(logging.NOTSET)
    assert hook.error_count == 2  # the batch of two, then the one after
    gc.collect()
    assert [end() for end in ends] == [None, None]


@pytest.mark.skipif(
    not BatchEvent.__module__.endswith("_compiled"),
    reason="pure Python cannot leave objects out of the collector",
)
def test_a_batch_is_left_out_of_the_cycle_collector_until_its_listener_returns(
    hook: EventHook, pool: ListenerPool
) -> None:
    """A delivery gives the collector nothing to walk; what the listener keeps is handed to
    it afterwards (the test above shows such an event collected)."""
    tracked_during_the_call: list[list[bool]] = []
    kept: list[Mapping[str, Any]] = []

    def look_and_keep(batch: list[Mapping[str, Any]]) -> None:
        tracked_during_the_call.append([gc.is_tracked(event) for event in batch])
        kept.extend(batch)

    hook.add_batch_listener(look_and_keep, max_size=3, max_wait=60.0, pool=pool)
    for n in range(3):
        hook.fire(n=n, context={"user": n})
    assert pool.join(timeout=60)
    assert tracked_during_the_call == [[False, False, False]]
    assert [gc.is_tracked(event) for event in kept] == [True, True, True]


def test_a_batch_is_delivered_after_max_wait_without_a_join(
    hook: EventHook, pool: ListenerPool
) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=100, max_wait=0.01, pool=pool)
    for n in range(3):
        hook.fire(n=n)
    assert got.arrived.wait(timeout=60)
    assert got.sizes == [3]
    hook.fire(n=3)  # the next event starts a new batch with its own timer
    got.arrived.clear()
    assert got.arrived.wait(timeout=60)
    assert got.sizes == [3, 1]


def test_a_timer_fired_from_the_hub_feeds_a_batch(hook: EventHook, pool: ListenerPool) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=3, pool=pool)
    timers = [gevent.get_hub().loop.timer(0.0) for _ in range(3)]
    for n, timer in enumerate(timers):
        timer.start(lambda n=n: hook.fire(n=n))  # runs in the hub, as a timer callback
    while len(got.events) + pool.stats.pending < 3:
        gevent.sleep(0.001)
    assert pool.join(timeout=60)
    assert got.events == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_fires_from_other_threads_are_delivered(hook: EventHook, pool: ListenerPool) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=7, pool=pool)

    def fire_some(first: int) -> None:
        for n in range(first, first + 10):
            hook.fire(n=n)

    threads = [threading.Thread(target=fire_some, args=(t * 10,)) for t in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert pool.join(timeout=60)
    assert sorted(event["n"] for event in got.events) == list(range(30))
    assert counts(pool) == (30, 30, 0, 0, 0, 0)


def test_join_close_and_remove_listener_each_deliver_the_unfinished_batch(
    hook: EventHook, pool: ListenerPool
) -> None:
    joined, removed = Batches(), Batches()
    hook.add_batch_listener(joined, max_size=100, max_wait=60.0, pool=pool)
    hook.add_batch_listener(removed, max_size=100, max_wait=60.0, pool=pool)
    hook.fire(n=1)
    assert pool.join(timeout=60)
    assert joined.sizes == removed.sizes == [1]
    hook.fire(n=2)
    hook.remove_listener(removed)
    gevent.sleep(0)
    assert removed.sizes == [1, 1]
    hook.fire(n=3)
    assert pool.close(timeout=60)
    assert joined.events == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert counts(pool) == (5, 5, 0, 0, 0, 0)
    with pytest.raises(PoolClosed, match="'my_event'"):
        hook.fire(n=4)


def test_shutdown_delivers_what_batch_listeners_hold(registry: Events) -> None:
    got = Batches()
    registry.request.add_batch_listener(got, max_size=1000, max_wait=60.0)
    for n in range(5):
        registry.request.fire(
            request_type="GET",
            name=f"/{n}",
            response_time=1.0,
            response_length=0,
            exception=None,
            context={},
            url=None,
            response=None,
            start_time=0.0,
        )
    registry.shutdown(60)
    assert [event["name"] for event in got.events] == [f"/{n}" for n in range(5)]


def test_a_failing_batch_counts_every_event_failed_and_is_logged_once(
    hook: EventHook, pool: ListenerPool, caplog: pytest.LogCaptureFixture
) -> None:
    def write_rows(batch: list[Mapping[str, Any]]) -> None:
        raise RuntimeError("database is down")

    hook.add_batch_listener(write_rows, max_size=50, pool=pool)
    with caplog.at_level(logging.ERROR, logger="locust_events"):
        for n in range(50):
            hook.fire(n=n)
        assert pool.join(timeout=60)
    assert counts(pool) == (50, 0, 50, 0, 0, 0)
    assert hook.error_count == 1
    records = [r for r in caplog.records if "write_rows" in r.getMessage()]
    assert len(records) == 1
    assert "'my_event'" in records[0].getMessage()
    if sys.version_info >= (3, 11):  # exception notes reach the logged traceback
        assert "a batch of 50 event(s)" in caplog.text


def test_a_full_pool_drops_the_events_it_has_no_room_for(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=4, on_full="drop", name="small pool")
    release = gevent.event.Event()
    got = Batches()

    def slow(batch: list[Mapping[str, Any]]) -> None:
        release.wait()
        got(batch)

    hook.add_batch_listener(slow, max_size=2, max_wait=60.0, pool=pool)
    hook.fire(n=0)
    hook.fire(n=1)  # a full batch: handed over, the worker takes it and waits
    gevent.sleep(0)
    assert counts(pool) == (2, 0, 0, 0, 0, 2)
    for n in range(2, 10):
        hook.fire(n=n)  # four fit (two queued batches' worth), four are dropped
    assert counts(pool) == (10, 0, 0, 4, 4, 2)
    release.set()
    assert pool.join(timeout=60)
    assert [event["n"] for event in got.events] == [0, 1, 2, 3, 4, 5]
    assert counts(pool) == (10, 6, 0, 4, 0, 0)


def test_a_full_pool_raises_under_on_full_raise(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=3, on_full="raise", name="strict pool")
    hook.add_batch_listener(Batches(), max_size=3, max_wait=60.0, pool=pool)
    release = gevent.event.Event()
    hook.add_listener(lambda **kwargs: release.wait(), spawn=pool)
    hook.fire(n=0)  # the spawned listener's call holds the worker
    gevent.sleep(0)
    hook.fire(n=1)  # one queued call and one held event
    with pytest.raises(PoolFull, match="'strict pool'"):
        hook.fire(n=2)
    release.set()
    assert pool.join(timeout=60)


def test_a_full_pool_makes_the_firer_wait_under_block_and_loses_nothing(
    hook: EventHook,
) -> None:
    pool = ListenerPool(size=1, maxsize=4, name="blocking pool")
    release = gevent.event.Event()
    got = Batches()

    def slow(batch: list[Mapping[str, Any]]) -> None:
        release.wait()
        got(batch)

    hook.add_batch_listener(slow, max_size=2, max_wait=60.0, pool=pool)

    def fire_all() -> None:
        for n in range(12):
            hook.fire(n=n)

    firer = gevent.spawn(fire_all)
    gevent.sleep(0.01)
    assert not firer.dead  # waits for room: the worker is stuck on the first batch
    assert pool.stats.high_water <= pool.maxsize
    assert pool.stats.pending == pool.maxsize + 1  # and the waiting firer's event
    release.set()
    firer.join(timeout=60)
    assert pool.join(timeout=60)
    assert [event["n"] for event in got.events] == list(range(12))
    assert counts(pool) == (12, 12, 0, 0, 0, 0)


def test_spawned_calls_and_batched_events_share_the_bound(hook: EventHook) -> None:
    pool = ListenerPool(size=1, maxsize=3, on_full="drop", name="shared pool")
    release = gevent.event.Event()
    spawned: list[int] = []
    hook.add_batch_listener(Batches(), max_size=3, max_wait=60.0, pool=pool)
    hook.add_listener(lambda n: (release.wait(), spawned.append(n)), spawn=pool)
    hook.fire(n=0)  # the spawned call runs and waits; the batch holds one event
    gevent.sleep(0)
    hook.fire(n=1)  # a queued call, a second held event: the pool is full
    hook.fire(n=2)  # both dropped
    assert pool.stats.dropped == 2
    release.set()
    assert pool.join(timeout=60)
    assert spawned == [0, 1]


def test_a_thread_backed_pool_runs_batches_in_threads(hook: EventHook) -> None:
    pool = ListenerPool(size=1, threads=True, name="writer pool")
    ran_in: list[int] = []

    def write(batch: list[Mapping[str, Any]]) -> None:
        ran_in.append(threading.get_ident())

    hook.add_batch_listener(write, max_size=4, pool=pool)
    for n in range(10):
        hook.fire(n=n)
    assert pool.close(timeout=60)
    assert len(ran_in) == 3
    assert threading.get_ident() not in ran_in
    assert counts(pool) == (10, 10, 0, 0, 0, 0)


def test_registrations_list_a_batch_listener_with_its_settings(
    hook: EventHook, pool: ListenerPool
) -> None:
    def plain(**kwargs: Any) -> None: ...

    @hook.batch_listener(max_size=20, max_wait=0.5, pool=pool)
    def write(batch: list[Mapping[str, Any]]) -> None: ...

    hook.add_listener(plain)
    assert hook.registrations == (
        Registration(write, pool, BatchSettings(max_size=20, max_wait=0.5)),
        Registration(plain, None),
    )
    hook.remove_listener(write)
    assert hook.registrations == (Registration(plain, None),)


def test_a_standalone_hook_batches_into_the_default_pool(hook: EventHook) -> None:
    got = Batches()
    hook.add_batch_listener(got, max_size=2)
    (registration,) = hook.registrations
    assert registration.pool is not None
    assert registration.pool.name == "default listener pool"
    hook.fire(n=1)
    hook.fire(n=2)
    assert registration.pool.join(timeout=60)
    assert got.sizes == [2]


@pytest.mark.parametrize(
    ("settings", "error", "words"),
    [
        ({"max_size": 0}, ValueError, "max_size must be at least 1, not 0"),
        ({"max_size": 2.5}, TypeError, "max_size must be an int, not 2.5"),
        ({"max_wait": 0}, ValueError, "max_wait must be a finite number of seconds above 0"),
        ({"max_wait": -1.0}, ValueError, "max_wait must be a finite number"),
        ({"max_wait": "1"}, TypeError, "max_wait must be a number of seconds, not '1'"),
        ({"max_wait": float("nan")}, ValueError, "max_wait must be a finite number"),
        ({"max_size": 20_000}, ValueError, "max_size=20000 is above the maxsize"),
    ],
)
def test_bad_settings_are_refused_naming_hook_listener_parameter_and_fix(
    hook: EventHook, settings: dict[str, Any], error: type[Exception], words: str
) -> None:
    def write(batch: list[Mapping[str, Any]]) -> None: ...

    with pytest.raises(error) as refused:
        hook.add_batch_listener(write, **settings)
    message = str(refused.value)
    assert words in message
    assert "'my_event'" in message
    assert "write" in message
    assert "pass " in message
    assert hook.registrations == ()


def test_a_listener_that_cannot_take_one_batch_is_refused(hook: EventHook) -> None:
    def takes_keywords(*, request_type: str) -> None: ...

    with pytest.raises(TypeError) as refused:
        hook.add_batch_listener(takes_keywords)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "takes_keywords" in message
    assert "'my_event'" in message
    assert "def listener(batch)" in message
    with pytest.raises(TypeError, match="must be callable"):
        hook.add_batch_listener(None)  # type: ignore[arg-type]


def test_the_profiler_shows_batch_listeners_and_their_batch_sizes(
    registry: Events, pool: ListenerPool
) -> None:
    got = Batches()
    registry.request.add_batch_listener(got, max_size=5, pool=pool)
    profiler = registry.start_profiling()
    for n in range(12):
        registry.request.fire(n=n)
    assert pool.join(timeout=60)
    registry.stop_profiling()
    (profile,) = [p for p in profiler.profiles if p.hook == "request"]
    assert profile.batched
    assert (profile.calls, profile.events) == (3, 12)
    assert profile.mean_batch_size == 4.0
    assert "(4 per batch)" in profiler.table()
    assert got.sizes == [5, 5, 2]
    assert isinstance(profiler, Profiler)


def test_a_forked_child_starts_with_an_empty_batch() -> None:
    from .test_delivery_guarantees import run_in_child

    outcome = run_in_child(
        """
        import json, os, gevent
        from locust_events import EventHook, ListenerPool
        hook, pool = EventHook("h"), ListenerPool(size=1, maxsize=100)
        got = []
        hook.add_batch_listener(lambda batch: got.append([e["n"] for e in batch]),
                                max_size=10, max_wait=60.0, pool=pool)
        for n in range(3):
            hook.fire(n=n)  # a batch of three waits
        read, write = os.pipe()
        pid = gevent.fork()
        if pid == 0:
            hook.fire(n=100)
            joined = pool.join(5)
            stats = pool.stats
            os.write(write, json.dumps([got, joined, stats.submitted, stats.completed]).encode())
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        child = json.loads(os.read(read, 65536))
        pool.join(5)
        print(json.dumps({"parent": got, "child": child}))
        """
    )
    assert outcome["parent"] == [[0, 1, 2]]
    assert outcome["child"] == [[[100]], True, 1, 1]  # the child delivers its own event only


def test_the_doctor_lists_a_batch_listener_with_its_batch_settings(registry: Events) -> None:
    from locust_events.tools.doctor.listing import check_signatures, collect_hooks
    from locust_events.tools.doctor.rendering import render_text
    from locust_events.tools.doctor.report import Report

    def write_rows(batch: list[Mapping[str, Any]]) -> None: ...

    registry.request.add_batch_listener(write_rows, max_size=250, max_wait=2.0)
    hooks = collect_hooks(registry, locust_events.events)
    report = Report("locustfile.py", "2.x", True, 100.0, 1.0, [], hooks)
    check_signatures(report)
    (listener,) = [item for item in report.listeners if item.name.endswith("write_rows")]
    assert (listener.runs, listener.batch_max_size, listener.batch_max_wait) == (
        "batched",
        250,
        2.0,
    )
    assert not report.problems  # it takes a batch, not the hook's keyword arguments
    assert "batches of up to 250 events or 2 s" in render_text(report)
    assert listener.as_json()["batch"] == {"max_size": 250, "max_wait": 2.0}


def test_the_listeners_tab_rows_show_a_batch_listener_and_its_batch_size(
    registry: Events, pool: ListenerPool
) -> None:
    from locust_events._listener_stats import aggregate, snapshot

    def write_rows(batch: list[Mapping[str, Any]]) -> None: ...

    registry.request.add_batch_listener(write_rows, max_size=4, pool=pool)
    registry.start_profiling()
    for n in range(8):
        registry.request.fire(n=n)
    assert pool.join(timeout=60)
    (row,) = [r for r in snapshot(registry)["listeners"] if r["hook"] == "request"]
    assert (row["kind"], row["calls"], row["events"]) == ("batch", 2, 8)
    assert row["listener"].endswith("write_rows (4 per batch)")
    summed = aggregate({"a": snapshot(registry), "b": snapshot(registry)})["listeners"][0]
    assert (summed["worker"], summed["calls"], summed["events"]) == ("all", 4, 16)
    registry.stop_profiling()
