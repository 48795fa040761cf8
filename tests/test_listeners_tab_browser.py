"""The Listeners tab as a person sees it: headless Chromium clicks it in Locust's web UI.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``, as root) and Selenium (the test extra). Nothing here downloads a
browser: Selenium is pointed at ``/usr/bin/chromedriver`` and ``/usr/bin/chromium``.
Set ``LISTENERS_TAB_SCREENSHOT`` to a path to keep the screenshot there.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import pytest

from .listeners_tab_support import listeners, wait_for, web_ui_run
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
SYNC = "listeners_tab.count_bytes"
SPAWNED = "listeners_tab.send_to_webhook"
POOL = "Events listener pool"


def test_the_listeners_tab_shows_each_listener_and_the_pool(tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

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

    with (
        running_target() as target,
        web_ui_run(target, users=USERS, requests_per_user=REQUESTS_PER_USER, cwd=tmp_path) as base,
    ):
        wait_for(
            lambda: listeners(base),
            lambda f: {r["listener"]: r["calls"] for r in f["listeners"]}.get(SPAWNED) == TOTAL,
            f"{TOTAL} spawned calls delivered",
        )
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        try:
            driver.get(base + "/")
            wait = WebDriverWait(driver, 60)
            tab = wait.until(
                lambda d: d.find_element(By.XPATH, "//button[@role='tab'][.='Listeners']")
            )
            tab.click()

            def table_rows(d: object) -> list[list[str]] | bool:
                rows = [
                    [cell.text for cell in tr.find_elements(By.TAG_NAME, "td")]
                    for tr in driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
                ]
                return rows if any(SPAWNED in r for r in rows) else False

            rows = wait.until(table_rows)
            headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table thead th")]
            screenshot = os.environ.get("LISTENERS_TAB_SCREENSHOT")
            driver.save_screenshot(screenshot or str(tmp_path / "listeners-tab.png"))
        finally:
            driver.quit()

    assert headers[:7] == ["Worker", "Hook", "Listener", "Kind", "Pool", "Calls", "Errors"]
    by_listener = {r[headers.index("Listener")]: dict(zip(headers, r, strict=True)) for r in rows}
    sync, spawned = by_listener[SYNC], by_listener[SPAWNED]
    assert (sync["Hook"], sync["Kind"], sync["Calls"]) == ("request", "sync", str(TOTAL))
    assert (spawned["Kind"], spawned["Pool"], spawned["Calls"]) == ("spawned", POOL, str(TOTAL))
    assert float(spawned["Max queue wait ms"]) > 0
    pool = by_listener[POOL]
    assert pool["Kind"] == "pool"
    assert pool["Calls"] == str(TOTAL)  # submitted
    assert (pool["Queued now"], pool["Running"], pool["Dropped"]) == ("0", "0", "0")
    assert int(pool["High-water"]) >= 1
