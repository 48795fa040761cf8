"""The calling loop's own guarantees, on each implementation (the ``calling_loop`` fixture):
fire, reverse, listener errors, keyword passing, ``FilteredListener`` and ``measure()``."""

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

from locust_events.tools.bench import peak_allocation

from .conftest import CallingLoop, Recorder


class Failing(Exception):
    """A listener bug."""


class StopUser(Exception):
    """Stands in for Locust's pass-through exceptions."""


def no_op(**kwargs: Any) -> None:
    pass


def test_reference_counts_stay_the_same_over_a_million_fires(calling_loop: CallingLoop) -> None:
    values = {"payload": [1, 2, 3], "token": object(), "number": float(len(sys.argv) + 0.5)}

    def listener(**kwargs: Any) -> list[int]:
        return [1]  # a result fire must release

    hook = calling_loop.hook(listener)
    fire = hook.fire
    hook.fire(**values)
    before = {name: sys.getrefcount(value) for name, value in values.items()}
    listener_before = sys.getrefcount(listener)
    for _ in itertools.repeat(None, 1_000_000):
        fire(payload=values["payload"], token=values["token"], number=values["number"])
    assert {name: sys.getrefcount(value) for name, value in values.items()} == before
    assert sys.getrefcount(listener) == listener_before


@pytest.mark.parametrize("path", ["reverse", "error"])
def test_reference_counts_stay_the_same_on_the_slower_paths(
    calling_loop: CallingLoop, path: str
) -> None:
    payload, token = [1, 2], object()
    caught: list[int] = []

    class CountingHook(calling_loop.Hook):  # type: ignore[name-defined]
        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            caught.append(1)

    listener = no_op
    if path == "error":

        def listener(**kwargs: Any) -> None:
            raise Failing

    hook = CountingHook(listener)
    reverse = path == "reverse"
    hook.fire(reverse=reverse, payload=payload, token=token)
    counts = (sys.getrefcount(payload), sys.getrefcount(token), sys.getrefcount(listener))
    for _ in itertools.repeat(None, 100_000):
        hook.fire(payload=payload, reverse=reverse, token=token)
    assert (sys.getrefcount(payload), sys.getrefcount(token), sys.getrefcount(listener)) == counts
    assert len(caught) == (100_001 if path == "error" else 0)


@pytest.mark.parametrize("reverse", [False, True])
def test_firing_a_hundred_thousand_times_does_not_grow_memory(
    calling_loop: CallingLoop, reverse: bool
) -> None:
    class Counter:
        count = 0

        def on_event(self, **kwargs: Any) -> None:
            self.count += 1

    counter = Counter()
    hook = calling_loop.hook(no_op, counter.on_event)  # a bound method: another path
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


def test_a_compiled_fire_without_listeners_allocates_nothing(compiled_loop: CallingLoop) -> None:
    fire, context = compiled_loop.hook().fire, {}

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
    calling_loop: CallingLoop, reverse: bool
) -> None:
    log: list[str] = []

    def yielding(**kwargs: Any) -> None:
        log.append("yielding")
        gevent.sleep(0.001)

    # Listeners that only the hook references: once it drops them, only the running fire
    # keeps them (and the tuple holding them) alive.
    hook = calling_loop.hook(Recorder("first", log), yielding, Recorder("last", log))
    only_in_the_hook = [weakref.ref(hook._listeners[0]), weakref.ref(hook._listeners[2])]

    def empty_the_hook() -> None:
        hook.set_listeners(Recorder("added meanwhile", log))
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
    ("kind", "handed_over", "propagates", "next_runs"),
    [
        (Failing, 1, False, True),
        (StopUser, 1, True, False),  # _listener_failed raises it again
        (KeyboardInterrupt, 0, True, False),
        (greenlet.GreenletExit, 0, True, False),
        (SystemExit, 0, True, False),
    ],
)
def test_each_kind_of_listener_exception(
    calling_loop: CallingLoop,
    kind: type[BaseException],
    handed_over: int,
    propagates: bool,
    next_runs: bool,
) -> None:
    after = Recorder()

    def raiser(**kwargs: Any) -> None:
        raise kind("from the listener")

    hook = calling_loop.Hook(raiser, after, pass_through=(StopUser,))
    if propagates:
        with pytest.raises(kind, match="from the listener"):
            hook.fire(environment=None)
    else:
        hook.fire(environment=None)
    assert len(hook.failures) == handed_over  # a BaseException never is
    assert len(after.calls) == int(next_runs)


