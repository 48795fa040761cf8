"""A real distributed run, one master and two workers in separate processes, seen by every hook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .locust_support import (
    EXAMPLES,
    LOCUSTFILES,
    child_environment,
    needs_locust,
    run_distributed,
    running_target,
)

pytestmark = needs_locust

#: Only a guard: each run ends by events (the recording run once every hook was seen, the
#: example once both workers reported requests), well before it on any machine.
RUN_TIME_LIMIT = 60
USERS = 6


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the master and two workers once; return what each process recorded and its exit code."""
    workdir = tmp_path_factory.mktemp("distributed")
    env = child_environment(RECORD_DIR=str(workdir))
    with running_target() as target:
        master_code, master_log, worker_codes = run_distributed(
            LOCUSTFILES / "recording.py",
            target,
            cwd=workdir,
            users=USERS,
            run_time=RUN_TIME_LIMIT,
            env=env,
        )
    by_role: dict[str, list[dict[str, Any]]] = {"master": [], "worker": []}
    for path in sorted(workdir.glob("*.json")):
        record = json.loads(path.read_text())
        by_role[record["role"]].append(record)
    return {
        "master": by_role["master"],
        "workers": by_role["worker"],
        "master_code": master_code,
        "worker_codes": worker_codes,
        "master_log": master_log,
    }


def calls(record: dict[str, Any], hook: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = record["calls"].get(hook, [])
    return result


def test_every_process_ran_and_recorded(records: dict[str, Any]) -> None:
    assert records["master_code"] == 0, records["master_log"]
    assert list(records["worker_codes"].values()) == [0, 0]
    assert len(records["master"]) == 1
    assert len(records["workers"]) == 2
    for record in [*records["master"], *records["workers"]]:
        assert record["same_hooks"]


def test_master_sees_both_workers_connect_and_report(records: dict[str, Any]) -> None:
    (master,) = records["master"]
    connected = {call["client_id"] for call in calls(master, "worker_connect")}
    assert len(calls(master, "worker_connect")) == 2
    reporting = {call["client_id"] for call in calls(master, "worker_report")}
    assert reporting == connected
    assert {call["client_id"] for call in calls(master, "heartbeat_sent")} == connected


def test_each_worker_reports_to_master_and_receives_heartbeats(records: dict[str, Any]) -> None:
    (master,) = records["master"]
    connected = {call["client_id"] for call in calls(master, "worker_connect")}
    for worker in records["workers"]:
        reports = calls(worker, "report_to_master")
        assert reports
        assert reports[0]["client_id"] in connected
        assert calls(worker, "heartbeat_received")
        assert all(
            isinstance(call["timestamp"], float) for call in calls(worker, "heartbeat_received")
        )


def test_parser_and_init_hooks_fire_once_in_every_process(records: dict[str, Any]) -> None:
    # Locust fires these through the global locust.events and through environment.events.
    for record in [*records["master"], *records["workers"]]:
        assert len(calls(record, "init_command_line_parser")) == 1, record["role"]
        (init,) = calls(record, "init")
        assert init["names"] == ["environment", "runner", "web_ui"]


def test_every_node_fires_test_start_and_test_stop(records: dict[str, Any]) -> None:
    for record in [*records["master"], *records["workers"]]:
        assert len(calls(record, "test_start")) == 1, record["role"]
        assert len(calls(record, "test_stopping")) >= 1, record["role"]
        assert len(calls(record, "test_stop")) >= 1, record["role"]


def test_spawning_complete_passes_the_total_user_count_everywhere(
    records: dict[str, Any],
) -> None:
    for record in [*records["master"], *records["workers"]]:
        counts = [call["user_count"] for call in calls(record, "spawning_complete")]
        assert counts == [USERS], record["role"]


def test_usage_monitor_and_cpu_warning_pass_both_spellings(records: dict[str, Any]) -> None:
    for record in [*records["master"], *records["workers"]]:
        monitor = calls(record, "usage_monitor")
        assert monitor, record["role"]
        for call in monitor:
            assert call["stats"] == {
                "cpu_usage": call["cpu_usage"],
                "memory_usage": call["memory_usage"],
            }
            assert call["memory_usage"] > 0
        warnings = calls(record, "cpu_warning")
        assert warnings, record["role"]
        assert all(call["usage_percent"] == call["cpu_usage"] for call in warnings)


def test_quitting_and_quit_pass_the_exit_code_the_process_ends_with(
    records: dict[str, Any],
) -> None:
    nodes = [(records["master"][0], records["master_code"])]
    nodes += [(worker, records["worker_codes"][worker["pid"]]) for worker in records["workers"]]
    for record, code in nodes:
        assert [call["exit_code"] for call in calls(record, "quitting")] == [code]
        assert [call["exit_code"] for call in calls(record, "quit")] == [code]
        assert "environment" in calls(record, "quitting")[0]["names"]


def test_distributed_example_adds_up_what_the_workers_attached_to_their_reports(
    tmp_path: Path,
) -> None:
    with running_target() as target:
        master_code, master_log, worker_codes = run_distributed(
            Path(f"{EXAMPLES / 'distributed.py'},{LOCUSTFILES / 'stop_after.py'}"),
            target,
            cwd=tmp_path,
            users=USERS,
            run_time=RUN_TIME_LIMIT,
            # Quits once both workers reported and their reports add up to 30 requests.
            env=child_environment(STOP_AFTER_WORKERS="2", STOP_AFTER_REQUESTS="30"),
        )
    assert master_code == 0, master_log
    assert list(worker_codes.values()) == [0, 0]
    summary = json.loads((tmp_path / "distributed_summary.json").read_text())
    assert summary["workers_connected"] == 2
    assert len(summary["reports_by_worker"]) == 2
    assert set(summary["requests_by_name"]) == {"/page", "/api/data"}
    # Locust's own statistics travel in the same reports, so the sums agree exactly.
    assert sum(summary["requests_by_name"].values()) == summary["requests_counted_by_locust"] > 0
    assert summary["exit_code"] == 0
