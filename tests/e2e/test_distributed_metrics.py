"""Custom metrics merged on a real master from three real workers, one killed mid-run and one
stopped mid-run (SIGTERM); message hooks with a slow spawned handler; listeners placed by
process; a local run alike."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import signal
import subprocess
import sys
import time
from pathlib import Path
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
    processes_on_a_free_port,
    run_locust,
    running_target,
)

pytestmark = needs_locust

LOCUSTFILE = LOCUSTFILES / "distributed_metrics.py"
#: Only a guard: the master quits by events (a worker answered the slow message, the killed
#: one is gone), well before it on any machine.
RUN_TIME_LIMIT = 90
#: Seconds the fixture waits for the workers to start, or for a report: a guard against a hang.
WAIT_LIMIT = 120
USERS = 4


def read_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def read_json(path: Path) -> Any:
    """The JSON in ``path``; None while it is missing or being written."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def true_percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A master and three workers; once the master merged a report of each, the second worker
    is killed (SIGKILL) and the third stopped (SIGTERM: Locust's own shutdown). Returns what
    every process wrote, the master's output and exit codes."""
    workdir = tmp_path_factory.mktemp("distributed_metrics")
    env = child_environment(RECORD_DIR=str(workdir))
    port = str(free_port())
    with running_target() as target, contextlib.ExitStack() as logs:
        master = subprocess.Popen(
            locust_command(
                LOCUSTFILE,
                *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port),
                *("--expect-workers", "3", "--expect-workers-max-wait", str(WAIT_LIMIT)),
                *headless(target, USERS, RUN_TIME_LIMIT, "--csv", str(workdir / "run")),
            ),
            cwd=workdir,
            env=env,
            # Files, not pipes: nobody reads a pipe while the test waits, and a full one would
            # stop the master; what they hold is shown if a wait gives up.
            stdout=logs.enter_context((workdir / "master.out").open("w")),
            stderr=logs.enter_context((workdir / "master.err").open("w")),
        )
        workers = [
            subprocess.Popen(
                locust_command(
                    LOCUSTFILE, "--worker", "--master-host", "127.0.0.1", "--master-port", port
                ),
                cwd=workdir,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=logs.enter_context((workdir / f"worker-{n}.err").open("w")),
            )
            for n in range(3)
        ]
        survivor, victim, leaver = workers

        def wait_for(condition: Any, what: str) -> Any:
            """``condition()`` once it is true; a guard against a hang only, showing why."""
            deadline = time.monotonic() + WAIT_LIMIT
            while time.monotonic() < deadline:
                result = condition()
                if result:
                    return result
                time.sleep(0.2)
            tails = "\n".join(
                f"--- {path.name}:\n{path.read_text()[-2000:]}"
                for path in sorted(workdir.glob("*.err"))
            )
            exits = [process.poll() for process in (master, *workers)]
            raise AssertionError(f"gave up waiting for {what}; exit codes {exits}\n{tails}")

        try:
            ids = {
                process.pid: wait_for(
                    lambda process=process: (
                        read_json(workdir / f"process-{process.pid}.json") or {}
                    ).get("client_id"),
                    "every worker to start",
                )
                for process in workers
            }

            def both_merged() -> bool:
                figures = read_json(workdir / "figures.json") or {"requests_by_worker": {}}
                merged = figures["requests_by_worker"]
                return bool(merged.get(ids[victim.pid]) and merged.get(ids[leaver.pid]))

            wait_for(both_merged, "the master to merge a report of the workers to stop")
            victim.send_signal(signal.SIGKILL)
            leaver.send_signal(signal.SIGTERM)
            master.wait(timeout=RUN_TIME_LIMIT + GRACE)
            survivor_code = survivor.wait(timeout=GRACE)
            leaver_code = leaver.wait(timeout=GRACE)
        finally:
            for process in (master, *workers):
                if process.poll() is None:
                    process.kill()
                    process.wait()
    master_out = (workdir / "master.out").read_text()
    master_err = (workdir / "master.err").read_text()
    processes = {}
    for path in workdir.glob("process-*.json"):
        processes[int(path.stem.split("-")[1])] = json.loads(path.read_text())
    return {
        "dir": workdir,
        "master_code": master.returncode,
        "master_out": master_out,
        "master_err": master_err,
        "survivor": survivor.pid,
        "survivor_code": survivor_code,
        "victim": victim.pid,
        "victim_id": ids[victim.pid],
        "leaver": leaver.pid,
        "leaver_id": ids[leaver.pid],
        "leaver_code": leaver_code,
        "processes": processes,
        "figures": json.loads((workdir / "figures.json").read_text()),
    }