def test_an_error_listener_failed_raises_again_leaves_with_the_listeners_traceback(
    calling_loop: CallingLoop,
) -> None:
    error = Failing("strict")

    def raiser(**kwargs: Any) -> None:
        raise error

    hook = calling_loop.Hook(raiser, pass_through=(Failing,))
    with pytest.raises(Failing) as caught:
        hook.fire(environment=None)
    assert caught.value is error
    assert "raiser" in [entry.name for entry in caught.traceback]
    assert hook.failures == [(raiser, error)]


def test_the_error_handed_to_listener_failed_carries_its_traceback(
    calling_loop: CallingLoop,
) -> None:
    seen: list[tuple[Any, BaseException]] = []

    class Keeping(calling_loop.Hook):  # type: ignore[name-defined]
        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            assert sys.exc_info()[1] is error  # handled, as in an ``except`` block
            seen.append((listener, error))

    def deep(**kwargs: Any) -> None:
        {}["missing"]

    hook = Keeping(deep)
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


def test_an_error_raised_while_handling_a_listener_error_chains_to_it(
    calling_loop: CallingLoop,
) -> None:
    class Translating(calling_loop.Hook):  # type: ignore[name-defined]
        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            raise RuntimeError("while handling")

    hook = Translating(lambda **kwargs: 1 / 0)
    with pytest.raises(RuntimeError) as caught:
        hook.fire()
    assert isinstance(caught.value.__context__, ZeroDivisionError)


@pytest.mark.parametrize("raises", [False, True])
def test_a_listener_that_drops_the_last_reference_to_the_hook(
    calling_loop: CallingLoop, raises: bool
) -> None:
    after = Recorder("after")

    class Forgetting(calling_loop.Hook):  # type: ignore[name-defined]
        """Keeps no listener error (a kept one would keep the frames, and the hook)."""

        __slots__ = ()

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            pass

    holder = [Forgetting(name="doomed")]

    def drop_the_hook(**kwargs: Any) -> None:
        holder.clear()
        gc.collect()
        if raises:
            raise Failing("after dropping the hook")

    holder[0].set_listeners(drop_the_hook, after)
    watched = weakref.ref(after)
    fire = holder[0].fire
    fire(x=1)  # the bound method keeps the hook alive until the fire returns
    assert after.calls == [{"x": 1}]
    del fire, after
    gc.collect()
    assert watched() is None  # the hook, its tuples and listeners are gone


def test_ten_thousand_listeners_run_in_order_both_ways(calling_loop: CallingLoop) -> None:
    log: list[int] = []
    hook = calling_loop.hook(
        *(lambda number=number, **kwargs: log.append(number) for number in range(10_000))
    )
    hook.fire(x=1)
    assert log == list(range(10_000))
    log.clear()
    hook.fire(reverse=True)
    assert log == list(reversed(range(10_000)))


def test_a_failing_listener_among_ten_thousand_is_handed_over_once(
    calling_loop: CallingLoop,
) -> None:
    calls = Recorder()
    hook = calling_loop.hook(*(broken if number == 5_000 else calls for number in range(10_000)))
    hook.fire(x=1)
    assert len(calls.calls) == 9_999
    assert [listener for listener, _ in hook.failures] == [broken]


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
    calling_loop: CallingLoop, kwargs: dict[str, Any], passed_on: dict[str, Any]
) -> None:
    log: list[str] = []
    first, second = Recorder("first", log), Recorder("second", log)
    hook = calling_loop.hook(first, second)
    hook.fire(**kwargs)
    assert first.calls == second.calls == [passed_on]
    assert log == (["second", "first"] if kwargs.get("reverse") else ["first", "second"])


def test_reverse_given_under_a_name_built_at_run_time_is_recognised(
    calling_loop: CallingLoop,
) -> None:
    log: list[str] = []
    first, second = Recorder("first", log), Recorder("second", log)
    hook = calling_loop.hook(first, second)
    name = "".join(["rev", "erse"])  # equal to "reverse", but not the interned string
    hook.fire(**{name: 1, "a": 1})
    assert log == ["second", "first"]
    assert first.calls == [{"a": 1}]


