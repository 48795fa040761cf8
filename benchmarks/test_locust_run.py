"""A real Locust run on Locust's events and on ours, side by side (see ``locust_run.py``).

Under ``--benchmark-disable`` (the test suite) it runs once, briefly; with the benchmarks
enabled (``tox -e bench``) it runs four rounds of ten seconds each.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from .locust_run import compare, table


@pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="needs the locust extra")
def test_locust_run_stock_events_beside_ours(benchmark: Any, capsys: Any) -> None:
    seconds, rounds = (2, 1) if benchmark.disabled else (10, 4)
    result = benchmark.pedantic(compare, args=(seconds, rounds), rounds=1, iterations=1)
    with capsys.disabled():
        print("\n" + table(result, seconds, rounds, users=10))
    for row in result.values():
        assert row["requests"] > 0
        assert row["cpu_per_10k"] > 0
