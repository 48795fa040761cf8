"""``tests/locust_upstream/run.py`` tells a test that fails on ours only from one that fails on
both, on a stand-in for Locust's test package (Locust's own tests take minutes: tox
``locust-upstream`` runs them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .locust_support import child_environment, needs_locust

pytestmark = needs_locust

RUNNER = Path(__file__).resolve().parents[1] / "locust_upstream" / "run.py"

#: Tests as Locust's are written, importing the installed Locust; which side each passes on.
STAND_IN_TESTS = """
import locust
import locust.env


def ours():
    return type(locust.env.Environment().events).__module__.startswith("locust_events")


def test_passes_on_both():
    assert locust.events.request is not None


def test_fails_on_both():
    raise AssertionError("broken upstream")


def test_passes_on_stock_only():
    assert not ours()


def test_passes_on_ours_only():
    assert ours()
"""


def test_the_runner_fails_on_a_test_that_passes_on_stock_locust_only(tmp_path: Path) -> None:
    tests = tmp_path / "locust" / "test"
    tests.mkdir(parents=True)
    (tests / "__init__.py").write_text("")
    (tests / "testcases.py").write_text("")
    (tests / "test_stand_in.py").write_text(STAND_IN_TESTS)
    result = subprocess.run(
        [sys.executable, str(RUNNER), "--tests", str(tmp_path), "test_stand_in.py"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=child_environment(),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "stock Locust:       2 passed, 2 failed, 0 error, 0 skipped" in output
    assert "on locust_events:   2 passed, 2 failed, 0 error, 0 skipped" in output
    assert "Passes on ours only:\n  test_stand_in.py::test_passes_on_ours_only\n" in output
    assert "FAILS ON OURS ONLY: test_stand_in.py::test_passes_on_stock_only" in output
    assert "test_fails_on_both" not in output.split("stock Locust:")[1]