@pytest.mark.parametrize("falsy", [0, "", None, []])
def test_reverse_is_taken_by_its_truth(calling_loop: CallingLoop, falsy: object) -> None:
    log: list[str] = []
    hook = calling_loop.hook(Recorder("first", log), Recorder("second", log))
    hook.fire(reverse=falsy)
    hook.fire(reverse="yes")
    assert log == ["first", "second", "second", "first"]


def test_a_reverse_whose_truth_raises_stops_the_fire_before_any_listener(
    calling_loop: CallingLoop,
) -> None:
    class Undecided:
        def __bool__(self) -> bool:
            raise ValueError("no truth")

    recorder = Recorder()
    hook = calling_loop.hook(recorder)
    with pytest.raises(ValueError, match="no truth"):
        hook.fire(reverse=Undecided(), a=1)
    assert recorder.calls == []


@pytest.mark.parametrize("args", [(1,), (1, 2)])
def test_positional_arguments_are_a_type_error_and_call_nobody(
    calling_loop: CallingLoop, args: tuple[int, ...]
) -> None:
    recorder = Recorder()
    hook = calling_loop.hook(recorder)
    with pytest.raises(TypeError):
        hook.fire(*args, a=1)  # type: ignore[misc]
    assert recorder.calls == []


def test_a_keyword_named_self_reaches_the_listeners(calling_loop: CallingLoop) -> None:
    calls: list[dict[str, Any]] = []
    hook = calling_loop.hook(lambda **kwargs: calls.append(kwargs))
    hook.fire(self="me")
    assert calls == [{"self": "me"}]


def test_measure_passes_keys_the_block_replaced(calling_loop: CallingLoop) -> None:
    recorder = Recorder()
    hook = calling_loop.hook(recorder)
    with hook.measure("GET", "/") as request_meta:
        del request_meta["context"]
        request_meta["status_code"] = 200  # as many keys as before, one of them new
    [call] = recorder.calls
    assert "context" not in call
    assert call["status_code"] == 200
    assert list(call)[-2:] == ["status_code", "response_time"]


def test_measure_rejects_a_key_that_is_not_a_string(calling_loop: CallingLoop) -> None:
    hook = calling_loop.hook(no_op)
    with pytest.raises(TypeError), hook.measure("GET", "/") as request_meta:
        request_meta[1] = "one"  # type: ignore[index]


def test_measure_fires_through_an_overridden_fire(calling_loop: CallingLoop) -> None:
    fired: list[dict[str, Any]] = []

    class Recording(calling_loop.Hook):  # type: ignore[name-defined]
        __slots__ = ()

        def fire(self, /, *, reverse: bool = False, **kwargs: Any) -> None:
            fired.append(kwargs)

    with Recording().measure("GET", "/"):
        pass
    [kwargs] = fired
    assert kwargs["name"] == "/"


def test_a_filtered_listener_refuses_positional_arguments_and_names_the_listener(
    calling_loop: CallingLoop,
) -> None:
    calls: list[tuple[Any, ...]] = []

    def on_request(*args: Any, name: str = "") -> None:
        calls.append(args)

    filtered = calling_loop.FilteredListener(on_request, frozenset({"name"}))
    with pytest.raises(TypeError) as refused:
        filtered("GET", name="/", response_time=1.0)
    assert str(refused.value) == (
        f"Cannot call listener {on_request!r} with 1 positional argument(s): listeners take "
        "keyword arguments only; pass each one by name, as listener(name=value)"
    )
    assert calls == []


@pytest.mark.parametrize(
    "passed",
    [
        {"name": "/", "response_time": 1.0},
        {"response_time": 1.0, "request_type": "GET", "name": "/"},
        {"response_time": 1.0},
        {},
    ],
)
def test_a_filtered_listener_gets_only_the_names_it_takes_of_those_passed(
    calling_loop: CallingLoop, passed: dict[str, Any]
) -> None:
    got: list[dict[str, Any]] = []
    filtered = calling_loop.FilteredListener(
        lambda **kwargs: got.append(kwargs), frozenset({"name", "request_type"})
    )
    filtered(**passed)
    filtered(**passed)  # the names learned at the first call
    taken = {key: value for key, value in passed.items() if key in {"name", "request_type"}}
    assert got == [taken, taken]


def test_a_filtered_listener_shows_the_listener_and_its_names_sorted(
    calling_loop: CallingLoop,
) -> None:
    filtered = calling_loop.FilteredListener(no_op, frozenset({"name", "context", "url"}))
    assert repr(filtered) == f"<filtered {no_op!r} taking ['context', 'name', 'url']>"
    assert filtered.__wrapped__ is no_op


