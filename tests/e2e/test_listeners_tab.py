"""The Listeners tab's data without a browser: a real Locust run with its web UI, local and
distributed (a master and two workers), and a headless run that the tab leaves alone."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .listeners_tab_support import (
    LOCUSTFILE,
    distributed_web_ui_run,
    get_text,
    listeners,
    read_csv,
    row,
    wait_for,
    web_ui_run,
)
from .locust_support import (
    child_environment,
    free_port,
    headless,
    needs_locust,
    run_locust,
    running_target,
)

pytestmark = needs_locust

USERS = 4
REQUESTS_PER_USER = 15
TOTAL = USERS * REQUESTS_PER_USER
SYNC = "listeners_tab.count_bytes"
SPAWNED = "listeners_tab.send_to_webhook"
POOL = "Events listener pool"


def all_delivered(figures: dict, worker: str = "local") -> bool:
    rows = [r for r in figures["listeners"] if r["worker"] == worker]
    calls = {r["listener"]: r["calls"] for r in rows}
    return calls.get(SYNC) == TOTAL and calls.get(SPAWNED) == TOTAL


def test_a_local_run_serves_every_listeners_calls_as_json_csv_and_in_the_stats(
    tmp_path: Path,
) -> None:
    with (
        running_target() as target,
        web_ui_run(
            target,
            users=USERS,
            requests_per_user=REQUESTS_PER_USER,
            cwd=tmp_path,
            LOCUST_EVENTS_SAMPLE_EVERY="7",
        ) as base,
    ):
        figures = wait_for(lambda: listeners(base), all_delivered, f"{TOTAL} calls of each")
        assert set(figures) == {"listeners", "pools"}
        sync = row(figures["listeners"], listener=SYNC)
        assert (sync["hook"], sync["kind"], sync["pool"], sync["errors"]) == (
            "request",
            "sync",
            "",
            0,
        )
        assert sync["timed_calls"] == 9  # calls 1, 8, ..., 57 of 60: one in seven
        assert sync["mean_us"] > 0
        assert sync["max_us"] >= sync["mean_us"]
        spawned = row(figures["listeners"], listener=SPAWNED)
        assert (spawned["kind"], spawned["pool"]) == ("spawned", POOL)
        assert spawned["max_wait_ms"] > 0
        # Locust's own request listener is counted too.
        locust_own = [r for r in figures["listeners"] if r["listener_full"].startswith("locust.")]
        assert any(r["hook"] == "request" and r["calls"] == TOTAL for r in locust_own)
        pool = row(figures["pools"], pool=POOL)
        assert (pool["submitted"], pool["completed"], pool["dropped"]) == (TOTAL, TOTAL, 0)
        assert (pool["pending"], pool["running"]) == (0, 0)
        assert pool["high_water"] >= 1

        stats = json.loads(get_text(base + "/stats/requests"))
        (extended,) = [e for e in stats["extended_stats"] if e["key"] == "locust-events-listeners"]
        table = extended["data"]
        assert row(table, listener=SYNC)["calls"] == f"{TOTAL} · 0"  # calls · errors
        assert row(table, kind="pool")["listener"] == POOL

        csv_rows = read_csv(base + "/locust-events/listeners.csv")
        assert csv_rows[0][:6] == ["Worker", "Hook", "Listener", "Kind", "Pool", "Calls"]
        assert ["local", "request", SYNC, "sync", "", str(TOTAL)] in [r[:6] for r in csv_rows]
        page = get_text(base + "/")
        assert "locust-events-listeners" in page
        assert "./locust-events/listeners.csv" in page


def test_a_headless_run_wraps_no_listener(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    env = child_environment(REQUESTS_PER_USER="3", RECORD_FILE=str(record))
    with running_target() as target:
        result = run_locust(LOCUSTFILE, *headless(target, 2, 3), cwd=tmp_path, run_time=3, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(record.read_text()) == {"profiled": False}


@pytest.mark.parametrize("asked", [False, True], ids=["not asked", "LOCUST_EVENTS_PROFILE=1"])
def test_a_web_ui_run_ends_with_the_listener_profile_only_when_profiling_was_asked_for(
    tmp_path: Path, asked: bool
) -> None:
    record = tmp_path / "record.json"
    asking = {"LOCUST_EVENTS_PROFILE": "1"} if asked else {}
    env = child_environment(REQUESTS_PER_USER="3", RECORD_FILE=str(record), **asking)
    web_ui = ("--web-host", "127.0.0.1", "--web-port", str(free_port()), "--autostart")
    with running_target() as target:
        result = run_locust(
            LOCUSTFILE,
            *web_ui,
            *("--autoquit", "0", "--users", "2", "--spawn-rate", "2", "--run-time", "2s"),
            *("--host", target),
            cwd=tmp_path,
            run_time=2,
            env=env,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(record.read_text()) == {"profiled": True}  # the tab was counting
    assert ("Listener profile:" in result.stderr) is asked, result.stderr[-3000:]


def test_the_switch_variable_turns_the_tab_off(tmp_path: Path) -> None:
    with (
        running_target() as target,
        web_ui_run(
            target, users=1, requests_per_user=1, cwd=tmp_path, LOCUST_EVENTS_LISTENERS_TAB="0"
        ) as base,
    ):
        assert "locust-events-listeners" not in get_text(base + "/")


@pytest.fixture(scope="module")
def distributed(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A master and two workers: the figures once all arrived, then after a worker left."""
    workdir = tmp_path_factory.mktemp("listeners_distributed")
    with (
        running_target() as target,
        distributed_web_ui_run(
            target, users=USERS, requests_per_user=REQUESTS_PER_USER, cwd=workdir
        ) as (base, workers),
    ):
        complete = wait_for(
            lambda: listeners(base),
            lambda f: (
                all_delivered(f, "all")
                and len({r["worker"] for r in f["listeners"]} - {"all", "master"}) == 2
            ),
            f"{TOTAL} calls summed over two workers",
        )
        leaving = workers[0]
        leaving.terminate()
        leaving.wait(timeout=60)
        after = wait_for(
            lambda: listeners(base),
            lambda f: any(r["worker"].endswith(" (gone)") for r in f["listeners"]),
            "a worker marked gone",
        )
        page = get_text(base + "/")
    return {"complete": complete, "after": after, "page": page}


