"""How a value is recorded: each metric's fold since the last collect, on the hot path.

One source: Cython compiles it as ``_metric_recording_compiled`` where it can (``setup.py``,
the ``.pxd`` beside it makes each metric a C type), and this module adopts that build at its
end; elsewhere, or with ``LOCUST_EVENTS_PURE=1``, it runs as the Python below. Both behave the
same.
"""

from __future__ import annotations

import math
from typing import Any, Final

from ._implementation import adopt_compiled_twin
from ._metric_figures import Fold

__all__ = [
    "DEFAULT_HIGHEST",
    "DEFAULT_LOWEST",
    "DEFAULT_RELATIVE_ERROR",
    "Counter",
    "CounterSeries",
    "Histogram",
    "HistogramSeries",
    "Metric",
    "Summary",
    "SummarySeries",
    "bucket_bounds",
]

#: The histogram's default relative error: a percentile is within 1% of the recorded value.
DEFAULT_RELATIVE_ERROR: Final = 0.01
#: The smallest and largest value a histogram tells apart (other values share its edge
#: buckets; min and max stay exact). With 1% error this is at most 1,383 buckets per label.
DEFAULT_LOWEST: Final = 1e-3
DEFAULT_HIGHEST: Final = 1e9


class Metric:
    """What every metric has: a name, a description, and its fold since the last collect."""

    kind = ""

    def __init__(self, name: str, description: str) -> None:
        #: The metric's name, unique in its registry (a column of the tables and the CSV).
        self.name = name
        #: What it measures, for the people reading the tables.
        self.description = description
        # By label: the fold since the last collect.
        self._series: dict[str, Any] = {}

    def collect(self) -> Fold | None:
        """What was recorded since the last collect (None: nothing), and start a new fold."""
        series, self._series = self._series, {}
        if not series:
            return None
        return {"kind": self.kind, "series": self._export(series)}

    def _export(self, series: dict[str, Any]) -> dict[str, Any]:
        return series

    def settings(self) -> tuple[Any, ...]:
        """What must match when the same name is declared again."""
        return (self.kind,)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class CounterSeries:
    """One label's fold of a counter: its total, updated in place (one dict probe a value)."""

    def __init__(self) -> None:
        self.total: Any = 0


class Counter(Metric):
    """A number that only adds up: requests of a kind, orders placed, bytes sent."""

    kind = "counter"

    def add(self, value: float = 1, label: str = "") -> None:
        """Add ``value`` (1 by default) to the count of ``label`` ("" when unsplit)."""
        series = self._series.get(label)
        if series is None:
            series = self._series[label] = CounterSeries()
        series.total = series.total + value

    def _export(self, series: dict[str, Any]) -> dict[str, Any]:
        return {label: each.total for label, each in series.items()}


class SummarySeries:
    """One label's fold of a summary: count, sum, min and max, updated in place."""

    def __init__(self, value: Any) -> None:
        self.count = 1
        self.total: Any = value
        self.low: Any = value
        self.high: Any = value


class Summary(Metric):
    """Count, sum, min and max of recorded values: the mean and the extremes, merged exactly."""

    kind = "summary"

    def record(self, value: float, label: str = "") -> None:
        """Record one value under ``label`` ("" when unsplit)."""
        series = self._series.get(label)
        if series is None:
            self._series[label] = SummarySeries(value)
            return
        series.count += 1
        series.total = series.total + value
        if value < series.low:
            series.low = value
        elif value > series.high:
            series.high = value

    def _export(self, series: dict[str, Any]) -> dict[str, Any]:
        return {
            label: [each.count, each.total, each.low, each.high] for label, each in series.items()
        }


def bucket_bounds(relative_error: float, lowest: float, highest: float) -> tuple[float, int, int]:
    """The histogram's ``(gamma, lowest index, highest index)`` for its settings.

    Bucket ``i`` holds the values in ``(gamma**(i-1), gamma**i]`` with
    ``gamma = (1 + e) / (1 - e)``; its representative value ``2 * gamma**i / (gamma + 1)`` is
    within the relative error ``e`` of every value in it.
    """
    gamma = (1 + relative_error) / (1 - relative_error)
    log_gamma = math.log(gamma)
    # int(): compiled, math is C's (see the .pxd) and its ceil gives a double.
    lowest_index = int(math.ceil(math.log(lowest) / log_gamma))  # noqa: RUF046
    return gamma, lowest_index, int(math.ceil(math.log(highest) / log_gamma))  # noqa: RUF046


