"""The Listeners tab as a person sees it: headless Chromium clicks it in Locust's web UI.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``, as root) and Selenium (the test extra). Nothing here downloads a
browser: Selenium is pointed at ``/usr/bin/chromedriver`` and ``/usr/bin/chromium``. Selenium
runs in a child process (``read_listeners_tab.py``), out of this one.
Set ``LISTENERS_TAB_SCREENSHOTS`` to a folder to keep the screenshots there (``docs/``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .listeners_tab_support import distributed_web_ui_run, listeners, row, wait_for, web_ui_run
from .locust_support import needs_locust, running_target

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    needs_locust,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists())
        or importlib.util.find_spec("selenium") is None,
        reason=(
            "needs Debian's Chromium and its driver: as root, `apt-get install -y chromium "
            "chromium-driver` (bash .ci/run does it under CI=true), and selenium (the test extra)"
        ),
    ),
]

USERS = 2
REQUESTS_PER_USER = 10
TOTAL = USERS * REQUESTS_PER_USER
DISTRIBUTED_USERS = 4
DISTRIBUTED_TOTAL = DISTRIBUTED_USERS * REQUESTS_PER_USER
SYNC = "listeners_tab.count_bytes"
SPAWNED = "listeners_tab.send_to_webhook"
POOL = "Events listener pool"


def open_listeners_tab(
    base: str, screenshot: Path, size: tuple[int, int] = (1800, 1000)
) -> list[dict[str, str]]:
    """Click the Listeners tab in headless Chromium; return the rows it shows, as text."""
    result = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("read_listeners_tab.py")),
            base + "/",
            str(screenshot),
            *map(str, size),
            SYNC,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows: list[dict[str, str]] = json.loads(result.stdout)
    assert list(rows[0])[:7] == ["Worker", "Hook", "Listener", "Kind", "Pool", "Calls", "Errors"]
    return rows


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where the screenshot goes: ``LISTENERS_TAB_SCREENSHOTS`` (a folder) if set."""
    folder = os.environ.get("LISTENERS_TAB_SCREENSHOTS")
    return Path(folder) / name if folder else tmp_path / name


def by_listener(rows: list[dict[str, str]], worker: str) -> dict[str, dict[str, str]]:
    return {r["Listener"]: r for r in rows if r["Worker"] == worker}


def test_the_listeners_tab_shows_each_listener_and_the_pool(tmp_path: Path) -> None:
    with (
        running_target() as target,
        web_ui_run(target, users=USERS, requests_per_user=REQUESTS_PER_USER, cwd=tmp_path) as base,
    ):
        # Once every call was delivered, what the page shows is final.
        wait_for(
            lambda: listeners(base),
            lambda f: all(
                row(f["listeners"], listener=name)["calls"] == TOTAL for name in (SYNC, SPAWNED)
            ),
            f"{TOTAL} calls of each listener",
        )
        rows = open_listeners_tab(base, screenshot_path(tmp_path, "listeners-tab.png"))
    local = by_listener(rows, "local")
    sync, spawned = local[SYNC], local[SPAWNED]
    assert (sync["Hook"], sync["Kind"], sync["Calls"]) == ("request", "sync", str(TOTAL))
    assert (spawned["Kind"], spawned["Pool"], spawned["Calls"]) == ("spawned", POOL, str(TOTAL))
    assert float(spawned["Max queue wait ms"]) > 0
    assert int(local["locust.runners.Runner.on_request"]["Calls"]) == TOTAL
    pool = local[POOL]
    assert pool["Kind"] == "pool"
    assert pool["Calls"] == str(TOTAL)  # submitted
    assert (pool["Queued now"], pool["Running"], pool["Dropped"]) == ("0", "0", "0")
    assert int(pool["High-water"]) >= 1


def test_a_masters_tab_shows_the_sum_and_each_of_two_workers(tmp_path: Path) -> None:
    with (
        running_target() as target,
        distributed_web_ui_run(
            target, users=DISTRIBUTED_USERS, requests_per_user=REQUESTS_PER_USER, cwd=tmp_path
        ) as (base, _),
    ):
        # Open the page once every report is in: a master whose workers' users all stopped
        # may stop the run, and Locust's page then no longer polls for fresh rows.
        wait_for(
            lambda: listeners(base),
            lambda f: (
                (
                    row(f["listeners"], listener=SYNC, worker="all")["calls"] == DISTRIBUTED_TOTAL
                    if any(r["worker"] == "all" for r in f["listeners"])
                    else False
                )
                and len({r["worker"] for r in f["listeners"]} - {"all", "master"}) == 2
            ),
            "both workers' calls summed",
        )
        rows = open_listeners_tab(
            base,
            screenshot_path(tmp_path, "listeners-tab-distributed.png"),
            size=(1800, 2200),  # the summed rows and each worker's
        )
    workers = sorted({r["Worker"] for r in rows} - {"all", "master"})
    per_worker = [int(by_listener(rows, worker)[SYNC]["Calls"]) for worker in workers]
    assert sum(per_worker) == DISTRIBUTED_TOTAL
    assert all(calls > 0 for calls in per_worker)
    assert by_listener(rows, "all")[POOL]["Calls"] == str(DISTRIBUTED_TOTAL)
    assert any(r["Hook"] == "worker_report" for r in by_listener(rows, "master").values())
