"""The calling loop's own guarantees, aimed at the compiled one; they hold for pure Python too."""

from __future__ import annotations

import gc
import itertools
import sys
import tracemalloc
import weakref
from typing import Any

import gevent
import greenlet
import pytest

import locust_events
from locust_events import EventHook, Events
from locust_events.tools.bench import peak_allocation

from .conftest import Recorder

compiled_only = pytest.mark.skipif(
    not locust_events.COMPILED, reason="only the compiled loop promises this"
)


class Failing(Exception):
    """A listener bug."""


class StopUser(Exception):
    """Stands in for Locust's pass-through exceptions."""


def no_op(**kwargs: Any) -> None:
    pass


def test_reference_counts_stay_the_same_over_a_million_fires(hook: EventHook) -> None:
    values = {"payload": [1, 2, 3], "token": object(), "number": float(len(sys.argv) + 0.5)}

    def listener(**kwargs: Any) -> list[int]:
        return [1]  # a result fire must release

    hook.add_listener(listener)
    fire = hook.fire
    hook.fire(**values)
    before = {name: sys.getrefcount(value) for name, value in values.items()}
    listener_before = sys.getrefcount(listener)
    for _ in itertools.repeat(None, 1_000_000):
        fire(payload=values["payload"], token=values["token"], number=values["number"])
    assert {name: sys.getrefcount(value) for name, value in values.items()} == before
    assert sys.getrefcount(listener) == listener_before


@pytest.mark.parametrize("path", ["reverse", "error"])
def test_reference_counts_stay_the_same_on_the_slower_paths(path: str) -> None:
    payload, token = [1, 2], object()
    caught: list[int] = []

    class CountingHook(EventHook):
        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            caught.append(1)

    hook = CountingHook()
    listener = no_op
    if path == "error":

        def listener(**kwargs: Any) -> None:
            raise Failing

    hook.add_listener(listener)
    reverse = path == "reverse"
    hook.fire(reverse=reverse, payload=payload, token=token)
    counts = (sys.getrefcount(payload), sys.getrefcount(token), sys.getrefcount(listener))
    for _ in itertools.repeat(None, 100_000):
        hook.fire(payload=payload, reverse=reverse, token=token)
    assert (sys.getrefcount(payload), sys.getrefcount(token), sys.getrefcount(listener)) == counts
    assert len(caught) == (100_001 if path == "error" else 0)


@pytest.mark.parametrize("reverse", [False, True])
def test_firing_a_hundred_thousand_times_does_not_grow_memory(
    hook: EventHook, reverse: bool
) -> None:
    class Counter:
        count = 0

        def on_event(self, **kwargs: Any) -> None:
            self.count += 1

    counter = Counter()
    hook.add_listener(no_op)
    hook.add_listener(counter.on_event)  # a bound method: called through another path
    context: dict[str, Any] = {}
    for _ in range(1_000):
        hook.fire(reverse=reverse, name="/api", context=context)
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for _ in itertools.repeat(None, 100_000):
            hook.fire(reverse=reverse, name="/api", context=context)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert counter.count == 101_000
    assert after - before < 1_024


@compiled_only
def test_a_fire_without_listeners_allocates_nothing(hook: EventHook) -> None:
    fire, context = hook.fire, {}

    def request_event(reverse: bool = False) -> None:
        # Literal keywords, as a client fires; ``fire(**payload)`` would copy the payload.
        if reverse:
            fire(request_type="GET", name="/api", context=context, reverse=False)
        else:
            fire(request_type="GET", name="/api", context=context)

    for _ in range(100):  # let the interpreter specialise the calls first
        request_event()
    assert peak_allocation(request_event, 10_000) == 0
    # The measurement sees an allocation where there is one: without ``reverse`` the
    # listeners need a copy of the names and values.
    assert peak_allocation(lambda: request_event(reverse=True), 1) > 0