class _NameRaises(Exception):
    pass


@pytest.mark.parametrize(
    ("raised", "expected"),
    [(_NameRaises, TypeError), (AttributeError, TypeError), (KeyboardInterrupt, KeyboardInterrupt)],
)
def test_a_positional_fire_on_a_hook_whose_name_raises(
    calling_loop: CallingLoop, raised: type[BaseException], expected: type[BaseException]
) -> None:
    # The caller's mistake is the positional argument: that TypeError is the one to see, the
    # hook named by its type; an interruption while reading the name still interrupts.
    class Unnamed(calling_loop.HookCore):  # type: ignore[name-defined]
        @property
        def name(self) -> str:
            raise raised("no name")

    with pytest.raises(expected) as caught:
        Unnamed().fire(1)
    if expected is TypeError:
        assert str(caught.value) == (
            "Cannot fire hook 'Unnamed' with 1 positional argument(s): fire() takes keyword "
            "arguments only; pass each one by name, as fire(name=value)"
        )


def test_a_core_made_with_listeners_calls_them_in_order_and_reversed(
    calling_loop: CallingLoop,
) -> None:
    """``HookCore(listeners)`` is how a subclass outside the package (the bench) sets them."""
    log: list[str] = []

    def first(**kwargs: Any) -> None:
        log.append("first")

    def second(**kwargs: Any) -> None:
        log.append("second")

    core = calling_loop.HookCore((first, second))
    core.fire(n=1)
    core.fire(reverse=True, n=2)
    assert log == ["first", "second", "second", "first"]
    with pytest.raises(TypeError, match="tuple"):
        calling_loop.HookCore([first])


def test_keywords_to_hands_the_values_then_their_names_to_its_target(
    calling_loop: CallingLoop,
) -> None:
    packed: list[tuple[Any, ...]] = []
    target = packed.append
    forward = calling_loop.keywords_to(target)
    context: dict[str, int] = {}
    forward(request_type="GET", context=context)
    forward()
    assert packed == [("GET", context, ("request_type", "context")), ((),)]
    assert packed[0][1] is context  # values are passed on, not copied
    assert forward.__self__ is target  # how a hook's entry finds its spawned listener


def test_call_with_calls_a_function_with_the_keywords_as_they_were_given(
    calling_loop: CallingLoop,
) -> None:
    def listener(request_type: str, name: str = "-", **rest: Any) -> tuple[Any, ...]:
        return request_type, name, rest

    packed: list[tuple[Any, ...]] = []
    calling_loop.keywords_to(packed.append)(name="/x", request_type="GET", url="/x?page=2")
    calling_loop.keywords_to(packed.append)()
    assert calling_loop.call_with(listener, packed[0]) == ("GET", "/x", {"url": "/x?page=2"})
    assert calling_loop.call_with(dict, packed[1]) == {}


def test_keywords_to_refuses_positional_arguments_naming_its_target(
    calling_loop: CallingLoop,
) -> None:
    def queue_it(arguments: tuple[Any, ...]) -> None:
        pass

    with pytest.raises(TypeError, match=r"queue_it.* 1 positional argument\(s\): it takes keyword"):
        calling_loop.keywords_to(queue_it)("GET")


@pytest.mark.parametrize(
    "arguments",
    [(), ("GET",), ("GET", ("a", "b")), ("GET", ["request_type"]), ("GET", (1,)), "GET"],
    ids=["empty", "no names", "too many names", "names not a tuple", "a name not a str", "str"],
)
def test_call_with_refuses_arguments_keywords_to_did_not_pack(
    calling_loop: CallingLoop, arguments: Any
) -> None:
    with pytest.raises(TypeError, match="takes arguments as keywords_to packs them"):
        calling_loop.call_with(no_op, arguments)


def test_packed_keywords_are_left_out_of_the_cycle_collector(compiled_loop: CallingLoop) -> None:
    """A queued spawned call holds its arguments for as long as it waits: a million queued
    calls would otherwise be traversed by every collection (their values still are)."""
    packed: list[tuple[Any, ...]] = []
    compiled_loop.keywords_to(packed.append)(context=[], name="/x")
    assert not gc.is_tracked(packed[0])
    assert gc.is_tracked(packed[0][0])
