"""The demo and the local target, as a user runs them: ``python -m locust_events ...``."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from .locust_support import GRACE, child_environment, get_json, needs_locust, running_target


def post_json(url: str, payload: object) -> int:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_target_serves_the_examples_paths_and_counts_webhooks() -> None:
    with running_target(fail_every=2) as url:
        assert url.startswith("http://127.0.0.1:")
        for path in ("/", "/page", "/api/environment"):
            with urllib.request.urlopen(url + path, timeout=10) as response:
                assert response.status == 200
        assert get_json(f"{url}/api/data") == {"items": list(range(32))}
        with pytest.raises(urllib.error.HTTPError, match="503"):
            get_json(f"{url}/api/data")  # every second /api/data fails
        assert post_json(f"{url}/webhook", {"event": "error"}) == 204
        assert post_json(f"{url}/webhook", {"event": "error"}) == 204
        assert post_json(f"{url}/webhook", {"other": 1}) == 204
        assert get_json(f"{url}/webhook/count") == {
            "received": 3,
            "by_event": {"error": 2, "": 1},
        }
        assert get_json(f"{url}/served") == {
            "/": 1,
            "/page": 1,
            "/api/environment": 1,
            "/api/data": 2,
        }


@needs_locust
def test_demo_runs_real_locust_and_reports_what_the_listeners_saw() -> None:
    run_time = 3
    result = subprocess.run(
        [sys.executable, "-m", "locust_events", "demo", "--users", "30", "--run-time", "3"],
        capture_output=True,
        text=True,
        timeout=run_time + GRACE,
        check=False,
        env=child_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Each summary line is "  <label, 16 wide> <text>".
    lines = {line[2:18].strip(): line[19:] for line in result.stdout.splitlines()[1:]}
    assert set(lines) >= {"requests", "custom metrics", "webhook calls", "listener pool"}
    assert set(lines) >= {"listener errors", "dispatcher cost", "exit code"}
    seen, counted = (int(word) for word in lines["requests"].split() if word.isdigit())
    assert seen == counted > 0
    posted = int(lines["webhook calls"].split()[0])
    received = int(lines["webhook calls"].split("), ")[1].split()[0])
    assert posted == received >= 2  # test_start and test_complete at least
    assert lines["listener errors"] == "0"
    assert lines["exit code"] == "0"