@pytest.mark.parametrize("reverse", [False, True])
def test_a_listener_switching_greenlets_while_another_empties_the_hook_keeps_its_snapshot(
    reverse: bool,
) -> None:
    hook = EventHook("switching")
    log: list[str] = []

    def yielding(**kwargs: Any) -> None:
        log.append("yielding")
        gevent.sleep(0.001)

    # Listeners that only the hook references: once it drops them, only the running fire
    # keeps them (and the tuple holding them) alive.
    hook.add_listener(Recorder("first", log))
    hook.add_listener(yielding)
    hook.add_listener(Recorder("last", log))
    only_in_the_hook = [weakref.ref(hook.listeners[0]), weakref.ref(hook.listeners[2])]

    def empty_the_hook() -> None:
        for listener in hook.listeners:
            hook.remove_listener(listener)
        hook.add_listener(Recorder("added meanwhile", log))
        gc.collect()

    firing = gevent.spawn(hook.fire, reverse=reverse, x=1)
    gevent.sleep(0)  # the fire is now parked inside ``yielding``
    gevent.spawn(empty_the_hook).join()
    firing.join()
    assert firing.successful()
    expected = ["last", "yielding", "first"] if reverse else ["first", "yielding", "last"]
    assert log == expected
    gc.collect()
    assert [ref() for ref in only_in_the_hook] == [None, None]
    hook.fire()
    assert log[-1] == "added meanwhile"


@pytest.mark.parametrize(
    ("kind", "counted", "propagates", "next_runs"),
    [
        (Failing, 1, False, True),
        (StopUser, 0, True, False),
        (KeyboardInterrupt, 0, True, False),
        (greenlet.GreenletExit, 0, True, False),
        (SystemExit, 0, True, False),
    ],
)
def test_each_kind_of_listener_exception(
    kind: type[BaseException], counted: int, propagates: bool, next_runs: bool
) -> None:
    registry = Events(pass_through=[StopUser])
    after = Recorder()

    def raiser(**kwargs: Any) -> None:
        raise kind("from the listener")

    registry.test_stop.add_listener(raiser)
    registry.test_stop.add_listener(after)
    if propagates:
        with pytest.raises(kind, match="from the listener"):
            registry.test_stop.fire(environment=None)
    else:
        registry.test_stop.fire(environment=None)
    assert registry.error_count == counted
    assert len(after.calls) == int(next_runs)


def test_strict_mode_reraises_the_listeners_own_error_with_its_traceback() -> None:
    registry = Events(strict=True)
    error = Failing("strict")

    def raiser(**kwargs: Any) -> None:
        raise error

    registry.test_stop.add_listener(raiser)
    with pytest.raises(Failing) as caught:
        registry.test_stop.fire(environment=None)
    assert caught.value is error
    assert "raiser" in [entry.name for entry in caught.traceback]
    assert registry.error_count == 1


def test_the_error_handed_to_listener_failed_carries_its_traceback() -> None:
    seen: list[tuple[Any, BaseException]] = []

    class Keeping(EventHook):
        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            assert sys.exc_info()[1] is error  # handled, as in an ``except`` block
            seen.append((listener, error))

    def deep(**kwargs: Any) -> None:
        {}["missing"]

    hook = Keeping()
    hook.add_listener(deep)
    hook.fire()
    [(listener, error)] = seen
    assert listener is deep
    assert isinstance(error, KeyError)
    traceback = error.__traceback__
    names = []
    while traceback is not None:
        names.append(traceback.tb_frame.f_code.co_name)
        traceback = traceback.tb_next
    assert "deep" in names


def test_an_error_raised_while_handling_a_listener_error_chains_to_it() -> None:
    class Translating(EventHook):
        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            raise RuntimeError("while handling")

    hook = Translating()
    hook.add_listener(lambda **kwargs: 1 / 0)
    with pytest.raises(RuntimeError) as caught:
        hook.fire()
    assert isinstance(caught.value.__context__, ZeroDivisionError)


@pytest.mark.parametrize("raises", [False, True])
def test_a_listener_that_drops_the_last_reference_to_the_hook(raises: bool) -> None:
    after = Recorder("after")

    class Forgetting(EventHook):
        """Keeps no listener error (a logged one would keep the frames, and the hook)."""

        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            pass

    holder = [Forgetting("doomed")]

    def drop_the_hook(**kwargs: Any) -> None:
        holder.clear()
        gc.collect()
        if raises:
            raise Failing("after dropping the hook")

    holder[0].add_listener(drop_the_hook)
    holder[0].add_listener(after)
    watched = weakref.ref(after)
    fire = holder[0].fire
    fire(x=1)  # the bound method keeps the hook alive until the fire returns
    assert after.calls == [{"x": 1}]
    del fire, after
    gc.collect()
    assert watched() is None  # the hook, its tuples and listeners are gone


def test_ten_thousand_listeners_run_in_order_both_ways(hook: EventHook) -> None:
    log: list[int] = []
    for number in range(10_000):
        hook.add_listener(lambda number=number, **kwargs: log.append(number))
    hook.fire(x=1)
    assert log == list(range(10_000))
    log.clear()
    hook.fire(reverse=True)
    assert log == list(reversed(range(10_000)))


