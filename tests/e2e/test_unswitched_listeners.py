"""Listeners on ``locust_events.events`` in a locustfile that never switches Locust onto them:
Locust never calls them, and the run says so at start-up, once, with the fix."""

from __future__ import annotations

from pathlib import Path

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

LOCUSTFILE = LOCUSTFILES / "unswitched.py"
FIX = "import locust_events.locust"


@pytest.mark.parametrize("switch", ["0", "1"], ids=["without the switch", "with the switch"])
def test_listeners_locust_would_never_call_are_named_once_with_the_line_that_fixes_it(
    tmp_path: Path, switch: str
) -> None:
    calls = tmp_path / "calls.txt"
    env = child_environment(CALLS_FILE=str(calls), SWITCH=switch)
    with running_target() as target:
        result = run_locust(
            LOCUSTFILE, *headless(target, 2, 2, "--json"), cwd=tmp_path, run_time=2, env=env
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert '"num_requests":' in result.stdout  # Locust made requests either way
    warnings = [line for line in result.stderr.splitlines() if "Locust never calls" in line]
    called = calls.read_text().splitlines() if calls.exists() else []
    if switch == "1":
        assert warnings == [], result.stderr[-3000:]
        assert called
        assert set(called) == {"/"}
        return
    assert called == []
    assert len(warnings) == 1, result.stderr[-3000:]
    (warning,) = warnings
    assert "unswitched.py" in warning
    assert "request: unswitched.on_request (" in warning
    assert f"add '{FIX}' at the top of" in warning
