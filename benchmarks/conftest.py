"""Ratio reporting: every benchmark is printed as a multiple of its group's baseline, and,
with ``--performance-page PATH`` (``tox -e bench``), written into the docs' performance page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import locust_events
from locust_events.tools.bench import CALLS_PER_ROUND, Timing, Timings, report

from .performance_page import this_machine, write_page

_RESULTS: Timings = {}
#: The real Locust runs of ``test_locust_run.py`` (when timed): their settings and medians.
LOCUST_RUN: dict[str, Any] = {}
#: Baselines of the groups that are not among ``locust_events.tools.bench.CASES`` (pool, profiling).
_BASELINES: dict[str, str] = {}


class Measure:
    """Runs one benchmark and remembers its median per call under ``group``/``label``."""

    def __init__(self, benchmark: Any) -> None:
        self._benchmark = benchmark

    def __call__(
        self,
        group: str,
        label: str,
        round_: Callable[[], object],
        *,
        baseline: bool = False,
        setup: Callable[[], None] | None = None,
        calls: int = CALLS_PER_ROUND,
        rounds: int = 300,
    ) -> None:
        """Time ``round_`` (``calls`` calls); ``setup`` runs untimed before each of
        ``rounds`` rounds."""
        self._benchmark.group = group
        self._benchmark.extra_info["label"] = label
        if baseline:
            _BASELINES[group] = label
        if setup is None:
            self._benchmark(round_)
        else:
            warmup = min(5, rounds)
            self._benchmark.pedantic(round_, setup=setup, rounds=rounds, warmup_rounds=warmup)
        stats = getattr(self._benchmark, "stats", None)
        if stats is not None:
            timed = stats.stats
            _RESULTS.setdefault(group, {})[label] = Timing(
                median=timed.median / calls,
                q1=timed.q1 / calls,
                q3=timed.q3 / calls,
                low=timed.min / calls,
                high=timed.max / calls,
                rounds=timed.rounds,
            )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--performance-page",
        metavar="PATH",
        default=None,
        help="write the docs' performance page from this run's timings (tox -e bench)",
    )


@pytest.fixture
def locust_run_record() -> dict[str, Any]:
    """Where a timed real Locust run leaves its result for the performance page."""
    return LOCUST_RUN


@pytest.fixture
def measure(benchmark: Any) -> Measure:
    return Measure(benchmark)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS:
        return
    terminalreporter.section("ratios against each group's baseline (medians, same run)")
    report(_RESULTS, terminalreporter.write_line, baselines=_BASELINES)
    page = terminalreporter.config.getoption("--performance-page")
    if page:
        loop = "compiled" if locust_events.COMPILED else "pure-Python"
        write_page(
            Path(page),
            _RESULTS,
            _BASELINES,
            this_machine(loop),
            locust_run=LOCUST_RUN or None,
            say=terminalreporter.write_line,
        )
