"""Each example locustfile, run headless by real Locust against the local target."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from .locust_support import (
    EXAMPLES,
    LOCUSTFILES,
    child_environment,
    get_json,
    headless,
    needs_locust,
    run_locust,
    running_target,
)

pytestmark = needs_locust

#: Every FAIL_EVERY-th /api/data request fails with 503, so the examples see errors.
FAIL_EVERY = 4
#: Each run ends by counts (see ``stop_after.py``): this many requests, one of them failed.
STOP_AFTER_REQUESTS = 20
#: Only a guard: a run that never reaches its counts is stopped after this many seconds.
RUN_TIME = 60


def bounded(example: str) -> Path:
    """``example`` with the locustfile that quits the run once its counts are reached."""
    return Path(f"{EXAMPLES / example},{LOCUSTFILES / 'stop_after.py'}")


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    with running_target(fail_every=FAIL_EVERY) as url:
        yield url


def locust_totals(workdir: Path) -> tuple[int, int]:
    """Requests and failures as Locust itself counted them (from ``--json-file``)."""
    entries = json.loads((workdir / "stats.json").read_text())
    return (
        sum(entry["num_requests"] for entry in entries),
        sum(entry["num_failures"] for entry in entries),
    )


def run_example(
    name: str,
    target: str,
    workdir: Path,
    users: int = 10,
    requests: int = STOP_AFTER_REQUESTS,
    failures: int = 1,
    **env: str,
) -> str:
    """Run ``name`` until Locust counted ``requests`` requests, ``failures`` of them failed."""
    counts = {"STOP_AFTER_REQUESTS": str(requests), "STOP_AFTER_FAILURES": str(failures)}
    result = run_locust(
        bounded(name),
        *headless(target, users, RUN_TIME, "--json-file", "stats"),
        cwd=workdir,
        run_time=RUN_TIME,
        env=child_environment(**counts, **env),
    )
    # Locust exits 1 when requests failed (--exit-code-on-error), 0 when none did.
    counted, failed = locust_totals(workdir)
    assert result.returncode == (1 if failed else 0), result.stderr
    assert counted >= requests, result.stderr
    assert failed >= failures, result.stderr
    assert "raised" not in result.stderr, result.stderr  # no listener error was logged
    return result.stdout + result.stderr


def test_custom_metrics_example_counts_every_request_locust_counted(
    target: str, tmp_path: Path
) -> None:
    output = run_example("custom_metrics.py", target, tmp_path)
    metrics = json.loads((tmp_path / "custom_metrics.json").read_text())
    requests, failures = locust_totals(tmp_path)
    assert metrics["api_calls"] == requests
    assert metrics["error_count"] == failures > 0
    assert len(metrics["response_times"]) == requests
    assert f"Total API calls: {requests}" in output


def test_external_integration_example_posts_start_each_error_and_completion(
    target: str, tmp_path: Path
) -> None:
    before = get_json(f"{target}/webhook/count")["by_event"]
    run_example("external_integration.py", target, tmp_path)
    after = get_json(f"{target}/webhook/count")["by_event"]
    received = {event: after.get(event, 0) - before.get(event, 0) for event in after}
    _, failures = locust_totals(tmp_path)
    assert received == {"test_start": 1, "error": failures, "test_complete": 1}
    assert failures > 0


def test_custom_statistics_example_writes_one_csv_row_per_request(
    target: str, tmp_path: Path
) -> None:
    output = run_example("custom_statistics.py", target, tmp_path)
    with open(tmp_path / "detailed_stats.csv", newline="") as file:
        rows = list(csv.reader(file))
    requests, failures = locust_totals(tmp_path)
    assert rows[0] == ["Minute", "Request_Type", "Name", "Response_Time", "Length", "Success"]
    assert len(rows) - 1 == requests
    assert sum(row[5] == "False" for row in rows[1:]) == failures > 0
    assert {row[2] for row in rows[1:]} <= {"/page", "/api/data"}
    assert f"HTTPError: {failures} occurrences" in output


@pytest.mark.parametrize(
    ("test_env", "expected"),
    [("development", "DEV REQUEST: "), ("staging", "STAGING ALERT: /api/environment")],
)
def test_environment_handlers_example_picks_handlers_by_test_env(
    target: str, tmp_path: Path, test_env: str, expected: str
) -> None:
    # Its one path (/api/environment) never fails: the run ends by the request count alone.
    output = run_example(
        "environment_handlers.py",
        target,
        tmp_path,
        users=3,
        requests=6,
        failures=0,
        TEST_ENV=test_env,
    )
    requests, _ = locust_totals(tmp_path)
    if test_env == "development":
        assert output.count(expected) == requests
    else:
        assert expected not in output  # staging alerts only on failed or slow requests
        assert "DEV REQUEST" not in output


def test_environment_handlers_example_reports_user_errors_in_production(
    target: str, tmp_path: Path
) -> None:
    before = get_json(f"{target}/webhook/count")["by_event"].get("user_error", 0)
    result = run_locust(
        bounded("environment_handlers.py"),
        *headless(target, 3, RUN_TIME),
        cwd=tmp_path,
        run_time=RUN_TIME,
        env=child_environment(TEST_ENV="production", FAIL_TASKS="1", STOP_AFTER_USER_ERRORS="3"),
    )
    after = get_json(f"{target}/webhook/count")["by_event"].get("user_error", 0)
    assert result.returncode == 1, result.stderr  # errors in tasks: --exit-code-on-error
    assert after - before >= 3  # at least one error per user, each posted once
    assert "DEV REQUEST" not in result.stdout


def test_sqlite_batches_example_writes_one_row_per_request_locust_counted(
    target: str, tmp_path: Path
) -> None:
    run_example("sqlite_batches.py", target, tmp_path)
    # A connection's own ``with`` ends a transaction, not the connection: closing() closes it.
    with closing(sqlite3.connect(tmp_path / "requests.db")) as database:
        rows = database.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        failed = database.execute(
            "SELECT COUNT(*) FROM requests WHERE exception IS NOT NULL"
        ).fetchone()[0]
        names = {name for (name,) in database.execute("SELECT DISTINCT name FROM requests")}
    requests, failures = locust_totals(tmp_path)
    assert rows == requests >= STOP_AFTER_REQUESTS
    assert failed == failures > 0
    assert names <= {"/page", "/api/data"}
