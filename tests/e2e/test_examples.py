"""The examples run as a user runs them, and print what they promise."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str, *args: str) -> str:
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return completed.stdout


def test_the_quickstart_counts_every_request() -> None:
    output = run_example("quickstart.py")
    assert "requests fired:     10000" in output
    assert "listener errors:    0" in output


def test_the_embedded_runner_delivers_every_request_to_the_spawned_webhook() -> None:
    output = run_example("embedded_runner.py", "--users", "300", "--requests", "10")
    fired = re.search(r"request events fired:\s+(\d+)", output)
    received = re.search(r"received by the webhook:\s+(\d+)", output)
    assert fired is not None
    assert received is not None
    assert int(fired.group(1)) == int(received.group(1)) == 3_000
    assert "0 failed, 0 dropped" in output


def test_the_embedded_runner_runs_without_psutil_and_says_the_monitor_is_off() -> None:
    # As on a machine without the monitor extra: importing psutil fails.
    hide_psutil = (
        "import runpy, sys; sys.modules['psutil'] = None; "
        f"sys.argv = [{str(EXAMPLES / 'embedded_runner.py')!r}, "
        "'--users', '20', '--requests', '5']; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    completed = subprocess.run(
        [sys.executable, "-c", hide_psutil],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.count("usage monitor off: psutil is not installed") == 1
    assert "(python -m pip install psutil)" in completed.stdout
    assert re.search(r"received by the webhook:\s+100\b", completed.stdout)