def test_a_failing_listener_among_ten_thousand_is_counted_once(hook: EventHook) -> None:
    calls = Recorder()
    for number in range(10_000):
        hook.add_listener(broken if number == 5_000 else calls)
    hook.fire(x=1)
    assert len(calls.calls) == 9_999
    assert hook.error_count == 1


def broken(**kwargs: Any) -> None:
    raise Failing("one of many")


@pytest.mark.parametrize(
    ("kwargs", "passed_on"),
    [
        ({"reverse": True}, {}),
        ({"reverse": True, "a": 1}, {"a": 1}),
        ({"a": 1, "reverse": True, "b": 2}, {"a": 1, "b": 2}),
        ({"a": 1, "b": 2, "reverse": False}, {"a": 1, "b": 2}),
        ({"a": 1}, {"a": 1}),
        ({}, {}),
    ],
)
def test_reverse_is_stripped_wherever_it_is_given(
    hook: EventHook, kwargs: dict[str, Any], passed_on: dict[str, Any]
) -> None:
    log: list[str] = []
    first, second = Recorder("first", log), Recorder("second", log)
    hook.add_listener(first)
    hook.add_listener(second)
    hook.fire(**kwargs)
    assert first.calls == second.calls == [passed_on]
    assert log == (["second", "first"] if kwargs.get("reverse") else ["first", "second"])


def test_reverse_given_under_a_name_built_at_run_time_is_recognised(hook: EventHook) -> None:
    log: list[str] = []
    first, second = Recorder("first", log), Recorder("second", log)
    hook.add_listener(first)
    hook.add_listener(second)
    name = "".join(["rev", "erse"])  # equal to "reverse", but not the interned string
    hook.fire(**{name: 1, "a": 1})
    assert log == ["second", "first"]
    assert first.calls == [{"a": 1}]


@pytest.mark.parametrize("falsy", [0, "", None, []])
def test_reverse_is_taken_by_its_truth(hook: EventHook, falsy: object) -> None:
    log: list[str] = []
    hook.add_listener(Recorder("first", log))
    hook.add_listener(Recorder("second", log))
    hook.fire(reverse=falsy)
    hook.fire(reverse="yes")
    assert log == ["first", "second", "second", "first"]


def test_a_reverse_whose_truth_raises_stops_the_fire_before_any_listener(
    hook: EventHook,
) -> None:
    class Undecided:
        def __bool__(self) -> bool:
            raise ValueError("no truth")

    recorder = Recorder()
    hook.add_listener(recorder)
    with pytest.raises(ValueError, match="no truth"):
        hook.fire(reverse=Undecided(), a=1)
    assert recorder.calls == []


@pytest.mark.parametrize("args", [(1,), (1, 2)])
def test_positional_arguments_are_a_type_error_and_call_nobody(
    hook: EventHook, args: tuple[int, ...]
) -> None:
    recorder = Recorder()
    hook.add_listener(recorder)
    with pytest.raises(TypeError):
        hook.fire(*args, a=1)  # type: ignore[misc]
    assert recorder.calls == []


def test_a_keyword_named_self_reaches_the_listeners(hook: EventHook) -> None:
    calls: list[dict[str, Any]] = []
    hook.add_listener(lambda **kwargs: calls.append(kwargs))
    hook.fire(self="me")
    assert calls == [{"self": "me"}]


def test_measure_passes_keys_the_block_replaced(registry: Events) -> None:
    recorder = Recorder()
    registry.request.add_listener(recorder)
    with registry.request.measure("GET", "/") as request_meta:
        del request_meta["url"]
        request_meta["status_code"] = 200  # as many keys as before, one of them new
    [call] = recorder.calls
    assert "url" not in call
    assert call["status_code"] == 200
    assert list(call)[-2:] == ["status_code", "response_time"]


def test_measure_rejects_a_key_that_is_not_a_string(registry: Events) -> None:
    registry.request.add_listener(no_op)
    with pytest.raises(TypeError), registry.request.measure("GET", "/") as request_meta:
        request_meta[1] = "one"  # type: ignore[index]


def test_measure_fires_through_an_overridden_fire() -> None:
    fired: list[dict[str, Any]] = []

    class Recording(EventHook):
        __slots__ = ()

        def fire(self, /, *, reverse: bool = False, **kwargs: Any) -> None:
            fired.append(kwargs)

    with Recording().measure("GET", "/"):
        pass
    [kwargs] = fired
    assert kwargs["name"] == "/"
