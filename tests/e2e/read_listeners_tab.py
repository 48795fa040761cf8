"""Open Locust's web UI in headless Chromium, click the Listeners tab, print its rows as JSON.

Run by the browser test in a child process, so that Selenium (and the urllib3 it imports)
stays out of the test process, where Locust's monkey-patching must come first.

    python tests/e2e/read_listeners_tab.py URL SCREENSHOT WIDTH HEIGHT EXPECTED_LISTENER

Waits (60 s at most) until a row names ``EXPECTED_LISTENER``; saves the screenshot either way.
Prints ``{"rows": [...], "table_right": px, "window_width": px}``: the rows as text, and how
far right the table reaches against the window's width.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: The title of the tab's column that names a listener (or a pool).
LISTENER = "Listener or pool"
#: How far right the tab's table reaches, against the window's width (in CSS pixels).
WIDTHS = """
const table = [...document.querySelectorAll("table")].pop();
return [table.getBoundingClientRect().right, document.documentElement.clientWidth];
"""


def main(url: str, screenshot: str, width: str, height: str, expected: str) -> None:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
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
            f"--window-size={width},{height}",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.get(url)
            wait = WebDriverWait(driver, 60)
            tab = wait.until(
                lambda d: d.find_element(By.XPATH, "//button[@role='tab'][.='Listeners']")
            )
            tab.click()

            def table(d: Any) -> list[dict[str, str]] | bool:
                headers = [th.text for th in d.find_elements(By.CSS_SELECTOR, "table thead th")]
                rows = [
                    dict(
                        zip(
                            headers,
                            [td.text for td in tr.find_elements(By.TAG_NAME, "td")],
                            strict=True,
                        )
                    )
                    for tr in d.find_elements(By.CSS_SELECTOR, "table tbody tr")
                ]
                return rows if any(row.get(LISTENER) == expected for row in rows) else False

            try:
                rows = wait.until(table)
                right, width = driver.execute_script(WIDTHS)
            finally:
                driver.save_screenshot(screenshot)
        finally:
            driver.quit()
    json.dump({"rows": rows, "table_right": right, "window_width": width}, sys.stdout)


if __name__ == "__main__":
    main(*sys.argv[1:])
