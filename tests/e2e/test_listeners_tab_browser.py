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
from typing import Any

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
CALLS = "Calls · errors"
COST = "Users pay µs mean · median · p95 · max"


def open_listeners_tab(
    base: str, screenshot: Path, size: tuple[int, int] = (1280, 900)
) -> dict[str, Any]:
    """Click the Listeners tab in headless Chromium; return the rows it shows, as text, and
    how far right the table reaches against the window's width."""
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
    seen: dict[str, Any] = json.loads(result.stdout)
    assert [title for title in seen["rows"][0] if title != "Worker"][:4] == [
        "Hook",
        "Listener or pool",
        "Kind",
        "Calls · errors",
    ]
    return seen


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where the screenshot goes: ``LISTENERS_TAB_SCREENSHOTS`` (a folder) if set."""
    folder = os.environ.get("LISTENERS_TAB_SCREENSHOTS")
    return Path(folder) / name if folder else tmp_path / name


def by_listener(rows: list[dict[str, str]], worker: str) -> dict[str, dict[str, str]]:
    return {r["Listener or pool"]: r for r in rows if r.get("Worker", "local") == worker}


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
        seen = open_listeners_tab(base, screenshot_path(tmp_path, "listeners-tab.png"))
    # At 1,280 pixels every column is in sight.
    assert seen["table_right"] <= seen["window_width"], seen
    rows = seen["rows"]
    local = by_listener(rows, "local")
    sync, spawned = local[SYNC], local[SPAWNED]
    assert (sync["Hook"], sync["Kind"], sync[CALLS]) == ("request", "sync", f"{TOTAL} · 0")
    assert (spawned["Kind"], spawned[CALLS]) == ("spawned", f"{TOTAL} · 0")
    mean, median, p95, most = (float(v) for v in sync[COST].split(" · "))
    assert 0 < median <= p95 <= most
    assert mean <= most
    assert len(spawned[COST].split(" · ")) == 4  # what its users paid: the enqueue
    assert float(spawned["Queue wait ms mean · max"].split(" · ")[1]) > 0
    # Locust's own listeners are left out, and a last row says so.
    assert not any(name.startswith("locust.") for name in local)
    assert rows[-1]["Listener or pool"].endswith("(in the CSV and the JSON)")
    pool = local[POOL]
    assert pool["Kind"] == "pool"
    assert pool[CALLS] == f"{TOTAL} · 0"  # submitted, failed
    queued, waiting, running, high_water, dropped = pool[
        "Pool: queued · waiting for room · running · high-water · dropped"
    ].split(" · ")
    assert (queued, waiting, running, dropped) == ("0", "0", "0", "0")
    assert int(high_water) >= 1


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
        seen = open_listeners_tab(
            base,
            screenshot_path(tmp_path, "listeners-tab-distributed.png"),
            size=(1280, 1400),  # the summed rows and each worker's
        )
        # A narrower window (or a slow run's longer figures) wraps cells between their
        # figures instead of pushing the table past the window's edge.
        narrow = open_listeners_tab(base, tmp_path / "narrow.png", size=(1152, 1400))
    assert seen["table_right"] <= seen["window_width"], seen  # a Worker column, and it fits
    assert narrow["table_right"] <= narrow["window_width"], narrow
    rows = seen["rows"]
    workers = sorted({r["Worker"] for r in rows} - {"all", "master", ""})  # "": the note
    per_worker = [int(by_listener(rows, worker)[SYNC][CALLS].split(" · ")[0]) for worker in workers]
    assert sum(per_worker) == DISTRIBUTED_TOTAL
    assert all(calls > 0 for calls in per_worker)
    assert by_listener(rows, "all")[POOL][CALLS] == f"{DISTRIBUTED_TOTAL} · 0"
    # Locust's own listeners (the master's worker_report ones among them) are left out.
    assert not any(r["Hook"] == "worker_report" for r in rows)
    assert rows[-1]["Listener or pool"].endswith("(in the CSV and the JSON)")
