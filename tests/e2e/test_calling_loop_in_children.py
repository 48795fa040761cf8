"""The calling loop a test asks for is the one its Locust children dispatch on."""

from __future__ import annotations

import json
import os
from importlib.util import find_spec
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

REQUESTS = 20
#: Only a cap: the run ends after REQUESTS requests (``stop_after.py``).
RUN_TIME_LIMIT = 60


def test_children_keep_the_loop_selection_and_drop_other_locust_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCUST_EVENTS_PURE", "1")
    monkeypatch.setenv("LOCUST_HOST", "http://example.invalid")
    environment = child_environment()
    assert environment["LOCUST_EVENTS_PURE"] == "1"
    assert "LOCUST_HOST" not in environment


@needs_locust
@pytest.mark.parametrize("loop", ["compiled", "pure"])
def test_a_locust_child_dispatches_on_the_loop_it_was_given(loop: str, tmp_path: Path) -> None:
    if loop == "compiled" and find_spec("locust_events._speedups") is None:
        assert not os.environ.get("LOCUST_EVENTS_EXPECT_COMPILED"), "the extension was not built"
        pytest.skip("the C extension is not built here")
    env = child_environment(STOP_AFTER_REQUESTS=str(REQUESTS))
    if loop == "pure":
        env["LOCUST_EVENTS_PURE"] = "1"
    else:
        env.pop("LOCUST_EVENTS_PURE", None)
    locustfiles = f"{LOCUSTFILES / 'calling_loop.py'},{LOCUSTFILES / 'stop_after.py'}"
    with running_target() as target:
        result = run_locust(
            Path(locustfiles),
            *headless(target, 2, RUN_TIME_LIMIT),
            cwd=tmp_path,
            run_time=RUN_TIME_LIMIT,
            env=env,
        )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "calling_loop.json").read_text())
    assert report["compiled"] is (loop == "compiled")
    core = "locust_events._speedups" if loop == "compiled" else "locust_events._native"
    assert core in report["hook_classes"]
    assert report["sync"] == report["spawned"] >= REQUESTS
