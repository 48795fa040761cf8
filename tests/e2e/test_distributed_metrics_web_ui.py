"""The Custom metrics tab of Locust's web UI, without a browser: its JSON, its rows in
``/stats/requests``, its CSV download and its place in the page, in a real local run."""

from __future__ import annotations

import csv
import json
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .listeners_tab_support import get_text, read_csv, stop, wait_for
from .locust_support import (
    LOCUSTFILES,
    child_environment,
    free_port,
    get_json,
    headless,
    locust_command,
    needs_locust,
    run_locust,
    running_target,
)

pytestmark = needs_locust

USERS, REQUESTS_PER_USER = 2, 15
TOTAL = USERS * REQUESTS_PER_USER


def rows(base: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = get_json(base + "/locust-events/metrics")["rows"]
    return result


def counted(table: list[dict[str, Any]]) -> int:
    (total,) = [
        r["sum"]
        for r in table
        if (r["worker"], r["metric"], r["label"]) == ("all", "requests", "/")
    ] or [0]
    return int(total)


def post(url: str, form: dict[str, str]) -> None:
    assert url.startswith("http://127.0.0.1:")
    body = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(url, data=body, timeout=10) as response:
        response.read()


def locust_requests(base: str) -> int:
    stats = json.loads(get_text(base + "/stats/requests"))
    (total,) = [s for s in stats["stats"] if s["name"] == "Aggregated"]
    return int(total["num_requests"])


def test_a_web_ui_run_shows_the_merged_metrics_in_a_tab_json_and_csv(tmp_path: Path) -> None:
    port = free_port()
    with running_target() as target:
        process = subprocess.Popen(
            locust_command(
                LOCUSTFILES / "metrics_web_ui.py",
                *("--web-host", "127.0.0.1", "--web-port", str(port), "--autostart"),
                *("--users", str(USERS), "--spawn-rate", str(USERS), "--host", target),
            ),
            cwd=tmp_path,
            env=child_environment(REQUESTS_PER_USER=str(REQUESTS_PER_USER)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            table = wait_for(lambda: rows(base), lambda t: counted(t) == TOTAL, f"{TOTAL} counted")
            (latency,) = [r for r in table if (r["worker"], r["metric"]) == ("all", "response_ms")]
            assert (latency["worker"], latency["count"], latency["kind"]) == (
                "all",
                TOTAL,
                "histogram",
            )
            assert latency["min"] <= latency["p50"] <= latency["p99"] <= latency["max"]
            stats = json.loads(get_text(base + "/stats/requests"))
            (extended,) = [
                e for e in stats["extended_stats"] if e["key"] == "locust-events-metrics"
            ]
            assert counted(extended["data"]) == TOTAL
            csv_rows = read_csv(base + "/locust-events/metrics.csv")
            assert csv_rows[0][:5] == ["Worker", "Metric", "Label", "Kind", "Count"]
            assert ["all", "requests", "/", "counter", str(TOTAL)] in [r[:5] for r in csv_rows]
            # A message hook's listener is in the Listeners tab like any listener.
            listeners = get_json(base + "/locust-events/listeners")["listeners"]
            (ping,) = [r for r in listeners if r["hook"] == "message_ping"]
            assert (ping["listener"], ping["calls"], ping["errors"]) == (
                "metrics_web_ui.on_ping",
                1,
                0,
            )
            page = get_text(base + "/")
            assert "locust-events-metrics" in page
            assert "./locust-events/metrics.csv" in page

            # A new test counts from zero, as Locust's own statistics do.
            # One user this time: REQUESTS_PER_USER requests (without a reset, TOTAL more).
            post(base + "/stop", {})
            post(base + "/swarm", {"user_count": "1", "spawn_rate": "1"})
            wait_for(lambda: locust_requests(base), lambda n: n == REQUESTS_PER_USER, "test 2")
            wait_for(lambda: rows(base), lambda t: counted(t) == REQUESTS_PER_USER, "a reset")
        finally:
            stop(process)


def test_a_headless_run_with_profiling_lists_each_listeners_calls_at_quit(tmp_path: Path) -> None:
    env = child_environment(REQUESTS_PER_USER="5", LOCUST_EVENTS_PROFILE="1")
    with running_target() as target:
        result = run_locust(
            LOCUSTFILES / "metrics_web_ui.py",
            *headless(target, USERS, 3, "--csv", str(tmp_path / "run")),
            cwd=tmp_path,
            run_time=3,
            env=env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stderr
    table = log[log.index("Listeners, merged from 1 process(es)") :].split("\n\n")[0]
    (line,) = [line for line in table.splitlines() if "metrics_web_ui.record" in line]
    calls = int(line.split("calls")[1].split()[0])
    # The same requests the custom metrics counted, whatever the machine made of 3 seconds.
    (counted_row,) = [
        row
        for row in csv_dicts(tmp_path / "run_custom_metrics.csv")
        if (row["Worker"], row["Metric"], row["Label"]) == ("all", "requests", "/")
    ]
    assert calls == int(counted_row["Sum"]) > 0
    assert "metrics_web_ui.record" in (tmp_path / "run_listeners.csv").read_text()


def csv_dicts(path: Path) -> list[dict[str, str]]:
    with path.open() as file:
        return list(csv.DictReader(file))
