"""The Listeners tab as a person sees it: headless Chromium clicks it in Locust's web UI.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``, as root) and Selenium (the test extra). Nothing here downloads a
browser: Selenium is pointed at ``/usr/bin/chromedriver`` and ``/usr/bin/chromium``.
Set ``LISTENERS_TAB_SCREENSHOTS`` to a folder to keep the screenshots there (``docs/``).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .listeners_tab_support import distributed_web_ui_run, listeners, wait_for, web_ui_run
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


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium driven by Selenium, from the system's packages, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp_path)
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1800,1000",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_listeners_tab(
    driver: Any, base: str, shows: Callable[[list[dict[str, str]]], bool], screenshot: Path
) -> list[dict[str, str]]:
    """Click the Listeners tab; wait until its rows ``shows`` what is due; return the rows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/")
    wait = WebDriverWait(driver, 60)
    wait.until(lambda d: d.find_element(By.XPATH, "//button[@role='tab'][.='Listeners']")).click()

    def table(d: Any) -> list[dict[str, str]] | bool:
        headers = [th.text for th in d.find_elements(By.CSS_SELECTOR, "table thead th")]
        rows = [
            dict(zip(headers, [td.text for td in tr.find_elements(By.TAG_NAME, "td")], strict=True))
            for tr in d.find_elements(By.CSS_SELECTOR, "table tbody tr")
        ]
        return rows if rows and shows(rows) else False

    try:
        rows: list[dict[str, str]] = wait.until(table)
    finally:
        driver.save_screenshot(str(screenshot))  # on a timeout too: what the page showed
    assert list(rows[0])[:7] == ["Worker", "Hook", "Listener", "Kind", "Pool", "Calls", "Errors"]
    return rows


def screenshot_path(tmp_path: Path, name: str) -> Path:
    """Where the screenshot goes: ``LISTENERS_TAB_SCREENSHOTS`` (a folder) if set."""
    folder = os.environ.get("LISTENERS_TAB_SCREENSHOTS")
    return Path(folder) / name if folder else tmp_path / name


def by_listener(rows: list[dict[str, str]], worker: str) -> dict[str, dict[str, str]]:
    return {r["Listener"]: r for r in rows if r["Worker"] == worker}


def test_the_listeners_tab_shows_each_listener_and_the_pool(browser: Any, tmp_path: Path) -> None:
    with (
        running_target() as target,
        web_ui_run(target, users=USERS, requests_per_user=REQUESTS_PER_USER, cwd=tmp_path) as base,
    ):
        rows = open_listeners_tab(
            browser,
            base,
            lambda rows: by_listener(rows, "local").get(SPAWNED, {}).get("Calls") == str(TOTAL),
            screenshot_path(tmp_path, "listeners-tab.png"),
        )
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


def test_a_masters_tab_shows_the_sum_and_each_of_two_workers(browser: Any, tmp_path: Path) -> None:
    def summed_and_both_workers(rows: list[dict[str, str]]) -> bool:
        workers = {r["Worker"] for r in rows} - {"all", "master"}
        return len(workers) == 2 and by_listener(rows, "all").get(SYNC, {}).get("Calls") == str(
            DISTRIBUTED_TOTAL
        )

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
            lambda f: any(
                r["worker"] == "all" and r["listener"] == SYNC and r["calls"] == DISTRIBUTED_TOTAL
                for r in f["listeners"]
            ),
            "every worker's calls summed",
        )
        browser.set_window_size(1800, 2200)  # the summed rows and each worker's
        rows = open_listeners_tab(
            browser,
            base,
            summed_and_both_workers,
            screenshot_path(tmp_path, "listeners-tab-distributed.png"),
        )
    workers = sorted({r["Worker"] for r in rows} - {"all", "master"})
    per_worker = [int(by_listener(rows, worker)[SYNC]["Calls"]) for worker in workers]
    assert sum(per_worker) == DISTRIBUTED_TOTAL
    assert all(calls > 0 for calls in per_worker)
    assert by_listener(rows, "all")[POOL]["Calls"] == str(DISTRIBUTED_TOTAL)
    assert any(r["Hook"] == "worker_report" for r in by_listener(rows, "master").values())
