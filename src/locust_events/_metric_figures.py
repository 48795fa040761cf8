"""Custom metrics merged across processes: per worker and in total, as rows, a table and a CSV.

The master of a Locust run keeps one :class:`MetricFigures`; each worker report's folds (see
:meth:`locust_events.metrics.MetricRegistry.collect`) are added to that worker's figures and
to the running totals, once each, so a worker's figures count once, also after it left.
Nothing here imports Locust.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeAlias, final

__all__ = ["COLUMNS", "PERCENTILES", "Fold", "MetricFigures", "percentile"]

#: One metric's fold as it travels in a report: ``{"kind": ..., "series": {label: state}}``
#: (and a histogram's ``relative_error``); a counter's state is its number, a summary's
#: ``[count, sum, min, max]``, a histogram's ``[count, sum, min, max, zero_count,
#: [bucket indices], [bucket counts]]``.
Fold: TypeAlias = dict[str, Any]

#: The percentiles the tables and the CSV show, for histograms.
PERCENTILES: Final = (0.5, 0.9, 0.95, 0.99)

#: The columns of every row: (key, title).
COLUMNS: Final = (
    ("worker", "Worker"),
    ("metric", "Metric"),
    ("label", "Label"),
    ("kind", "Kind"),
    ("count", "Count"),
    ("sum", "Sum"),
    ("mean", "Mean"),
    ("min", "Min"),
    ("max", "Max"),
    *((f"p{round(q * 100)}", f"{round(q * 100)}%") for q in PERCENTILES),
)

#: The worker name of total rows.
ALL: Final = "all"


def _merge_state(kind: str, into: Any, state: Any) -> Any:
    """``into`` with ``state`` added (``into`` None: a copy of ``state``), by the kind's rule."""
    if kind == "counter":
        return (into or 0) + state
    if kind == "summary":
        if into is None:
            return list(state)
        into[0] += state[0]
        into[1] += state[1]
        into[2] = min(into[2], state[2])
        into[3] = max(into[3], state[3])
        return into
    if kind == "histogram":
        # As it travels, indices and counts are two lists; merged, a dict.
        buckets = dict(zip(state[5], state[6], strict=True)) if len(state) == 7 else state[5]
        if into is None:
            return [*state[:5], dict(buckets)]
        into[0] += state[0]
        into[1] += state[1]
        into[2] = min(into[2], state[2])
        into[3] = max(into[3], state[3])
        into[4] += state[4]
        merged = into[5]
        for index, count in buckets.items():
            merged[index] = merged.get(index, 0) + count
        return into
    raise ValueError(f"Cannot merge metric figures of kind {kind!r}: unknown kind")


def percentile(state: list[Any], relative_error: float, q: float) -> float:
    """The ``q`` percentile (0 to 1) of a histogram's merged state.

    It is the value of rank ``floor(q * (count - 1))`` among the recorded values (0-based,
    ascending), within ``relative_error`` of it when that value lies in the histogram's range.
    """
    count, _, low, high, zeros, buckets = state
    if not count:
        return math.nan
    rank = math.floor(q * (count - 1))
    if rank < zeros:
        return 0.0
    seen = zeros
    gamma = (1 + relative_error) / (1 - relative_error)
    for index in sorted(buckets):
        seen += buckets[index]
        if seen > rank:
            estimate = 2 * gamma**index / (gamma + 1)
            return float(min(max(estimate, low), high))
    return float(high)


