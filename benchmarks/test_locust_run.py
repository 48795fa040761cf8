"""A real Locust run on Locust's events and on ours, side by side (see ``locust_run.py``).

Under ``--benchmark-disable`` (the test suite's smoke run) each dispatcher runs once, until
Locust counted ``SMOKE_REQUESTS`` requests (a count, so a busy machine only makes it slower);
with the benchmarks enabled (``tox -e bench``) it runs four rounds of ten seconds each.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from .locust_run import compare, table

#: Requests each dispatcher's smoke run makes before it quits.
SMOKE_REQUESTS = 200
#: The smoke run's cap in seconds, far above what SMOKE_REQUESTS takes on a busy machine.
SMOKE_CAP_SECONDS = 120


@pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="needs the locust extra")
def test_locust_run_stock_events_beside_ours(
    benchmark: Any, capsys: Any, locust_run_record: dict[str, Any]
) -> None:
    if benchmark.disabled:
        seconds, rounds, stop_after = SMOKE_CAP_SECONDS, 1, SMOKE_REQUESTS
    else:
        seconds, rounds, stop_after = 10, 4, 0
    result = benchmark.pedantic(
        compare, args=(seconds, rounds), kwargs={"stop_after": stop_after}, rounds=1, iterations=1
    )
    with capsys.disabled():
        print("\n" + table(result, seconds, rounds, users=10))
    if not benchmark.disabled:
        locust_run_record.update(result=result, seconds=seconds, rounds=rounds, users=10)
    for row in result.values():
        assert row["requests"] >= stop_after
        assert row["requests"] > 0
        assert row["cpu_per_10k"] > 0
