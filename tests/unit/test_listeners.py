"""Adding, removing and calling listeners: order, snapshots and the fast checks."""

from __future__ import annotations

from typing import Any

import pytest

from locust_events import EventHook

from .conftest import Recorder


def test_add_listener_returns_the_function_so_it_works_as_a_decorator(hook: EventHook) -> None:
    @hook.add_listener
    def on_event(**kwargs: Any) -> None:
        pass

    assert callable(on_event)
    assert hook.listeners == (on_event,)


def test_fire_passes_the_keyword_arguments_to_every_listener(hook: EventHook) -> None:
    first, second = Recorder(), Recorder()
    hook.add_listener(first)
    hook.add_listener(second)
    hook.fire(a=1, b="two")
    assert first.calls == [{"a": 1, "b": "two"}]
    assert second.calls == [{"a": 1, "b": "two"}]


def test_listeners_run_in_registration_order(hook: EventHook) -> None:
    log: list[str] = []
    for label in "abc":
        hook.add_listener(Recorder(label, log))
    hook.fire()
    assert log == ["a", "b", "c"]


def test_reverse_runs_last_registered_first_and_is_not_passed_on(hook: EventHook) -> None:
    log: list[str] = []
    recorders = [Recorder(label, log) for label in "abc"]
    for recorder in recorders:
        hook.add_listener(recorder)
    hook.fire(reverse=True, x=1)
    assert log == ["c", "b", "a"]
    assert recorders[0].calls == [{"x": 1}]


def test_a_positional_argument_to_fire_is_a_type_error(hook: EventHook) -> None:
    with pytest.raises(TypeError):
        hook.fire("positional")  # type: ignore[misc]


def test_a_non_callable_is_rejected_at_once_naming_the_hook(hook: EventHook) -> None:
    with pytest.raises(TypeError, match=r"'my_event'.*must be callable"):
        hook.add_listener(42)  # type: ignore[type-var]
    assert len(hook) == 0


def test_a_listener_added_twice_is_called_twice(hook: EventHook) -> None:
    recorder = Recorder()
    hook.add_listener(recorder)
    hook.add_listener(recorder)
    hook.fire()
    assert len(recorder.calls) == 2
    assert len(hook) == 2


def test_remove_listener_removes_one_registration(hook: EventHook) -> None:
    recorder = Recorder()
    hook.add_listener(recorder)
    hook.add_listener(recorder)
    hook.remove_listener(recorder)
    hook.fire()
    assert len(recorder.calls) == 1


def test_remove_listener_removes_the_first_registration(hook: EventHook) -> None:
    log: list[str] = []
    a, b = Recorder("a", log), Recorder("b", log)
    for listener in (a, b, a):
        hook.add_listener(listener)
    hook.remove_listener(a)
    hook.fire()
    assert log == ["b", "a"]


def test_a_bound_method_is_removed_by_an_equal_bound_method(hook: EventHook) -> None:
    class Reporter:
        def __init__(self) -> None:
            self.count = 0

        def on_event(self, **kwargs: Any) -> None:
            self.count += 1

    reporter = Reporter()
    hook.add_listener(reporter.on_event)
    hook.remove_listener(reporter.on_event)
    hook.fire()
    assert reporter.count == 0


def test_removing_an_unregistered_listener_names_the_hook_and_the_listener(
    hook: EventHook,
) -> None:
    def never_added(**kwargs: Any) -> None:
        pass

    with pytest.raises(ValueError, match=r"never_added.*'my_event'.*not registered"):
        hook.remove_listener(never_added)


def test_len_and_bool_say_how_many_listeners_are_registered(hook: EventHook) -> None:
    assert not hook
    assert len(hook) == 0
    hook.add_listener(Recorder())
    assert hook
    assert len(hook) == 1


def test_listeners_is_a_snapshot_later_changes_do_not_touch(hook: EventHook) -> None:
    first = Recorder()
    hook.add_listener(first)
    snapshot = hook.listeners
    hook.add_listener(Recorder())
    hook.remove_listener(first)
    assert snapshot == (first,)
    assert isinstance(snapshot, tuple)


def test_listener_removed_during_fire_is_still_called_by_that_fire(hook: EventHook) -> None:
    log: list[str] = []
    victim = Recorder("victim", log)

    def remover(**kwargs: Any) -> None:
        log.append("remover")
        hook.remove_listener(victim)

    hook.add_listener(remover)
    hook.add_listener(victim)
    hook.fire()
    assert log == ["remover", "victim"]
    hook.fire()
    assert log == ["remover", "victim", "remover"]


def test_listener_added_during_fire_is_called_from_the_next_fire_on(hook: EventHook) -> None:
    late = Recorder("late")

    def adder(**kwargs: Any) -> None:
        hook.add_listener(late)

    hook.add_listener(adder)
    hook.fire()
    assert late.calls == []
    hook.fire()
    assert len(late.calls) == 1


def test_listener_that_removes_itself_does_not_skip_the_next(hook: EventHook) -> None:
    log: list[str] = []

    def once(**kwargs: Any) -> None:
        log.append("once")
        hook.remove_listener(once)

    hook.add_listener(once)
    hook.add_listener(Recorder("next", log))
    hook.add_listener(Recorder("last", log))
    hook.fire()
    assert log == ["once", "next", "last"]
    hook.fire()
    assert log == ["once", "next", "last", "next", "last"]


def test_reentrant_fire_of_the_same_hook_from_a_listener(hook: EventHook) -> None:
    depths: list[int] = []

    def recurse(depth: int, **kwargs: Any) -> None:
        depths.append(depth)
        if depth < 3:
            hook.fire(depth=depth + 1)

    hook.add_listener(recurse)
    hook.fire(depth=0)
    assert depths == [0, 1, 2, 3]


def test_fire_makes_no_copy_of_the_listeners(hook: EventHook) -> None:
    hook.add_listener(Recorder())
    hook.add_listener(Recorder())
    before = hook._listeners
    hook.fire()
    hook.fire(reverse=True)
    assert hook._listeners is before


def test_repr_names_the_hook_and_counts_its_listeners(hook: EventHook) -> None:
    hook.add_listener(Recorder())
    assert repr(hook) == "<EventHook 'my_event' with 1 listener(s)>"
