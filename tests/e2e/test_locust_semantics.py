"""Locust's semantics on our dispatcher, in real Locust runs: control flow, errors, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .locust_support import (
    LOCUSTFILES,
    child_environment,
    headless,
    needs_locust,
    run_locust,
    running_target,
)

pytestmark = needs_locust

#: Each run ends once its listeners saw this many requests (the locustfile quits then).
REQUESTS = 10
#: Only a guard: a run that never gets to REQUESTS stops after this many seconds.
RUN_TIME_LIMIT = 60


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with running_target() as url:
        yield url


def run(target: str, workdir: Path, **env: str) -> tuple[int, dict[str, Any], str]:
    """Run the semantics locustfile; return the exit code, its outcome and Locust's log."""
    result = run_locust(
        LOCUSTFILES / "semantics.py",
        *headless(target, 3, RUN_TIME_LIMIT),
        cwd=workdir,
        run_time=RUN_TIME_LIMIT,
        env=child_environment(STOP_AFTER_REQUESTS=str(REQUESTS), **env),
    )
    outcome_file = workdir / "outcome.json"
    outcome = json.loads(outcome_file.read_text()) if outcome_file.exists() else {}
    return result.returncode, outcome, result.stderr


def test_request_listener_raising_reschedule_task_reschedules(target: str, tmp_path: Path) -> None:
    code, outcome, log = run(target, tmp_path, LISTENER="reschedule")
    assert outcome["dispatcher"].startswith("locust_events")
    assert outcome["requests"] >= REQUESTS
    assert outcome["went_on_after_request"] == 0  # every task stopped at its request
    assert code == 0, log
    assert "raised" not in log  # passed through: neither logged nor counted as an error


def test_listener_error_is_logged_the_run_goes_on_and_exit_code_is_locusts(
    target: str, tmp_path: Path
) -> None:
    ours = tmp_path / "ours"
    stock = tmp_path / "stock"
    ours.mkdir()
    stock.mkdir()
    code, outcome, log = run(target, ours, LISTENER="error")
    stock_code, stock_outcome, _ = run(target, stock, LISTENER="error", STOCK="1")
    assert stock_outcome["dispatcher"] == "locust.event"
    assert outcome["requests"] >= REQUESTS
    assert outcome["went_on_after_request"] == outcome["requests"]
    assert "semantics.fail of hook 'request' raised ValueError" in log
    assert "ValueError: a listener bug" in log  # with its traceback
    assert code == stock_code == 2
    assert outcome["exit_code"] == stock_outcome["exit_code"] == 2


def test_init_listener_error_stops_locust_with_exit_code_1_as_stock_locust_does(
    target: str, tmp_path: Path
) -> None:
    code, outcome, log = run(target, tmp_path, LISTENER="init_error")
    assert code == 1, log
    assert "fail_at_init of hook 'init' raised ValueError" in log
    assert outcome == {}  # Locust exits straight after init, before quitting or quit
