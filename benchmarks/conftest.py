"""Ratio reporting: every benchmark is printed as a multiple of its group's baseline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

#: How many calls one benchmark round makes, so timer overhead stays small beside them.
CALLS_PER_ROUND = 1_000


@dataclass
class Group:
    baseline: str | None = None
    medians: dict[str, float] = field(default_factory=dict)


_GROUPS: dict[str, Group] = {}


class Measure:
    """Runs one benchmark and remembers its median under ``group``/``label``."""

    def __init__(self, benchmark: Any) -> None:
        self._benchmark = benchmark

    def __call__(
        self,
        group: str,
        label: str,
        round_: Callable[[], object],
        *,
        baseline: bool = False,
        setup: Callable[[], object] | None = None,
    ) -> None:
        """Time ``round_`` (``CALLS_PER_ROUND`` calls); ``setup`` runs untimed before each."""
        self._benchmark.group = group
        self._benchmark.extra_info["label"] = label
        if setup is None:
            self._benchmark(round_)
        else:
            self._benchmark.pedantic(round_, setup=setup, rounds=300, warmup_rounds=5)
        entry = _GROUPS.setdefault(group, Group())
        if baseline:
            entry.baseline = label
        stats = getattr(self._benchmark, "stats", None)
        if stats is not None:
            entry.medians[label] = stats.stats.median / CALLS_PER_ROUND


@pytest.fixture
def measure(benchmark: Any) -> Measure:
    return Measure(benchmark)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    timed = {name: group for name, group in _GROUPS.items() if group.medians}
    if not timed:
        return
    write = terminalreporter.write_line
    terminalreporter.section("ratios against each group's baseline (medians, same run)")
    for name, group in timed.items():
        base = group.medians.get(group.baseline or "")
        write(f"{name}  (baseline: {group.baseline})")
        for label, median in group.medians.items():
            ratio = f"{median / base:6.2f}x" if base else "   n/a"
            write(f"    {label:<52} {median * 1e9:9.1f} ns/call  {ratio}")