def reported_values(run: dict[str, Any], pid: int) -> list[list[float]]:
    """The values each report of worker ``pid`` carried, in order (a last line the kill cut
    short is left out: that report was never sent)."""
    lines = (run["dir"] / f"reports-{pid}.jsonl").read_text().split("\n")
    complete, last = lines[:-1], lines[-1]
    assert last == "" or pid == run["victim"], last  # only the killed worker stops mid-line
    return [json.loads(line) for line in complete]


def test_the_master_ends_cleanly_after_a_worker_was_killed(run: dict[str, Any]) -> None:
    assert run["master_code"] == 0, run["master_err"][-3000:]
    assert run["survivor_code"] == 2  # its test_start listener failed on purpose: Locust's 2
    assert run["leaver_code"] == 2


def test_the_quit_table_and_csv_show_the_drops_and_errors_of_every_worker(
    run: dict[str, Any],
) -> None:
    log = run["master_err"]
    table = log[log.index("Listeners, merged from 4 process(es)") :]
    gone = ", ".join(sorted([run["victim_id"], run["leaver_id"]]))
    assert f"2 gone, counted with their last report: {gone}" in table.splitlines()[0]
    (exports,) = [line.split() for line in table.splitlines() if line.startswith("exports ")]
    # pool, submitted, completed, failed, dropped: 5 fired on each worker, room for 1
    assert exports[1:5] == ["15", "3", "0", "12"]
    # The pool's pressure: it drops when full (on_full="drop"), so no user waited, and its
    # listener has no timeout.
    assert table.splitlines()[1].split()[-3:] == ["timed_out", "waited", "time_waited"]
    assert exports[7:10] == ["0", "0", "0.0"]
    assert "listener errors: test_start 3" in table
    with (run["dir"] / "run_listeners.csv").open() as file:
        text = file.read()
    assert f"{run['victim_id']} (gone),test_start,1" in text
    assert "all,test_start,3" in text


def test_merged_totals_are_what_each_worker_reported_counted_once(run: dict[str, Any]) -> None:
    figures = run["figures"]
    survivor_id = run["processes"][run["survivor"]]["client_id"]
    by_worker = figures["requests_by_worker"]
    assert set(by_worker) == {survivor_id, run["victim_id"], run["leaver_id"]}
    # The survivor's every report reached the master, its final one at quit included.
    assert by_worker[survivor_id] == sum(map(len, reported_values(run, run["survivor"])))
    # The killed worker keeps the figures of the reports the master got: a prefix of its reports.
    sent = reported_values(run, run["victim"])
    prefixes = [sum(map(len, sent[:n])) for n in range(1, len(sent) + 1)]
    assert by_worker[run["victim_id"]] in prefixes
    assert by_worker[run["victim_id"]] > 0
    # The stopped worker's last message carried what it recorded after its last report.
    leaver_reports = sum(map(len, reported_values(run, run["leaver"])))
    leaver_rest = len(json.loads((run["dir"] / f"rest-{run['leaver']}.json").read_text()))
    assert by_worker[run["leaver_id"]] == leaver_reports + leaver_rest
    assert figures["requests"] == sum(by_worker.values())
    # Locust's own statistics travel in the same reports: the same count, but for what the
    # stopped worker recorded after its last report, which Locust's statistics lose.
    assert figures["requests"] - leaver_rest == figures["locust_requests"]


def test_a_killed_worker_is_marked_gone_in_the_figures_the_table_and_the_csv(
    run: dict[str, Any],
) -> None:
    gone = sorted([run["victim_id"], run["leaver_id"]])
    assert run["figures"]["gone"] == gone
    # Printed at quit after Locust's own tables, where Locust prints them.
    log = run["master_err"]
    assert log.index("Response time percentiles") < log.index("Custom metrics")
    assert f"2 gone, counted with their last report: {', '.join(gone)}" in log
    with (run["dir"] / "run_custom_metrics.csv").open() as file:
        rows = list(csv.DictReader(file))
    workers = {row["Worker"] for row in rows}
    assert {"all", f"{run['victim_id']} (gone)", f"{run['leaver_id']} (gone)"} <= workers
    total = [r for r in rows if r["Worker"] == "all" and r["Metric"] == "requests"]
    assert {r["Label"] for r in total} == {"/", "/api/data", "(all)"}
    (all_labels,) = [r for r in total if r["Label"] == "(all)"]
    assert float(all_labels["Sum"]) == run["figures"]["requests"]