@final
class MetricFigures:
    """Each worker's merged folds, and the totals computed from them."""

    def __init__(self) -> None:
        #: By worker id: metric name -> ``{"kind", "series": {label: state}}``.
        self.by_worker: dict[str, dict[str, dict[str, Any]]] = {}
        #: By metric name: a histogram's relative error.
        self.relative_errors: dict[str, float] = {}
        #: Workers that reported once and are no longer connected; their figures still count.
        self.gone: set[str] = set()
        #: By metric name: its kind, as the first report gave it.
        self.kinds: dict[str, str] = {}
        self._totals: dict[str, dict[str, Any]] = {}

    def add(self, worker: str, folds: Mapping[str, Fold]) -> None:
        """Add one report's folds (what ``worker`` recorded since its last report), to the
        worker's figures and to the running totals."""
        figures = self.by_worker.setdefault(worker, {})
        for name, fold in folds.items():
            kind = fold["kind"]
            known = self.kinds.setdefault(name, kind)
            if known != kind:
                raise ValueError(
                    f"Cannot merge metric {name!r} of worker {worker!r}: it reports a {kind}, "
                    f"earlier reports a {known}; declare it the same way everywhere"
                )
            if "relative_error" in fold:
                self.relative_errors[name] = fold["relative_error"]
            series = figures.setdefault(name, {"kind": kind, "series": {}})["series"]
            total = self._totals.setdefault(name, {"kind": kind, "series": {}})["series"]
            for label, state in fold["series"].items():
                series[label] = _merge_state(kind, series.get(label), state)
                total[label] = _merge_state(kind, total.get(label), state)

    def clear(self) -> None:
        """Forget every figure (a new test starts)."""
        self.by_worker.clear()
        self._totals.clear()
        self.gone.clear()
        self.kinds.clear()

    def totals(self) -> dict[str, dict[str, Any]]:
        """Every worker's figures merged: metric name -> ``{"kind", "series": {label: state}}``
        (kept up to date by :meth:`add`; do not change it)."""
        return self._totals

    def _metric(self, name: str, worker: str | None) -> dict[str, Any] | None:
        figures = self.totals() if worker is None else self.by_worker.get(worker, {})
        return figures.get(name)

    def _state(self, name: str, label: str | None, worker: str | None) -> Any:
        metric = self._metric(name, worker)
        if metric is None:
            return None
        series = metric["series"]
        if label is not None:
            return series.get(label)
        state = None
        for each in series.values():
            state = _merge_state(metric["kind"], state, each)
        return state

    def value(self, name: str, label: str | None = None, worker: str | None = None) -> float:
        """A counter's count, or a summary's or histogram's sum: of one label (None: all
        labels), of one worker (None: every worker). 0 when nothing was recorded."""
        state = self._state(name, label, worker)
        if state is None:
            return 0
        return float(state if not isinstance(state, list) else state[1])

    def count(self, name: str, label: str | None = None, worker: str | None = None) -> int:
        """How many values a summary or histogram recorded (a counter: its count)."""
        state = self._state(name, label, worker)
        if state is None:
            return 0
        return int(state[0]) if isinstance(state, list) else int(state)

    def percentile(
        self, name: str, q: float, label: str | None = None, worker: str | None = None
    ) -> float:
        """A histogram's ``q`` percentile (0 to 1); NaN when it recorded nothing."""
        state = self._state(name, label, worker)
        if state is None:
            return math.nan
        return percentile(state, self.relative_errors.get(name, 0.01), q)

    def rows(self) -> list[dict[str, Any]]:
        """One row per metric and label (and ``label`` "(all)" for split metrics), totals
        first (worker ``all``), then each worker's (``id (gone)`` once it left)."""
        result = _rows(ALL, self.totals(), self.relative_errors)
        for worker in sorted(self.by_worker):
            name = f"{worker} (gone)" if worker in self.gone else worker
            result.extend(_rows(name, self.by_worker[worker], self.relative_errors))
        return result

    def table(self) -> str:
        """The totals as a text table, as printed at quit beside Locust's own tables."""
        rows = [row for row in self.rows() if row["worker"] == ALL]
        workers = len(self.by_worker)
        footer = f"Merged from {workers} process(es)"
        if self.gone:
            footer += f"; {len(self.gone)} gone, counted with their last report: " + ", ".join(
                sorted(self.gone)
            )
        return _text_table(rows) + "\n" + footer

    def to_csv(self) -> str:
        """Every row, totals and per worker, as CSV with a header."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([title for _, title in COLUMNS])
        for row in self.rows():
            writer.writerow([row[key] for key, _ in COLUMNS])
        return out.getvalue()


def _rows(
    worker: str, figures: Mapping[str, dict[str, Any]], errors: Mapping[str, float]
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in sorted(figures):
        metric = figures[name]
        kind = metric["kind"]
        series = metric["series"]
        labels: list[tuple[str, Any]] = [(label, series[label]) for label in sorted(series)]
        if len(series) > 1 or (len(series) == 1 and "" not in series):
            state = None
            for each in series.values():
                state = _merge_state(kind, state, each)
            labels.append(("(all)", state))
        for label, state in labels:
            rows.append(_row(worker, name, kind, label, state, errors.get(name, 0.01)))
    return rows


def _row(worker: str, name: str, kind: str, label: str, state: Any, error: float) -> dict[str, Any]:
    row: dict[str, Any] = {key: "" for key, _ in COLUMNS}
    row.update(worker=worker, metric=name, label=label, kind=kind)
    if kind == "counter":
        row["count"] = state
        row["sum"] = state
        return row
    count, total, low, high = state[:4]
    row.update(count=count, sum=total, mean=total / count if count else "", min=low, max=high)
    if kind == "histogram":
        for q in PERCENTILES:
            row[f"p{round(q * 100)}"] = percentile(state, error, q)
    return row


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _text_table(rows: Iterable[dict[str, Any]]) -> str:
    keys = [key for key, _ in COLUMNS if key != "worker"]
    titles = dict(COLUMNS)
    cells = [[titles[key] for key in keys]]
    cells += [[_format(row[key]) for key in keys] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(keys))]
    lines = [
        "  ".join(
            cell.ljust(width) if i < 3 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in cells
    ]
    separator = "-" * len(lines[0])
    return "\n".join(["Custom metrics", lines[0], separator, *lines[1:]])
