"""``python -m locust_events bench`` prints its table (timings are printed, never asserted).

It runs in a subprocess: its Locust rows import Locust, which monkey-patches the process. The
subprocess starts outside the checkout, so that it imports the installed package (with its
compiled extension), as the test process does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import locust_events


def run_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locust_events", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def test_bench_prints_every_group_and_the_targets(tmp_path: Path) -> None:
    completed = run_command("bench", "--seconds", "0", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    for group in ("1 listener  (baseline:", "10 listeners  (baseline:", "0 listeners  (baseline:"):
        assert group in out
    assert "pure fire" in out
    assert "the project's performance targets (ratio, at most)" in out
    assert "issue" not in out.lower()
    assert "MISSED" not in out
    if locust_events.COMPILED:
        assert "compiled fire" in out
        assert "10,000 compiled fires without listeners: 0 bytes" in out


def test_a_command_is_required(tmp_path: Path) -> None:
    completed = run_command(cwd=tmp_path)
    assert completed.returncode == 2
    assert "COMMAND" in completed.stderr
