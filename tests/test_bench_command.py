"""``python -m locust_events bench`` prints its table (timings are printed, never asserted)."""

from __future__ import annotations

import pytest

import locust_events
from locust_events.__main__ import main


def test_bench_prints_every_group_and_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--seconds", "0"]) == 0
    out = capsys.readouterr().out
    for group in ("1 listener  (baseline:", "10 listeners  (baseline:", "0 listeners  (baseline:"):
        assert group in out
    assert "pure fire" in out
    assert "targets (issue 4)" in out
    if locust_events.COMPILED:
        assert "compiled fire" in out
        assert "10,000 compiled fires without listeners: 0 bytes" in out


def test_bench_is_a_subcommand() -> None:
    with pytest.raises(SystemExit):
        main([])
