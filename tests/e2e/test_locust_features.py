"""Locust's own features and locust-plugins keep working with the switch, as on stock Locust.

Each feature runs real Locust twice in child processes against the local target: on Locust's
own events (``STOCK_EVENTS=1``) and with ``from locust_events.locust import events``; the
results must match. Runs are bounded by request counts (see ``locustfiles/features.py``).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import subprocess
import sys
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from .locust_support import (
    GRACE,
    LOCUSTFILES,
    child_environment,
    free_port,
    get_json,
    locust_command,
    locusts_default_port_taken,
    processes_on_a_free_port,
    run_locust,
    running_target,
)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="needs the locust extra"
)

FEATURES = LOCUSTFILES / "features.py"
PLUGINS = LOCUSTFILES / "plugins.py"
#: Seconds a bounded run may take at most: the request count ends it long before.
RUN_TIME_LIMIT = 60
SIDES = {"stock": "1", "ours": "0"}


def results(directory: Path) -> list[dict[str, Any]]:
    """What each process's listeners saw, master first."""
    found = [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]
    return sorted(found, key=lambda seen: seen["role"] != "master")


def headless_bounded(host: str, *more: str, users: int = 2) -> list[str]:
    return [
        "--headless",
        *("--host", host, "--users", str(users), "--spawn-rate", str(users)),
        *("--run-time", f"{RUN_TIME_LIMIT}s", "--stop-timeout", "2"),
        *more,
    ]


@pytest.fixture(scope="module")
def target() -> Any:
    with running_target(fail_every=0) as url:
        yield url


def run_side(side: str, tmp_path: Path, *args: str, **extra: str) -> tuple[Any, list[Any]]:
    directory = tmp_path / side
    directory.mkdir()
    env = child_environment(STOCK_EVENTS=SIDES[side], RESULT_DIR=str(directory), **extra)
    completed = run_locust(FEATURES, *args, cwd=directory, run_time=RUN_TIME_LIMIT, env=env)
    return completed, results(directory)


def test_a_headless_run_with_opentelemetry_console_exporters(target: str, tmp_path: Path) -> None:
    if importlib.util.find_spec("opentelemetry") is None:  # only looked for: see below
        pytest.skip("needs the OpenTelemetry SDK")
    otel = {
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "console",
        "OTEL_LOGS_EXPORTER": "none",
    }
    outcomes = {}
    for side in SIDES:
        completed, seen = run_side(side, tmp_path, *headless_bounded(target, "--otel"), **otel)
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert "OpenTelemetry enabled" in completed.stderr
        (local,) = seen
        outcomes[side] = {
            "requests": local["requests"],
            "failures": local["failures"],
            "quit": local["quit"],
            # Spans of the requests ("GET" or "GET /api/data", by Locust's version), and a
            # duration histogram (Locust's own, or the requests instrumentation's).
            "request spans": completed.stdout.count('"name": "GET'),
            "duration metric": re.search(r'"name": "[\w.]*duration"', completed.stdout) is not None,
        }
    assert outcomes["ours"] == outcomes["stock"]
    assert outcomes["ours"]["request spans"] == outcomes["ours"]["requests"] == 20
    assert outcomes["ours"]["duration metric"]


def test_two_processes_share_the_load(target: str, tmp_path: Path) -> None:
    outcomes = {}
    for side in SIDES:
        # On a free loopback port: Locust's default one may be another run's.
        with locusts_default_port_taken():
            completed, seen = run_side(
                side, tmp_path, *headless_bounded(target, *processes_on_a_free_port(2))
            )
        assert completed.returncode == 0, completed.stderr[-3000:]
        master, *workers = seen
        outcomes[side] = {
            "roles": [entry["role"] for entry in seen],
            "every worker requested": all(worker["requests"] > 0 for worker in workers),
            "together at least": sum(worker["requests"] for worker in workers) >= 20,
            "master requests": master["requests"],
            "quit": [entry["quit"] for entry in seen],
        }
    assert outcomes["ours"] == outcomes["stock"]
    assert outcomes["ours"]["roles"] == ["master", "worker", "worker"]


