"""Each unit test runs on the calling loop its name says, and the two loops' copies never mix."""

from __future__ import annotations

import importlib
import subprocess
import sys

import locust_events
from locust_events import EventHook, _measure, _native

from ..calling_loops import LoopWorld, loop_worlds


def test_the_package_runs_the_loop_the_test_is_named_for(calling_loop: LoopWorld) -> None:
    assert locust_events.COMPILED is (calling_loop.name == "compiled")


def test_event_hook_inherits_the_hook_core_of_its_loop(calling_loop: LoopWorld) -> None:
    measurement = EventHook("my_event").measure("GET", "/")
    if calling_loop.name == "compiled":
        speedups = importlib.import_module("locust_events._speedups")
        assert speedups.HookCore in EventHook.__mro__
        assert _native.HookCore not in EventHook.__mro__
        assert type(measurement) is speedups.Measurement
    else:
        assert _native.HookCore in EventHook.__mro__
        assert type(measurement) is _measure.Measurement


def test_imports_inside_a_test_and_fixtures_resolve_in_the_same_loop(
    calling_loop: LoopWorld, hook: EventHook
) -> None:
    assert sys.modules["locust_events"] is locust_events is calling_loop.package
    assert importlib.import_module("locust_events._hooks").EventHook is EventHook
    assert type(hook) is EventHook


def test_the_other_loop_is_a_separate_copy_of_the_package(calling_loop: LoopWorld) -> None:
    others = [world for world in loop_worlds() if world is not calling_loop]
    for other in others:
        assert other.package is not locust_events
        assert other.package.EventHook is not EventHook
        assert other.package.COMPILED is (other.name == "compiled")
        assert not isinstance(EventHook("mine"), other.package.EventHook)


def test_a_child_interpreter_runs_the_same_loop(calling_loop: LoopWorld) -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import locust_events; print(locust_events.COMPILED)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert child.stdout.strip() == str(calling_loop.name == "compiled")
