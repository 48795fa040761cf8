"""``python -m locust_events bench`` prints its table (timings are printed, never asserted).

It runs in a subprocess: its Locust rows import Locust, which monkey-patches the process. The
subprocess starts outside the checkout, so that it imports the installed package (with its
compiled extension), as the test process does.
"""

from __future__ import annotations

import importlib.util
import json
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


def test_bench_prints_every_group_with_its_spread_and_the_targets(tmp_path: Path) -> None:
    completed = run_command("bench", "--rounds", "3", cwd=tmp_path)
    out = completed.stdout
    # Whether a target is met depends on the machine: the exit status must say what it printed.
    assert completed.returncode == (1 if "not met" in out else 0), completed.stderr
    for group in ("1 listener  (baseline:", "10 listeners  (baseline:", "0 listeners  (baseline:"):
        assert group in out
    assert "quartiles (ns/call)" in out
    assert "pure fire" in out
    assert "the project's performance targets (ratio of medians, at most)" in out
    assert "issue" not in out.lower()
    assert "MISSED" not in out
    if locust_events.COMPILED:
        assert "compiled fire" in out
        assert "10,000 compiled fires without listeners: 0 bytes" in out


def test_bench_json_holds_every_row_with_its_spread_and_every_target(tmp_path: Path) -> None:
    completed = run_command("bench", "--rounds", "3", "--json", cwd=tmp_path)
    report = json.loads(completed.stdout)
    assert completed.returncode == (0 if report["targets_met"] else 1), completed.stderr
    assert set(report) == {
        "calls_per_round",
        "calling_loop",
        "python",
        "groups",
        "targets",
        "targets_met",
        "compiled_fire_allocation_bytes",
    }
    assert set(report["groups"]) == {"1 listener", "10 listeners", "0 listeners"}
    for group in report["groups"].values():
        labels = [row["label"] for row in group["rows"]]
        assert group["baseline"] in labels
        for row in group["rows"]:
            assert row["rounds"] == 3
            assert row["min_ns"] <= row["q1_ns"] <= row["median_ns"] <= row["q3_ns"]
            assert row["q3_ns"] <= row["max_ns"]
            assert row["ratio"] > 0
    assert report["targets"], "no target was checked"
    for target in report["targets"]:
        assert set(target) == {"group", "label", "against", "limit", "ratio", "met"}
        assert target["met"] == (target["ratio"] <= target["limit"])
    assert report["targets_met"] == all(target["met"] for target in report["targets"])
    if locust_events.COMPILED:
        assert report["calling_loop"] == "compiled"
        assert report["compiled_fire_allocation_bytes"] == 0


def test_bench_exits_1_when_a_target_is_not_met(tmp_path: Path) -> None:
    # Every limit times 0: no ratio of two timings is within it, on any machine.
    completed = run_command("bench", "--rounds", "1", "--limit-scale", "0", "--json", cwd=tmp_path)
    assert completed.returncode == 1, completed.stderr
    report = json.loads(completed.stdout)
    assert report["targets"]
    assert not any(target["met"] for target in report["targets"])
    assert report["targets_met"] is False


def test_bench_refuses_rounds_below_one(tmp_path: Path) -> None:
    completed = run_command("bench", "--rounds", "0", cwd=tmp_path)
    assert completed.returncode == 2
    assert "--rounds must be 1 or more, not 0" in completed.stderr


def test_verdicts_judge_the_ratio_of_medians_against_each_limit() -> None:
    from locust_events.tools.bench import TARGETS, Timing, verdicts

    def timing(median: float) -> Timing:
        return Timing.of([median])

    first = TARGETS[0]
    rows = {first.against: timing(100e-9), first.label: timing(100e-9 * first.limit * 1.01)}
    (verdict,) = verdicts({first.group: rows})
    assert verdict.target == first
    assert not verdict.met
    assert round(verdict.ratio, 4) == round(first.limit * 1.01, 4)
    rows[first.label] = timing(100e-9 * first.limit)
    assert verdicts({first.group: rows})[0].met


def test_timing_spread_is_the_quartiles_of_the_rounds() -> None:
    from locust_events.tools.bench import Timing

    timing = Timing.of([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (timing.low, timing.q1, timing.median, timing.q3, timing.high) == (1, 2, 3, 4, 5)
    assert timing.rounds == 5


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
