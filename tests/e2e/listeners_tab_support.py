"""Real Locust runs with the web UI on 127.0.0.1, for the Listeners tab's tests.

Each run makes a fixed number of requests (every user stops after ``REQUESTS_PER_USER``);
the tests wait for those counts to show, never for a stretch of time.
"""

from __future__ import annotations

import csv
import io
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from .locust_support import (
    GRACE,
    LOCUSTFILES,
    child_environment,
    free_port,
    get_json,
    locust_command,
    start_workers,
)

LOCUSTFILE = LOCUSTFILES / "listeners_tab.py"
#: The longest the tests wait for a count to arrive before failing with what they saw.
PATIENCE = 90.0

T = TypeVar("T")


def wait_for(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Read until ``done`` holds of what was read; fail naming ``what`` and the last reading."""
    deadline = time.monotonic() + PATIENCE
    seen: Any = None
    while time.monotonic() < deadline:
        try:
            seen = read()
        except (OSError, urllib.error.URLError) as error:
            seen = error
        else:
            if done(seen):
                return seen
        time.sleep(0.2)
    raise AssertionError(f"never saw {what}; last saw {seen!r}")


def get_text(url: str) -> str:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


def read_csv(url: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(get_text(url))))


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM (Locust's graceful shutdown), then a kill if it is still there after GRACE."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def row(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    """The one row whose fields have the given values."""
    found = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, rows)
    return found[0]


@contextmanager
def web_ui_run(
    host: str, *, users: int, requests_per_user: int, cwd: Path, **env: str
) -> Iterator[str]:
    """Locust with its web UI on 127.0.0.1, started at once; yields the UI's base URL."""
    port = free_port()
    process = subprocess.Popen(
        locust_command(
            LOCUSTFILE,
            *("--web-host", "127.0.0.1", "--web-port", str(port), "--autostart"),
            *("--users", str(users), "--spawn-rate", str(users), "--host", host),
        ),
        cwd=cwd,
        env=child_environment(REQUESTS_PER_USER=str(requests_per_user), **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get_text(base + "/"), bool, "Locust's web UI")
        yield base
    finally:
        stop(process)


@contextmanager
def distributed_web_ui_run(
    host: str, *, users: int, requests_per_user: int, cwd: Path
) -> Iterator[tuple[str, list[subprocess.Popen[Any]]]]:
    """A master with its web UI and two workers; yields the UI's URL and the workers."""
    web_port, master_port = free_port(), free_port()
    env = child_environment(REQUESTS_PER_USER=str(requests_per_user))
    master = subprocess.Popen(
        locust_command(
            LOCUSTFILE,
            *("--master", "--master-bind-host", "127.0.0.1"),
            *("--master-bind-port", str(master_port), "--expect-workers", "2"),
            *("--web-host", "127.0.0.1", "--web-port", str(web_port), "--autostart"),
            *("--users", str(users), "--spawn-rate", str(users), "--host", host),
        ),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers = start_workers(LOCUSTFILE, str(master_port), cwd=cwd, env=env)
    base = f"http://127.0.0.1:{web_port}"
    try:
        wait_for(lambda: get_text(base + "/"), bool, "the master's web UI")
        yield base, workers
    finally:
        for process in (*workers, master):
            stop(process)


def listeners(base: str) -> dict[str, Any]:
    result: dict[str, Any] = get_json(base + "/locust-events/listeners")
    return result
