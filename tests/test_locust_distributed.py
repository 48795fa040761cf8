"""A real distributed run, one master and two workers in separate processes, seen by every hook."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from .locust_support import (
    GRACE,
    LOCUSTFILES,
    child_environment,
    free_port,
    headless,
    locust_command,
    needs_locust,
    running_target,
)

pytestmark = needs_locust

RUN_TIME = 4
USERS = 6


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the master and two workers once; yield what each process recorded and its exit code."""
    workdir = tmp_path_factory.mktemp("distributed")
    port = str(free_port())
    env = child_environment(RECORD_DIR=str(workdir))
    locustfile = LOCUSTFILES / "recording.py"
    with running_target() as target:
        master = subprocess.Popen(
            locust_command(
                locustfile,
                "--master",
                "--master-bind-host",
                "127.0.0.1",
                "--master-bind-port",
                port,
                "--expect-workers",
                "2",
                "--expect-workers-max-wait",
                "30",
                *headless(target, USERS, RUN_TIME),
            ),
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        workers = [
            subprocess.Popen(
                locust_command(
                    locustfile, "--worker", "--master-host", "127.0.0.1", "--master-port", port
                ),
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            _, master_log = master.communicate(timeout=RUN_TIME + GRACE)
            worker_codes = [worker.wait(timeout=GRACE) for worker in workers]
        finally:
            for process in (master, *workers):
                if process.poll() is None:
                    process.kill()
                    process.wait()
    by_role: dict[str, list[dict[str, Any]]] = {"master": [], "worker": []}
    for path in sorted(workdir.glob("*.json")):
        record = json.loads(path.read_text())
        by_role[record["role"]].append(record)
    return {
        "master": by_role["master"],
        "workers": by_role["worker"],
        "master_code": master.returncode,
        "worker_codes": {
            worker.pid: code for worker, code in zip(workers, worker_codes, strict=True)
        },
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


def test_every_node_fires_test_start_and_test_stop(records: dict[str, Any]) -> None:
    for record in [*records["master"], *records["workers"]]:
        assert len(calls(record, "test_start")) == 1, record["role"]
        assert len(calls(record, "test_stop")) >= 1, record["role"]
        assert len(calls(record, "init")) == 1


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