def test_the_master_sums_both_workers_and_shows_each(distributed: dict) -> None:
    figures = distributed["complete"]
    workers = {r["worker"] for r in figures["listeners"]} - {"all", "master"}
    assert len(workers) == 2
    per_worker = [
        r for r in figures["listeners"] if r["listener"] == SYNC and r["worker"] in workers
    ]
    assert sum(r["calls"] for r in per_worker) == TOTAL
    assert all(r["calls"] > 0 for r in per_worker)
    total = row(figures["listeners"], listener=SYNC, worker="all")
    assert total["timed_calls"] == sum(r["timed_calls"] for r in per_worker)
    pool = row(figures["pools"], pool=POOL, worker="all")
    assert pool["submitted"] == TOTAL
    assert {r["worker"] for r in figures["pools"] if r["pool"] == POOL} >= {"all", *workers}
    # The master's own listeners are there too (it receives the workers' reports).
    assert any(
        r["worker"] == "master" and r["hook"] == "worker_report" for r in figures["listeners"]
    )
    assert "locust-events-listeners" in distributed["page"]


def test_a_worker_that_left_keeps_its_last_figures_marked_gone(distributed: dict) -> None:
    before = {
        r["worker"]: r["calls"]
        for r in distributed["complete"]["listeners"]
        if r["listener"] == SYNC and r["worker"] not in ("all", "master")
    }
    after = {
        r["worker"]: r["calls"]
        for r in distributed["after"]["listeners"]
        if r["listener"] == SYNC and r["worker"] not in ("all", "master")
    }
    gone = [worker for worker in after if worker.endswith(" (gone)")]
    assert len(gone) == 1
    assert after[gone[0]] == before[gone[0].removesuffix(" (gone)")]
    assert row(distributed["after"]["listeners"], listener=SYNC, worker="all")["calls"] == TOTAL


#: Reads the tab's row of a batch listener that empties each batch it gets (in a child:
#: importing the tab imports Locust, which monkey-patches the process that imports it).
_EMPTYING_BATCH_LISTENER = """
import json
from locust_events import Events, ListenerPool
from locust_events.webui import ListenersTab

registry = Events()
pool = ListenerPool(size=1, maxsize=100, name="batch pool")
consumed = []

def consume(batch):
    while batch:  # a listener may empty its batch: the list is its own
        consumed.append(batch.pop())

registry.request.add_batch_listener(consume, max_size=5, pool=pool)
with registry.profiling():
    for n in range(12):
        registry.request.fire(n=n)
    assert pool.join(timeout=30)
    rows = ListenersTab(registry, environment=None).figures()["listeners"]
(row,) = [r for r in rows if r["hook"] == "request"]
print(json.dumps({"consumed": len(consumed), "row": [row["kind"], row["calls"], row["events"]]}))
"""


@needs_locust
def test_a_batch_listener_that_empties_its_batch_keeps_its_events_in_the_tab() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", _EMPTYING_BATCH_LISTENER],
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome == {"consumed": 12, "row": ["batch", 3, 12]}