def test_run_single_user_runs_the_user_and_its_listeners(target: str, tmp_path: Path) -> None:
    outcomes = {}
    for side in SIDES:
        directory = tmp_path / side
        directory.mkdir()
        completed = subprocess.run(
            [sys.executable, str(FEATURES), "--host", target],
            cwd=directory,
            env=child_environment(STOCK_EVENTS=SIDES[side], RESULT_DIR=str(directory)),
            capture_output=True,
            text=True,
            timeout=RUN_TIME_LIMIT + GRACE,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        (seen,) = results(directory)
        printed = [line for line in completed.stdout.splitlines() if "/api/data" in line]
        outcomes[side] = (seen["requests"], len(printed), seen["failures"])
    assert outcomes["ours"] == outcomes["stock"] == (20, 20, 0)


def test_the_web_ui_serves_its_page_and_the_request_statistics(target: str, tmp_path: Path) -> None:
    outcomes = {}
    for side in SIDES:
        directory = tmp_path / side
        directory.mkdir()
        port = free_port()
        process = subprocess.Popen(
            locust_command(
                FEATURES,
                *("--web-host", "127.0.0.1", "--web-port", str(port), "--autostart"),
                *("--host", target, "--users", "2", "--spawn-rate", "2"),
            ),
            cwd=directory,
            env=child_environment(STOCK_EVENTS=SIDES[side], RESULT_DIR=str(directory)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            statistics = wait_for_requests(f"{base}/stats/requests", process, at_least=20)
            with urllib.request.urlopen(f"{base}/", timeout=10) as response:
                page = response.read().decode()
                status = response.status
        finally:
            process.terminate()
            _, log = process.communicate(timeout=GRACE)
        total = next(row for row in statistics["stats"] if row["name"] == "Aggregated")
        # Ours adds the Listeners tab's rows, under Locust's documented extension key.
        tab_rows = statistics.pop("extended_stats", None)
        assert (tab_rows is not None) == (side == "ours")
        outcomes[side] = {
            "page": (status, "<html" in page.lower()),
            "keys": sorted(statistics),
            "row keys": sorted(total),
            "requests": total["num_requests"],
            "failures": total["num_failures"],
        }
        assert "Traceback" not in log, log[-3000:]
    assert outcomes["ours"] == outcomes["stock"]
    assert outcomes["ours"]["requests"] == 20


def wait_for_requests(url: str, process: subprocess.Popen[str], at_least: int) -> Any:
    """Poll Locust's request statistics until they count ``at_least`` requests (the users
    stop themselves there); fail if the process ends or nothing comes within the limit."""
    deadline = time.monotonic() + RUN_TIME_LIMIT
    while time.monotonic() < deadline:
        assert process.poll() is None, "Locust exited before serving its statistics"
        try:
            statistics = get_json(url)
        except (urllib.error.URLError, ConnectionError):
            statistics = None
        if statistics is not None and statistics.get("user_count", 1) == 0:
            total = next(row for row in statistics["stats"] if row["name"] == "Aggregated")
            if total["num_requests"] >= at_least:
                return statistics
        time.sleep(0.2)
    raise AssertionError(f"{url} never counted {at_least} requests with all users stopped")


def test_locust_plugins_jmeter_listener_and_its_exit_code_check(
    tmp_path: Path,
) -> None:
    # Only looked for: importing locust-plugins imports Locust, which would monkey-patch the
    # test process.
    if importlib.util.find_spec("locust_plugins") is None:
        pytest.skip("needs locust-plugins")
    outcomes = {}
    with running_target(fail_every=5) as failing_target:
        for side in SIDES:
            directory = tmp_path / side
            directory.mkdir()
            env = child_environment(
                STOCK_EVENTS=SIDES[side],
                RESULT_FILE=str(directory / "seen.json"),
                JMETER_FILE=str(directory / "results.csv"),
            )
            completed = run_locust(
                PLUGINS,
                # One user: the plugin quits the runner when its iterations are done only
                # if it sees one user left, which two users stopping at once can both miss
                # (the run then lasts until the time limit).
                *headless_bounded(
                    failing_target, "-i", "20", "--check-fail-ratio", "0.01", users=1
                ),
                cwd=directory,
                run_time=RUN_TIME_LIMIT,
                env=env,
            )
            with (directory / "results.csv").open(newline="") as file:
                rows = list(csv.DictReader(file))
            seen = json.loads((directory / "seen.json").read_text())
            outcomes[side] = {
                "exit code": completed.returncode,
                "quit": seen["quit"],
                "rows": len(rows),
                "failed rows": sum(row["success"] == "false" for row in rows),
                "columns": sorted(rows[0]),
            }
            if side == "ours":
                # The plugin sets exit code 3 in its quitting listener, called after ours:
                # ours gets the code as known then (1: requests failed), quit the final one.
                assert seen["quitting"] == 1
    assert outcomes["ours"] == outcomes["stock"]
    assert outcomes["ours"]["exit code"] == 3
    assert outcomes["ours"]["rows"] == 20
