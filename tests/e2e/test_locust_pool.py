"""Spawned listeners in real Locust runs: every call delivered before the process exits."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .locust_support import (
    GRACE,
    LOCUSTFILES,
    child_environment,
    headless,
    locust_command,
    needs_locust,
    run_locust,
    running_target,
)

pytestmark = needs_locust

LOCUSTFILE = LOCUSTFILES / "spawned.py"
#: The spawned-listener locustfile with ``stop_after.py``: a run that ends by a count of requests.
COUNTED = Path(f"{LOCUSTFILE},{LOCUSTFILES / 'stop_after.py'}")
#: Requests a counted run makes (more than the pool's 8 workers can hold).
REQUESTS = 30
#: Only a cap for counted runs.
RUN_TIME_LIMIT = 60
#: Calls waiting in the pool when a signalled run gets its signal (fits a pool of 2 + 20).
BACKLOG = 20


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with running_target() as url:
        yield url


def delivery(workdir: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((workdir / "delivery.json").read_text())
    return result


def signalled_once_backlogged(
    workdir: Path, options: list[str], env: dict[str, str], signal_number: int
) -> tuple[int, str]:
    """Run Locust on the spawned-listener locustfile, its calls held until the run stops, send
    it ``signal_number`` once BACKLOG calls wait in the pool, and return its exit code and log."""
    env = {**env, "HOLD_UNTIL_STOP": "1", "SIGNAL_AT_BACKLOG": str(BACKLOG)}
    process = subprocess.Popen(
        locust_command(LOCUSTFILE, *options),
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + RUN_TIME_LIMIT
        while not (workdir / "backlogged").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (workdir / "backlogged").exists(), "no backlog within the time limit"
        process.send_signal(signal_number)
        _, log = process.communicate(timeout=GRACE)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, log


def test_spawned_listener_calls_are_all_delivered_before_locust_exits(
    target: str, tmp_path: Path
) -> None:
    # Calls are held until the run stops, so there is a backlog then on any machine.
    env = child_environment(HOLD_UNTIL_STOP="1", STOP_AFTER_REQUESTS=str(REQUESTS))
    result = run_locust(
        COUNTED,
        *headless(target, 5, RUN_TIME_LIMIT),
        cwd=tmp_path,
        run_time=RUN_TIME_LIMIT,
        env=env,
    )
    counts = delivery(tmp_path)
    assert result.returncode == 0, result.stderr
    assert counts["pending_at_stop"] > 0  # there was a backlog when the run stopped
    assert counts["delivered"] == counts["fired"] >= REQUESTS
    assert "not delivered" not in result.stderr


@pytest.mark.parametrize(
    "signal_number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "ctrl-c"]
)
def test_spawned_listener_calls_are_delivered_on_sigterm_and_ctrl_c(
    target: str, tmp_path: Path, signal_number: int
) -> None:
    returncode, log = signalled_once_backlogged(
        tmp_path, headless(target, 3, 60), child_environment(), signal_number
    )
    counts = delivery(tmp_path)
    assert counts["pending_at_stop"] > 0, log
    assert counts["delivered"] == counts["fired"] > 0, log
    assert returncode == counts["exit_code"], log


def test_sigterm_with_firers_waiting_for_room_in_a_small_pool_loses_nothing(
    target: str, tmp_path: Path
) -> None:
    # Users fire faster than two workers deliver: the queue of 20 fills and users wait for
    # room. SIGTERM kills those users while they wait (no --stop-timeout: at once); their
    # calls must still be delivered.
    options = headless(target, 10, 60)
    stop_timeout = options.index("--stop-timeout")
    del options[stop_timeout : stop_timeout + 2]
    _, log = signalled_once_backlogged(
        tmp_path, options, child_environment(POOL="2,20", LISTENER_SLEEP="0.05"), signal.SIGTERM
    )
    counts = delivery(tmp_path)
    assert counts["pending_at_stop"] > 0, log
    assert counts["delivered"] == counts["fired"] > 0, log
    assert counts["stats"]["submitted"] == counts["fired"], log
    assert counts["stats"]["ended"] == counts["fired"], log
    assert counts["stats"]["dropped"] == 0, log
    assert counts["stats"]["undelivered"] == 0, log


def test_drain_is_bounded_and_sums_up_what_was_not_delivered(target: str, tmp_path: Path) -> None:
    # Bounded by events, not by a stopwatch: the run ends by its request count, the drain
    # logs that it gave up after its 1 s, and run_locust fails the test if the process
    # outlives its limit (as waiting for the 600 s listener would).
    result = run_locust(
        COUNTED,
        *headless(target, 2, RUN_TIME_LIMIT),
        cwd=tmp_path,
        run_time=RUN_TIME_LIMIT,
        env=child_environment(
            LISTENER_SLEEP="600", DRAIN_TIMEOUT="1", STOP_AFTER_REQUESTS=str(REQUESTS)
        ),
    )
    counts = delivery(tmp_path)
    summary = [line for line in result.stderr.splitlines() if "not delivered after 1 s" in line]
    assert len(summary) == 1, result.stderr
    assert "pending" in summary[0]
    assert "running" in summary[0]
    assert counts["delivered"] == 0
    assert result.returncode == 0, result.stderr


def test_locust_events_profile_logs_the_listener_table_when_locust_quits(
    target: str, tmp_path: Path
) -> None:
    result = run_locust(
        COUNTED,
        *headless(target, 2, RUN_TIME_LIMIT),
        cwd=tmp_path,
        run_time=RUN_TIME_LIMIT,
        env=child_environment(LOCUST_EVENTS_PROFILE="1", STOP_AFTER_REQUESTS=str(REQUESTS)),
    )
    assert result.returncode == 0, result.stderr
    assert "Listener profile:" in result.stderr
    table = result.stderr.split("Listener profile:", 1)[1]
    assert "request" in table
    assert "spawned" in table
