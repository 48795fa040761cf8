"""``python -m locust_events bench`` prints its table (timings are printed, never asserted).

It runs in a subprocess: its Locust rows import Locust, which monkey-patches the process. The
subprocess starts outside the checkout, so that it imports the installed package (with its
compiled extension), as the test process does.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def test_the_request_payload_has_locusts_nine_names_in_the_registrys_order() -> None:
    from locust_events import Events
    from locust_events.tools.request_payload import REQUEST_NAMES, REQUEST_PAYLOAD

    assert Events.hook_declarations["request"].passes == REQUEST_NAMES
    assert tuple(REQUEST_PAYLOAD) == REQUEST_NAMES
    with pytest.raises(TypeError):
        REQUEST_PAYLOAD["name"] = "changed"  # type: ignore[index]


def test_every_timed_round_calls_with_the_one_request_payload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from locust_events.tools import bench
    from locust_events.tools.request_payload import REQUEST_PAYLOAD

    received: list[dict[str, Any]] = []

    def record(*args: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    rounds = {"direct call or fire": bench._calls(record)}
    monkeypatch.setattr(bench, "no_op", record)
    rounds["ten direct calls"] = bench._ten_direct_calls()
    if importlib.util.find_spec("blinker") is not None:
        import blinker

        monkeypatch.setattr(blinker.Signal, "send", record)
        blinker_round = bench._blinker_sends()
        assert blinker_round is not None
        rounds["blinker"] = blinker_round
    for name, round_ in rounds.items():
        received.clear()
        round_()
        assert received, name
        assert all(kwargs == REQUEST_PAYLOAD for kwargs in received), name