class HistogramSeries:
    """One label's fold of a histogram: count, sum, min, max, values of 0, bucket counts.

    The bucket counts are a list over the span of indices seen so far (``first`` the index of
    its first item), grown as values fall outside it: a count is an item update, not a dict
    probe and store, and the list is at most the histogram's span of buckets long.
    """

    def __init__(self, value: float) -> None:
        self.count = 0
        self.total = 0.0
        self.low = value
        self.high = value
        self.zeros = 0
        #: The bucket index of ``counts[0]``.
        self.first = 0
        #: Counts of the buckets ``first``, ``first + 1``, ...: how many values fell in each.
        self.counts: list[int] = []

    def add(self, value: float, index: int) -> None:
        """Count ``value`` (above 0) in bucket ``index``."""
        position = index - self.first
        counts = self.counts
        if 0 <= position < len(counts):
            counts[position] += 1
        else:
            self._add_outside(index)
        self.count += 1
        number = value  # compiled: a C double (see the .pxd), no float object in between
        self.total += number
        if value < self.low:
            self.low = value
        elif value > self.high:
            self.high = value

    def _add_outside(self, index: int) -> None:
        """Count a value in bucket ``index``, outside the span so far: widen the span to it."""
        if not self.counts:
            self.first = index
            self.counts = [1]
        elif index < self.first:
            self.counts = [1] + [0] * (self.first - index - 1) + self.counts
            self.first = index
        else:
            self.counts.extend([0] * (index - self.first - len(self.counts)))
            self.counts.append(1)

    def add_zero(self) -> None:
        """Count a value of 0."""
        self.zeros += 1
        self.count += 1
        if self.low > 0:
            self.low = 0

    def buckets(self) -> tuple[list[int], list[int]]:
        """The buckets counted, as ``(indices, counts)`` in ascending order of index."""
        first = self.first
        counted = [(first + position, n) for position, n in enumerate(self.counts) if n]
        return [index for index, _ in counted], [n for _, n in counted]


class Histogram(Metric):
    """Recorded values in logarithmic buckets: count, sum, min, max and any percentile within a
    stated relative error, merged across processes by adding bucket counts.

    A report carries at most one count per bucket, whatever the number of values recorded.
    """

    kind = "histogram"

    def __init__(
        self,
        name: str,
        description: str,
        relative_error: float = DEFAULT_RELATIVE_ERROR,
        lowest: float = DEFAULT_LOWEST,
        highest: float = DEFAULT_HIGHEST,
    ) -> None:
        if not 0 < relative_error < 1:
            raise ValueError(
                f"Cannot declare histogram {name!r}: relative_error must be between 0 and 1 "
                f"(e.g. 0.01 for 1%), not {relative_error!r}"
            )
        if not 0 < lowest < highest:
            raise ValueError(
                f"Cannot declare histogram {name!r}: lowest and highest must satisfy "
                f"0 < lowest < highest, not lowest={lowest!r}, highest={highest!r}"
            )
        super().__init__(name, description)
        #: Every percentile it reports is within this relative error of a recorded value.
        self.relative_error = relative_error
        #: The values it tells apart: from ``lowest`` to ``highest``.
        self.lowest = lowest
        self.highest = highest
        gamma, self._lowest_index, self._highest_index = bucket_bounds(
            relative_error, lowest, highest
        )
        self._inverse_log_gamma = 1 / math.log(gamma)

    def settings(self) -> tuple[Any, ...]:
        return (self.kind, self.relative_error, self.lowest, self.highest)

    def record(self, value: float, label: str = "") -> None:
        """Record one value (0 or more, e.g. milliseconds) under ``label`` ("" when unsplit).

        :raises ValueError: ``value`` is negative (or not a number).
        """
        series = self._series.get(label)
        if series is None:
            series = self._series[label] = HistogramSeries(value)
        if value > 0:
            # Clamped before it becomes an integer: an infinite value lands in the last bucket.
            position = math.log(value) * self._inverse_log_gamma
            if position <= self._lowest_index:
                index = self._lowest_index
            elif position > self._highest_index - 1:
                index = self._highest_index
            else:
                # int(): compiled, math is C's (see the .pxd) and its ceil gives a double.
                index = int(math.ceil(position))  # noqa: RUF046
            series.add(value, index)
        elif value == 0:
            series.add_zero()
        else:
            if series.count == 0:
                del self._series[label]
            raise ValueError(
                f"Cannot record {value!r} in histogram {self.name!r}: it takes values of 0 "
                "or more; record a duration or a size, or use a summary for signed values"
            )

    def collect(self) -> Fold | None:
        fold = super().collect()
        if fold is not None:
            fold["relative_error"] = self.relative_error  # the master needs it for percentiles
        return fold

    def _export(self, series: dict[str, Any]) -> dict[str, Any]:
        # Bucket indices as a list: Locust's messages take string keys only.
        exported = {}
        for label, each in series.items():
            indices, counts = each.buckets()
            exported[label] = [
                each.count,
                each.total,
                each.low,
                each.high,
                each.zeros,
                indices,
                counts,
            ]
        return exported


adopt_compiled_twin(globals(), "locust_events._metric_recording_compiled")
