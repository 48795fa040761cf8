"""Per-listener profiling: what it records while on, and that off means the plain listeners."""

from __future__ import annotations

import logging
from typing import Any

import gevent
import pytest

from locust_events import Events, Lifecycle

from .conftest import REQUEST_PAYLOAD


def quick(**kwargs: Any) -> None:
    pass


def broken(**kwargs: Any) -> None:
    raise RuntimeError("bug")


def yielding(**kwargs: Any) -> None:
    gevent.sleep(0.001)


def fire_requests(registry: Events, count: int) -> None:
    for _ in range(count):
        registry.request.fire(**REQUEST_PAYLOAD)


def test_profiling_off_leaves_the_plain_listeners_in_place(registry: Events) -> None:
    registry.request.add_listener(quick)
    assert registry.request._listeners == (quick,)
    with registry.profiling():
        assert registry.request._listeners != (quick,)
    assert registry.request._listeners == (quick,)
    assert registry.request._reversed_listeners == (quick,)
    assert registry.profiler is None


def test_profiling_counts_calls_errors_and_time_per_listener(registry: Events) -> None:
    registry.request.add_listener(quick)
    registry.request.add_listener(broken)
    with registry.profiling() as profiler:
        fire_requests(registry, 25)
    by_listener = {p.listener.rsplit(".", 1)[-1]: p for p in profiler.profiles}
    assert by_listener["quick"].calls == 25
    assert by_listener["quick"].errors == 0
    assert by_listener["broken"].calls == 25
    assert by_listener["broken"].errors == 25
    for profile in by_listener.values():
        assert profile.hook == "request"
        assert not profile.spawned
        assert 0 < profile.max_seconds <= profile.total_seconds
    assert registry.error_count == 25


def test_errors_of_profiled_listeners_name_the_listener_not_the_wrapper(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    registry.test_stop.add_listener(broken)
    with registry.profiling():
        registry.test_stop.fire(environment=None)
    assert "test_profiling.broken" in caplog.text


def test_spawned_listeners_record_their_queue_wait(registry: Events) -> None:
    registry.request.add_listener(yielding, spawn=True)
    with registry.profiling() as profiler:
        fire_requests(registry, 20)
        registry.join(timeout=10)
    [profile] = profiler.profiles
    assert profile.spawned
    assert profile.calls == 20
    assert 0 < profile.queue_wait_max_seconds <= profile.queue_wait_total_seconds


def test_spawned_profiled_errors_are_recorded_and_logged(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    registry.test_stop.add_listener(broken, spawn=True)
    with registry.profiling() as profiler:
        registry.test_stop.fire(environment=None)
        registry.join(timeout=5)
    [profile] = profiler.profiles
    assert (profile.calls, profile.errors) == (1, 1)
    assert registry.error_count == 1
    assert "test_profiling.broken" in caplog.text


def test_listeners_added_or_removed_while_profiling_are_followed(registry: Events) -> None:
    with registry.profiling() as profiler:
        registry.request.add_listener(quick)
        fire_requests(registry, 3)
        registry.request.remove_listener(quick)
        fire_requests(registry, 3)
        custom = registry.add_hook("custom", "n")
        custom.add_listener(lambda n: None)
        custom.fire(n=1)
    calls = {p.hook: p.calls for p in profiler.profiles}
    assert calls == {"request": 3, "custom": 1}
    assert registry.request._listeners == ()


def test_the_profile_is_available_as_a_dict_and_a_table(registry: Events) -> None:
    registry.request.add_listener(quick)
    with registry.profiling() as profiler:
        fire_requests(registry, 2)
    data = profiler.as_dict()
    [row] = data["request"]
    assert row["calls"] == 2
    assert row["listener"].endswith("test_profiling.quick")
    assert set(row) >= {"errors", "total_seconds", "max_seconds", "mean_seconds"}
    table = profiler.table()
    assert "test_profiling.quick" in table
    assert "sync" in table


def test_start_profiling_twice_returns_the_running_profiler(registry: Events) -> None:
    first = registry.start_profiling()
    assert registry.start_profiling() is first
    assert registry.stop_profiling() is first
    assert registry.stop_profiling() is None


def test_the_environment_variable_profiles_a_lifecycle_and_logs_the_table_at_quit(
    registry: Events, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LOCUST_EVENTS_PROFILE", "1")
    caplog.set_level(logging.INFO, logger="locust_events")
    registry.test_start.add_listener(quick)
    lifecycle = Lifecycle(registry)
    lifecycle.start()
    lifecycle.quit()
    assert registry.profiler is not None
    assert "Listener profile:" in caplog.text
    assert "test_profiling.quick" in caplog.text


def test_the_table_shortens_long_listener_names_in_the_middle(registry: Events) -> None:
    class ExternalIntegrationReporterForStaging:
        def on_test_start_of_the_whole_distributed_run(self, **kwargs: Any) -> None:
            pass

    registry.test_start.add_listener(
        ExternalIntegrationReporterForStaging().on_test_start_of_the_whole_distributed_run
    )
    with registry.profiling() as profiler:
        registry.test_start.fire(environment=None)
    (row,) = [line for line in profiler.table().splitlines() if line.startswith("test_start")]
    name = row.split()[1]
    assert len(name) == 48
    assert name.startswith("tests.unit.test_prof")
    assert "…" in name
    assert name.endswith("distributed_run")


def test_the_profiler_imports_no_hook_module_when_it_runs() -> None:
    """The hooks import the profiler; the profiler gets each entry with its pool instead."""
    import ast
    import inspect

    from locust_events import _profiling

    tree = ast.parse(inspect.getsource(_profiling))
    type_checking_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for node in ast.walk(block)
    }
    imported = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and id(node) not in type_checking_only
    ]
    assert "_hooks" not in imported


def test_profiling_is_requested_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from locust_events._profiling import PROFILE_VARIABLE, profiling_requested

    monkeypatch.setenv(PROFILE_VARIABLE, "1")
    assert profiling_requested()
    monkeypatch.setenv(PROFILE_VARIABLE, "0")
    assert not profiling_requested()


@pytest.mark.parametrize("asked", [False, True], ids=["counting for a tab", "asked for"])
def test_shutdown_logs_the_table_only_when_profiling_was_asked_for(
    registry: Events, caplog: pytest.LogCaptureFixture, asked: bool
) -> None:
    caplog.set_level(logging.INFO, logger="locust_events")
    registry.request.add_listener(quick)
    registry.start_profiling(100, report_at_shutdown=False)  # as the Listeners tab counts
    if asked:
        assert registry.start_profiling() is registry.profiler  # LOCUST_EVENTS_PROFILE=1
    registry.request.fire(**REQUEST_PAYLOAD)
    assert registry.shutdown(5)
    assert ("Listener profile:" in caplog.text) is asked
