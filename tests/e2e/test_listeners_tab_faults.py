"""The Listeners tab under the faults found by injecting them: a worker on another version,
a login without a secret key, a base path with a trailing slash; and "Reset Stats" and the
tab's Locust options. Each drives Locust's own web UI app (``listeners_tab_app.py``, in a
child process) through Flask's test client."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .locust_support import child_environment, free_port, headless, needs_locust, run_locust

pytestmark = needs_locust

APP = Path(__file__).resolve().parent / "listeners_tab_app.py"


def run_app(tmp_path: Path, scenario: str, *arguments: str, **env: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, str(APP), scenario, *arguments],
        cwd=tmp_path,
        env=child_environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_a_worker_report_lacking_fields_leaves_the_masters_statistics_answering(
    tmp_path: Path,
) -> None:
    result = run_app(tmp_path, "worker_lacking_fields", str(free_port()))
    assert result == {"stats": 200, "listeners": 200, "calls": [5]}


def test_a_login_without_secret_key_gets_locusts_own_message_not_a_bare_error(
    tmp_path: Path,
) -> None:
    result = run_app(tmp_path, "login_without_secret_key", "--web-login")
    assert result["status"] == 200
    assert result["text"].startswith("Locust auth exception:")
    assert "secret key" in result["text"]
    # The tab's own pages need the same login: Locust answers them with the same message.
    assert result["listeners"].startswith("Locust auth exception:")


def test_a_base_path_with_a_trailing_slash_fills_the_tab_and_serves_its_files(
    tmp_path: Path,
) -> None:
    result = run_app(tmp_path, "base_path", "--web-base-path", "/locust/")
    assert result == {"shown": ["__main__.on_request"], "json": 200, "csv": 200}


def test_reset_stats_starts_the_tabs_figures_afresh(tmp_path: Path) -> None:
    result = run_app(tmp_path, "reset_stats")
    assert result == {"before": 4, "reset": 200, "after": 0, "then": 2}


def test_after_reset_stats_a_master_keeps_only_reports_counted_since(tmp_path: Path) -> None:
    result = run_app(tmp_path, "master_reset", str(free_port()))
    assert result == {"stale": [], "fresh": [1]}


def test_a_worker_resets_when_its_master_says_and_reports_so(tmp_path: Path) -> None:
    result = run_app(tmp_path, "worker_reset", str(free_port()))
    assert result == {"resets": 1, "calls": 1}


def test_the_tabs_settings_are_locust_options(tmp_path: Path) -> None:
    given = run_app(
        tmp_path, "options", "--listeners-sample-every", "7", "--listeners-drain-timeout", "2.5"
    )
    assert given == {
        "tab": None,
        "sample_every": 7,
        "drain_timeout": 2.5,
        "profiling_every": 7,
        "tab_shown": True,
    }
    (tmp_path / "locust.conf").write_text("listeners-sample-every = 9\nlisteners-tab = off\n")
    from_file = run_app(tmp_path, "options")
    assert (from_file["sample_every"], from_file["tab"], from_file["tab_shown"]) == (
        9,
        False,
        False,
    )
    (tmp_path / "locust.conf").unlink()
    from_variables = run_app(
        tmp_path,
        "options",
        LOCUST_EVENTS_SAMPLE_EVERY="3",
        LOCUST_EVENTS_DRAIN_TIMEOUT="1",
    )
    assert (from_variables["sample_every"], from_variables["drain_timeout"]) == (3, 1.0)
    assert from_variables["profiling_every"] == 3


def test_a_bad_option_value_is_refused_naming_the_option_and_the_fix(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, str(APP), "options", "--listeners-sample-every", "0"],
        cwd=tmp_path,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "--listeners-sample-every" in completed.stderr
    assert "give a whole number, at least 1" in completed.stderr


#: A locustfile whose only user queues one call that never finishes, then stops.
_STUCK_LOCUSTFILE = """
import gevent.event
from locust import User, constant, task
from locust.exception import StopUser

from locust_events.locust import events

never = gevent.event.Event()
stuck = events.add_hook("stuck", "n")
stuck.add_listener(lambda n: never.wait(), spawn=True)


class Once(User):
    wait_time = constant(1)

    @task
    def queue_one(self):
        stuck.fire(n=1)
        raise StopUser
"""


def test_the_drain_timeout_option_bounds_the_drain_at_quit(tmp_path: Path) -> None:
    locustfile = tmp_path / "stuck.py"
    locustfile.write_text(_STUCK_LOCUSTFILE)
    given = headless("http://127.0.0.1:9", 1, 2, "--listeners-drain-timeout", "0.5")
    result = run_locust(locustfile, *given, cwd=tmp_path, run_time=2)
    assert "Spawned listeners not delivered after 0.5 s: 1 call(s)" in result.stderr, result.stderr[
        -3000:
    ]
