"""Custom metrics: declared once, recorded from any listener, folded per process for reporting.

Recording only updates a small in-process fold (a number, a sum with min and max, or a fixed
set of histogram buckets), one per label; :meth:`MetricRegistry.collect` hands over what was
recorded since the last call and starts a new fold. In a Locust run each worker collects with
Locust's regular worker report and the master merges (:mod:`locust_events._metric_figures`).
Nothing here imports Locust.
"""

from __future__ import annotations

from typing import Any, Final, final

from ._metric_figures import Fold, MetricFigures
from ._metric_recording import (
    DEFAULT_HIGHEST,
    DEFAULT_LOWEST,
    DEFAULT_RELATIVE_ERROR,
    Counter,
    Histogram,
    Metric,
    Summary,
    bucket_bounds,
)

__all__ = [
    "Counter",
    "Fold",
    "Histogram",
    "Metric",
    "MetricFigures",
    "MetricRegistry",
    "Summary",
    "bucket_bounds",
    "counter",
    "histogram",
    "metrics",
    "summary",
]


@final
class MetricRegistry:
    """The metrics of one process, by name; :data:`metrics` is the global one."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}

    def __iter__(self) -> Any:
        return iter(list(self._metrics.values()))

    def __len__(self) -> int:
        return len(self._metrics)

    def get(self, name: str) -> Metric | None:
        """The metric declared under ``name``, or None."""
        return self._metrics.get(name)

    def _declare(self, metric: Metric) -> Any:
        existing = self._metrics.get(metric.name)
        if existing is None:
            self._metrics[metric.name] = metric
            return metric
        if existing.settings() != metric.settings():
            raise ValueError(
                f"Cannot declare metric {metric.name!r} as {metric.settings()}: it is declared "
                f"already as {existing.settings()}; give the new one another name"
            )
        return existing  # the locustfile imported twice: the same metric

    def counter(self, name: str, description: str = "") -> Counter:
        """Declare (or get again) the counter ``name``."""
        result: Counter = self._declare(Counter(_checked_name(name), description))
        return result

    def summary(self, name: str, description: str = "") -> Summary:
        """Declare (or get again) the summary ``name``: count, sum, min and max."""
        result: Summary = self._declare(Summary(_checked_name(name), description))
        return result

    def histogram(
        self,
        name: str,
        description: str = "",
        *,
        relative_error: float = DEFAULT_RELATIVE_ERROR,
        lowest: float = DEFAULT_LOWEST,
        highest: float = DEFAULT_HIGHEST,
    ) -> Histogram:
        """Declare (or get again) the histogram ``name``; see :class:`Histogram`.

        :raises ValueError: the name is declared already with other settings, or the settings
            are out of range.
        """
        metric = Histogram(_checked_name(name), description, relative_error, lowest, highest)
        result: Histogram = self._declare(metric)
        return result

    def collect(self) -> dict[str, Fold]:
        """Every metric's fold since the last collect, by name (metrics without any left out);
        each metric starts a new fold. In a gevent process this runs without yielding, so a
        value is in exactly one collect."""
        folds = {}
        for metric in list(self._metrics.values()):
            fold = metric.collect()
            if fold is not None:
                folds[metric.name] = fold
        return folds

    def describe(self) -> dict[str, dict[str, Any]]:
        """Each metric's kind, description and (histograms) relative error, by name."""
        return {
            metric.name: {
                "kind": metric.kind,
                "description": metric.description,
                "relative_error": getattr(metric, "relative_error", None),
            }
            for metric in self._metrics.values()
        }


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or not name or name != name.strip():
        raise ValueError(
            f"Cannot declare metric {name!r}: its name must be a non-empty string without "
            "surrounding spaces, e.g. 'checkout_ms'"
        )
    return name


#: The process's metrics: what :func:`counter`, :func:`summary` and :func:`histogram` declare.
metrics: Final = MetricRegistry()
counter = metrics.counter
summary = metrics.summary
histogram = metrics.histogram
