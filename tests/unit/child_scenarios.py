"""Scenarios that could hang or crash the interpreter, run in a child process with a time limit.

A regression then fails the test that found it, with the child's output, instead of hanging
or killing the whole run. The child imports ``locust_events`` as the test does: its
environment (``LOCUST_EVENTS_PURE``) is passed on, so it runs the same calling loop.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

#: Seconds a child scenario may take. Each is bounded by counts and by events it controls,
#: far within this; the limit only matters when the code under test hangs.
CHILD_TIME_LIMIT = 60.0


@dataclass(frozen=True)
class ChildRun:
    """How a child scenario ended."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def outcome(self) -> dict[str, Any]:
        """The JSON object the scenario printed on its last line of output."""
        lines = self.stdout.strip().splitlines()
        assert lines, f"the child printed nothing\n{self}"
        result: dict[str, Any] = json.loads(lines[-1])
        return result

    def __str__(self) -> str:
        died = (
            f" (killed by {signal.Signals(-self.returncode).name})" if self.returncode < 0 else ""
        )
        return (
            f"exit status {self.returncode}{died}\n--- stdout ---\n{self.stdout[-4000:]}\n"
            f"--- stderr ---\n{self.stderr[-4000:]}"
        )


def run_child(
    scenario: str,
    *,
    time_limit: float = CHILD_TIME_LIMIT,
    environment: Mapping[str, str | None] | None = None,
) -> ChildRun:
    """Run ``scenario`` (Python source) in a fresh interpreter; fail the test if it hangs.

    ``environment`` changes the child's environment: a variable set to ``None`` is removed.
    """
    env = dict(os.environ)
    for name, value in (environment or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    try:
        result = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(scenario)],
            capture_output=True,
            text=True,
            timeout=time_limit,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as hung:
        output = hung.stdout.decode() if isinstance(hung.stdout, bytes) else (hung.stdout or "")
        errors = hung.stderr.decode() if isinstance(hung.stderr, bytes) else (hung.stderr or "")
        pytest.fail(
            f"the scenario did not end within {time_limit:g} s (hung)\n--- stdout ---\n"
            f"{output[-4000:]}\n--- stderr ---\n{errors[-4000:]}",
            pytrace=False,
        )
    return ChildRun(result.returncode, result.stdout, result.stderr)


def outcome_of(
    scenario: str,
    *,
    time_limit: float = CHILD_TIME_LIMIT,
    environment: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Run ``scenario``, which must exit normally, and return the JSON it printed last."""
    run = run_child(scenario, time_limit=time_limit, environment=environment)
    assert run.returncode == 0, str(run)
    return run.outcome
