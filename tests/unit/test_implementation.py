"""Which calling loop runs: the compiled one where it was built and wanted, else pure Python."""

from __future__ import annotations

import os
from importlib.util import find_spec

import locust_events
from locust_events import EventHook, _measure, _native


def _pure_requested() -> bool:
    return os.environ.get("LOCUST_EVENTS_PURE", "") not in ("", "0")


def test_compiled_is_what_the_environment_asks_for() -> None:
    # tox's compiled environments set LOCUST_EVENTS_EXPECT_COMPILED, so that a build that
    # failed quietly (and fell back to pure Python) fails the run there.
    if _pure_requested():
        assert locust_events.COMPILED is False
    elif os.environ.get("LOCUST_EVENTS_EXPECT_COMPILED"):
        assert locust_events.COMPILED is True
    else:
        assert locust_events.COMPILED is (find_spec("locust_events._speedups") is not None)


def test_event_hook_is_built_on_the_selected_implementation() -> None:
    measurement = EventHook().measure("GET", "/")
    if locust_events.COMPILED:
        from locust_events import _speedups

        assert issubclass(EventHook, _speedups.HookCore)
        assert type(measurement) is _speedups.Measurement
    else:
        assert issubclass(EventHook, _native.HookCore)
        assert type(measurement) is _measure.Measurement


def test_the_calling_loop_tests_run_on_every_loop_built() -> None:
    from .conftest import CALLING_LOOPS

    built = ["compiled"] if find_spec("locust_events._speedups") is not None else []
    assert [loop.name for loop in CALLING_LOOPS] == [*built, "pure"]
    for loop in CALLING_LOOPS:
        assert issubclass(loop.Hook, loop.HookCore)
        assert loop.Hook().measure("GET", "/").__class__ is loop.Measurement


def test_the_spawned_path_is_compiled_where_it_was_built_and_wanted() -> None:
    # One source each: setup.py compiles _call_queue.py, _spawned.py, _batching.py and
    # _batch_event.py with Cython, and each module adopts its compiled build unless
    # LOCUST_EVENTS_PURE is set.
    from locust_events import _batch_event, _batching, _call_queue, _spawned

    if _pure_requested():
        expected = False
    elif os.environ.get("LOCUST_EVENTS_EXPECT_COMPILED"):
        expected = True
    else:
        expected = find_spec("locust_events._call_queue_compiled") is not None
    compiled = {
        _call_queue.CallQueue.__module__ == "locust_events._call_queue_compiled",
        _spawned.SpawnedListener.__module__ == "locust_events._spawned_compiled",
        _batching.BatchListener.__module__ == "locust_events._batching_compiled",
        _batch_event.BatchEvent.__module__ == "locust_events._batch_event_compiled",
    }
    assert compiled == {expected}