def test_merged_percentiles_agree_with_every_recorded_value_within_the_stated_error(
    run: dict[str, Any],
) -> None:
    figures = run["figures"]
    victim_count = figures["count_by_worker"][run["victim_id"]]
    victim_reports = reported_values(run, run["victim"])
    values: list[float] = [v for report in reported_values(run, run["survivor"]) for v in report]
    values += [v for report in reported_values(run, run["leaver"]) for v in report]
    values += json.loads((run["dir"] / f"rest-{run['leaver']}.json").read_text())
    for report in victim_reports:  # the reports the master got, by their count
        if victim_count <= 0:
            break
        values.extend(report)
        victim_count -= len(report)
    assert victim_count == 0
    for q, merged in figures["percentiles"].items():
        assert merged == pytest.approx(true_percentile(values, float(q)), rel=0.01)


def test_a_spawned_message_handler_sleeping_costs_no_heartbeat(run: dict[str, Any]) -> None:
    slow = json.loads((run["dir"] / f"slow-{run['survivor']}.json").read_text())
    assert slow["ended"] - slow["started"] >= 10
    # Heartbeats arrive through the same receiving greenlet the handler would block: they
    # kept coming while it slept.
    assert len(slow["heartbeats"]) >= 1
    survivor_id = run["processes"][run["survivor"]]["client_id"]
    assert f"Worker {survivor_id} failed to send heartbeat" not in run["master_err"]


def test_a_message_type_with_a_hook_also_keeps_the_register_message_handler(
    run: dict[str, Any],
) -> None:
    received = read_lines(run["dir"] / f"run_id-{run['survivor']}.jsonl")
    assert sorted(r["handler"] for r in received) == ["hook", "register_message"]
    assert {r["data"] for r in received} == {"run-42"}


def test_a_listener_placed_on_the_workers_is_not_on_the_master(run: dict[str, Any]) -> None:
    placed = {p["role"]: p["record_placed_here"] for p in run["processes"].values()}
    assert placed == {"MasterRunner": False, "WorkerRunner": True}


def test_a_local_run_merges_prints_and_writes_the_same_figures(tmp_path: Path) -> None:
    env = child_environment(RECORD_DIR=str(tmp_path), LOCAL_REQUESTS="30")
    with running_target() as target:
        result = run_locust(
            LOCUSTFILE,
            *headless(target, 2, RUN_TIME_LIMIT, "--csv", str(tmp_path / "run")),
            cwd=tmp_path,
            run_time=RUN_TIME_LIMIT,
            env=env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert figures["workers"] == ["local"]
    assert figures["requests"] == figures["locust_requests"] >= 30
    assert figures["gone"] == []
    assert "Custom metrics" in result.stderr
    assert "Merged from 1 process(es)" in result.stderr
    (process,) = [json.loads(p.read_text()) for p in tmp_path.glob("process-*.json")]
    assert process["record_placed_here"]  # a local run does the workers' job too
    assert (tmp_path / "run_custom_metrics.csv").exists()


PLACEMENT_ERRORS = """
from locust_events.locust import events
from locust_events.distributed import place

def listener(**kwargs):
    pass

for hook, on in ((events.test_start, "everywhere"), (events.init_command_line_parser, "master")):
    try:
        place(hook, on=on)(listener)
    except (TypeError, ValueError) as error:
        print(type(error).__name__, error)
"""


def test_a_placement_that_cannot_hold_is_refused_naming_the_hook_and_the_fix() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PLACEMENT_ERRORS],
        capture_output=True,
        text=True,
        timeout=GRACE,
        check=False,
        env=child_environment(),
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first.startswith("ValueError Cannot place a listener of hook 'test_start' on")
    assert "'master', 'workers', 'both'" in first
    assert second.startswith("TypeError Cannot place a listener of hook 'init_command_line_parser'")
    assert "add it with add_listener" in second


def test_processes_merge_every_forked_worker_the_same_way(tmp_path: Path) -> None:
    # The master quits once a worker answered the slow message (1 s here); nobody is stopped.
    env = child_environment(RECORD_DIR=str(tmp_path), SLOW_SECONDS="1", GONE="0")
    with running_target() as target:
        result = run_locust(
            LOCUSTFILE,
            *processes_on_a_free_port(2),
            *headless(target, USERS, RUN_TIME_LIMIT, "--csv", str(tmp_path / "run")),
            cwd=tmp_path,
            run_time=RUN_TIME_LIMIT,
            env=env,
        )
    figures = json.loads((tmp_path / "figures.json").read_text())
    assert len(figures["workers"]) == 2, result.stderr[-3000:]
    assert figures["gone"] == []
    assert figures["requests"] == figures["locust_requests"] > 0
    assert all(count > 0 for count in figures["requests_by_worker"].values())
    assert "Merged from 2 process(es)" in result.stderr
