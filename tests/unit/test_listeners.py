"""Adding, removing and calling listeners: order, snapshots and the fast checks."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import pytest

import locust_events._hooks as hooks_module
from locust_events import EventHook, Events, ListenerPool, Registration

from .conftest import REQUEST_PAYLOAD, Recorder


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


def test_registrations_list_each_listener_with_the_pool_it_runs_in(hook: EventHook) -> None:
    pool = ListenerPool(size=1, name="writer")
    first, second = Recorder("first"), Recorder("second")
    hook.add_listener(first)
    hook.add_listener(second, spawn=pool)
    hook.add_listener(first)
    assert hook.registrations == (
        Registration(first, None),
        Registration(second, pool),
        Registration(first, None),
    )
    hook.remove_listener(first)
    assert [registration.listener for registration in hook.registrations] == [second, first]


def test_registrations_is_a_snapshot_of_frozen_records(hook: EventHook) -> None:
    hook.add_listener(Recorder())
    registrations = hook.registrations
    hook.add_listener(Recorder())
    assert len(registrations) == 1
    with pytest.raises(AttributeError):
        registrations[0].pool = None  # type: ignore[misc]


def test_record_failure_logs_and_counts_and_never_raises_even_when_strict(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    registry.strict = True

    def on_stop(**kwargs: Any) -> None:
        pass

    registry.test_stop.record_failure(on_stop, RuntimeError("worker ran it and it broke"))
    assert registry.test_stop.error_count == 1
    assert registry.error_count == 1
    assert "worker ran it and it broke" in caplog.text


# Per-user listeners: a locustfile registers a bound method of its User class for each of
# thousands of users, and removes them as the users stop.
PER_USER = 1_000


class User:
    def on_request(self, request_type: str, name: str, **kwargs: Any) -> None:
        self.last = name


def test_bound_methods_of_one_function_have_their_signature_read_once(
    registry: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    inspected: list[object] = []
    check = hooks_module.check_listener_signature

    def counting_check(*args: Any) -> Any:
        inspected.append(args[-1])
        return check(*args)

    monkeypatch.setattr(hooks_module, "check_listener_signature", counting_check)
    users = [User() for _ in range(PER_USER)]
    for user in users:
        registry.request.add_listener(user.on_request)
    assert len(inspected) == 1
    registry.request.fire(**REQUEST_PAYLOAD)
    assert all(user.last == REQUEST_PAYLOAD["name"] for user in users)


def test_a_changed_function_is_checked_again(registry: Events) -> None:
    def on_request(request_type: str, name: str, **kwargs: Any) -> None:
        pass

    registry.request.add_listener(on_request)
    on_request.__code__ = (lambda request_type, name, spare, /: None).__code__
    with pytest.raises(TypeError, match="'spare'"):
        registry.request.add_listener(on_request)
    on_request.__code__ = (lambda request_type, name, spare=None: None).__code__
    on_request.__defaults__ = ("unused",)
    registry.request.add_listener(on_request)
    assert len(registry.request) == 2


class CountedEquality:
    """A listener equal to any other of the same key, counting how often ``==`` is asked."""

    compared = 0

    def __init__(self, key: int) -> None:
        self.key = key

    def __call__(self, **kwargs: Any) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        CountedEquality.compared += 1
        return isinstance(other, CountedEquality) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def test_remove_listener_compares_only_with_listeners_of_the_same_hash(hook: EventHook) -> None:
    for key in range(PER_USER):
        hook.add_listener(CountedEquality(key))
    CountedEquality.compared = 0
    for key in reversed(range(PER_USER)):
        hook.remove_listener(CountedEquality(key))  # an equal object, not the one registered
    assert CountedEquality.compared <= PER_USER
    assert len(hook) == 0


def test_unhashable_listeners_are_still_removed_by_equality(hook: EventHook) -> None:
    class Unhashable(CountedEquality):
        __hash__ = None  # type: ignore[assignment]

    hook.add_listener(Unhashable(1))
    hook.add_listener(Unhashable(2))
    hook.remove_listener(Unhashable(2))
    assert [listener.key for listener in hook.listeners] == [1]  # type: ignore[attr-defined]


def test_many_listeners_are_called_in_order_after_adds_and_removes(hook: EventHook) -> None:
    log: list[str] = []
    recorders = [Recorder(str(number), log) for number in range(PER_USER)]
    for recorder in recorders:
        hook.add_listener(recorder)
    for recorder in recorders[::2]:
        hook.remove_listener(recorder)
    hook.fire(x=1)
    assert log == [str(number) for number in range(1, PER_USER, 2)]
    log.clear()
    hook.fire(reverse=True)
    assert log == [str(number) for number in reversed(range(1, PER_USER, 2))]
    assert len(hook) == PER_USER // 2


def test_a_fire_of_many_listeners_keeps_the_listeners_it_started_with(hook: EventHook) -> None:
    log: list[str] = []
    late = Recorder("late", log)
    first = Recorder("first", log)

    def changes_the_hook(**kwargs: Any) -> None:
        hook.remove_listener(first)
        hook.add_listener(late)

    hook.add_listener(changes_the_hook)
    hook.add_listener(first)
    for _ in range(PER_USER):
        hook.add_listener(Recorder("other"))  # past what a change rebuilds at once
    hook.fire()
    assert log[0] == "first"
    assert "late" not in log
    log.clear()
    hook.fire()
    assert log[-1] == "late"
    assert "first" not in log


def test_a_strict_error_among_many_listeners_stops_the_fire_counted_once(
    registry: Events,
) -> None:
    registry.strict = True
    after = Recorder()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("listener bug")

    for _ in range(PER_USER):
        registry.test_stop.add_listener(Recorder())
    registry.test_stop.add_listener(broken)
    registry.test_stop.add_listener(after)
    with pytest.raises(RuntimeError, match="listener bug"):
        registry.test_stop.fire(environment=None)
    assert registry.error_count == 1
    assert after.calls == []


def test_an_error_among_many_listeners_is_logged_for_that_listener(registry: Events) -> None:
    seen: list[object] = []
    registry.test_stop.policy.callbacks.append(lambda hook, listener, error: seen.append(listener))

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("listener bug")

    after = Recorder()
    for _ in range(PER_USER):
        registry.test_stop.add_listener(Recorder())
    registry.test_stop.add_listener(broken)
    registry.test_stop.add_listener(after)
    registry.test_stop.fire(environment=None)
    assert seen == [broken]
    assert len(after.calls) == 1


def test_a_hook_of_many_listeners_is_freed_as_soon_as_it_is_dropped() -> None:
    hook = EventHook("per_user")
    for _ in range(PER_USER):
        hook.add_listener(Recorder())
    gone = weakref.ref(hook)
    collecting = gc.isenabled()
    gc.disable()
    try:
        del hook
        assert gone() is None
    finally:
        if collecting:
            gc.enable()


def test_a_fire_from_code_run_inside_a_registration_does_not_deadlock(hook: EventHook) -> None:
    """A listener's ``__hash__`` runs while the hook registers it; a signal handler may run
    there too. A fire from there, of a hook whose tuples wait for a rebuild, still runs."""
    log: list[str] = []
    for _ in range(PER_USER):
        hook.add_listener(Recorder("other", log))

    class FiresWhileHashed:
        def __call__(self, **kwargs: Any) -> None:
            log.append("hashed one")

        def __hash__(self) -> int:
            if "fired" not in log:
                log.append("fired")
                hook.fire()
            return 1

    def register() -> None:
        hook.add_listener(FiresWhileHashed())
        log.append("registered")

    worker = threading.Thread(target=register, daemon=True)
    worker.start()
    worker.join(60)  # a deadlock never ends; the registration takes milliseconds
    assert log[-1] == "registered"
    assert log.count("other") == PER_USER
