"""The Listeners tab's table in Locust's web UI: the rows people act on, in columns that fit.

The JSON and the CSV carry every figure of every row, one per column; the tab folds related
figures into one cell ("mean · median · p95 · max", three significant digits) so that the
table fits a 1,280-pixel window (a cell wraps between its figures where the window is
narrower, or the figures longer: a slow run's), and leaves out the rows nobody acts on:
Locust's and this package's own listeners, and listeners never called. A last row says how
many were left out and where they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from ._listener_stats import Row, Snapshot

__all__ = ["table_rows", "table_structure"]

#: The tab's columns, key and title, in order (a master's table starts with "Worker").
_COLUMNS: Final = (
    ("hook", "Hook"),
    ("listener", "Listener or pool"),
    ("kind", "Kind"),
    ("calls", "Calls · errors"),
    ("user_cost", "Users pay µs mean · median · p95 · max"),
    ("user_total_ms", "Users pay ms in all"),
    ("run_time", "Runs µs mean · p95 · max"),
    ("queue_wait", "Queue wait ms mean · max"),
    ("pool_now", "Pool: queued · waiting for room · running · high-water · dropped"),
)


#: Between the figures of one cell: spaced, so that a narrow window wraps the cell there.
_SEPARATOR: Final = " · "


def table_structure(distributed: bool) -> list[dict[str, str]]:
    """The tab's columns for Locust's UI: with a "Worker" column first on a master."""
    columns = (("worker", "Worker"), *_COLUMNS) if distributed else _COLUMNS
    return [{"key": key, "title": title} for key, title in columns]


def _figure(value: float) -> str:
    """Three significant digits (whole numbers from 1,000), enough to compare rows and short
    enough for the column."""
    text = f"{value:.3g}"
    return f"{value:,.0f}" if abs(value) >= 1000 or "e" in text else text


def _duration(value: float) -> str:
    """A duration as :func:`_figure` shows it, but at most five characters wide, so that a
    slow run widens no column: from 10,000 on, three significant digits and ``k``
    (thousands), ``M`` or ``G``, as ``12.3k``; below 1, two, and ``<0.01`` below that."""
    if value and abs(value) < 0.01:
        return "<0.01"
    if abs(value) < 1:
        return f"{value:.2g}"
    if abs(value) < 9999.5:
        return _figure(value)
    for scale, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "G")):
        text = f"{value / scale:.3g}"
        if "e" not in text:  # under 1,000 of this unit, rounded
            return text + suffix
    return f"{value / 1e9:.0f}G"


def _joined(values: Iterable[Any], shown: Callable[[float], str] = _figure) -> str:
    """Figures in one cell, each ``shown``, `` · `` between them; nothing when none was
    measured, ``-`` for one that was not."""
    values = list(values)
    if all(value is None for value in values):
        return ""
    return _SEPARATOR.join("-" if value is None else shown(value) for value in values)


def _worker(name: str) -> str:
    """A worker's name short enough for its column: Locust names a worker
    ``<host>_<32 hex digits>``; the first six digits tell a run's workers apart."""
    host, _, suffix = name.rpartition("_")
    if host and len(suffix) == 32 and all(c in "0123456789abcdef" for c in suffix):
        return f"{host}_{suffix[:6]}"
    return name


def _listener_cells(row: Row) -> dict[str, Any]:
    return {
        "worker": _worker(row["worker"]),
        "hook": row["hook"],
        "listener": row["listener"],
        "kind": row["kind"],
        "calls": _joined((row["calls"], row["errors"])),
        "user_cost": _joined(
            (row[f"user_{key}_us"] for key in ("mean", "p50", "p95", "max")), _duration
        ),
        "user_total_ms": ""
        if row["user_total_s"] is None
        else _duration(row["user_total_s"] * 1e3),
        "run_time": _joined((row[f"{key}_us"] for key in ("mean", "p95", "max")), _duration),
        "queue_wait": _joined((row["mean_wait_ms"], row["max_wait_ms"]), _duration),
        "pool_now": "",
    }


def _pool_cells(row: Row) -> dict[str, Any]:
    return {
        "worker": _worker(str(row.get("worker", ""))),
        "hook": "",
        "listener": row.get("pool", ""),
        "kind": "pool",
        "calls": _joined((row.get("submitted"), row.get("failed"))),
        "user_cost": "",
        "user_total_ms": _duration(float(row.get("time_waited", 0.0)) * 1e3)
        if row.get("waited")
        else "",
        "run_time": "",
        "queue_wait": "",
        "pool_now": _joined(
            row.get(key)
            for key in ("queued", "waiting_for_room", "running", "high_water", "dropped")
        ),
    }


def _shown(row: Row) -> bool:
    """Whether the tab shows a listener row: called at least once, and written by the user."""
    return bool(row["calls"]) and not row.get("internal", False)


def table_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """The tab's rows: the user's called listeners, the pools, and a note of what was left out."""
    shown = [row for row in snap["listeners"] if _shown(row)]
    rows = [_listener_cells(row) for row in shown]
    rows += [_pool_cells(row) for row in snap["pools"]]
    hidden = len(snap["listeners"]) - len(shown)
    if hidden:
        note = {column["key"]: "" for column in table_structure(distributed=True)}
        note["listener"] = (
            f"{hidden} more: Locust's own listeners, or never called (in the CSV and the JSON)"
        )
        rows.append(note)
    return rows
