"""Listener and pool figures as plain rows: one process's snapshot, and the sum over workers.

A snapshot is what the Listeners tab, its JSON and its CSV show, and what a Locust worker
sends to its master in each report. It is plain data (numbers and strings) so that it
survives Locust's msgpack transport, and cumulative, so the latest report always wins.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ._events import Events

__all__ = [
    "LISTENER_COLUMNS",
    "POOL_COLUMNS",
    "Snapshot",
    "aggregate",
    "shorten_listener",
    "snapshot",
    "to_csv",
]

Row = dict[str, Any]
Snapshot = dict[str, list[Row]]

#: The most characters the tab gives a listener's name; longer ones lose leading modules.
SHORT_NAME_LENGTH: Final = 40

#: Listener columns: key and title, in the order the tab and the CSV show them.
LISTENER_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("worker", "Worker"),
    ("hook", "Hook"),
    ("listener", "Listener"),
    ("kind", "Kind"),
    ("pool", "Pool"),
    ("calls", "Calls"),
    ("errors", "Errors"),
    ("mean_us", "Mean µs"),
    ("max_us", "Max µs"),
    ("mean_wait_ms", "Mean queue wait ms"),
    ("max_wait_ms", "Max queue wait ms"),
)

#: Pool columns, as above.
POOL_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("worker", "Worker"),
    ("pool", "Pool"),
    ("queued", "Queued now"),
    ("running", "Running"),
    ("high_water", "High-water"),
    ("dropped", "Dropped"),
    ("oldest_pending_s", "Oldest pending s"),
    ("submitted", "Submitted"),
    ("completed", "Completed"),
    ("failed", "Failed"),
    ("timed_out", "Timed out"),
    ("waited", "Users waited"),
    ("time_waited_s", "Time users waited s"),
)


def shorten_listener(name: str, limit: int = SHORT_NAME_LENGTH) -> str:
    """``module.Class.method`` without as many leading parts as it takes to fit ``limit``.

    The function's own name and its class always stay: ``locust.stats.RequestStats.log``
    becomes ``…stats.RequestStats.log`` rather than being cut in the middle of a word. A
    function defined in another is named after it (``setup.<locals>.on_quit`` becomes
    ``setup.on_quit``), and one defined in a constructor after its class
    (``Runner.__init__.<locals>.on_request`` becomes ``Runner.on_request``).
    """
    name = name.replace(".__init__.<locals>.", ".").replace(".<locals>.", ".")
    if len(name) <= limit:
        return name
    parts = name.split(".")
    kept = parts[-2:] if len(parts) > 1 else parts
    for part in reversed(parts[:-2]):
        if len(part) + 1 + sum(len(p) + 1 for p in kept) > limit:
            break
        kept.insert(0, part)
    return "…" + ".".join(kept)


def _micros(seconds: float) -> float:
    return round(seconds * 1e6, 1)


def _millis(seconds: float) -> float:
    return round(seconds * 1e3, 3)


def snapshot(registry: Events, worker: str = "local") -> Snapshot:
    """The registry's listener and pool figures now, as ``{"listeners": [...], "pools": [...]}``.

    Listener rows come from the registry's running (or last) profiler, one per listener and
    hook, costliest (total measured time) first; pool rows from every pool of the registry.
    Each row also carries the raw sums (``timed_calls``, ``total_seconds``,
    ``wait_total_seconds``) that :func:`aggregate` needs to compute means over workers.
    """
    profiler = registry.profiler
    listeners: list[Row] = []
    for profile in profiler.profiles if profiler is not None else ():
        row: Row = {
            "worker": worker,
            "hook": profile.hook,
            "listener": shorten_listener(profile.listener),
            "listener_full": profile.listener,
            "kind": "batch" if profile.batched else "spawned" if profile.spawned else "sync",
            "pool": profile.pool,
            "calls": profile.calls,
            "errors": profile.errors,
            "timed_calls": profile.timed_calls,
            "total_seconds": profile.total_seconds,
            "max_seconds": profile.max_seconds,
            "wait_total_seconds": profile.queue_wait_total_seconds,
            "wait_max_seconds": profile.queue_wait_max_seconds,
        }
        if profile.batched:
            row["events"] = profile.events  # its calls are batches: the events in them
        listeners.append(row)
    pools: list[Row] = []
    for pool in sorted(registry.pools, key=lambda pool: pool.name):
        stats = pool.stats
        pools.append(
            {
                "worker": worker,
                "pool": pool.name,
                "queued": stats.pending,
                "running": stats.running,
                "high_water": stats.high_water,
                "dropped": stats.dropped,
                "oldest_pending_s": round(stats.oldest_pending_age, 3),
                "submitted": stats.submitted,
                "completed": stats.completed,
                "failed": stats.failed,
                "timed_out": stats.timed_out,
                "waited": stats.waited,
                "time_waited_s": round(stats.time_waited, 3),
            }
        )
    return {"listeners": [_with_derived(row) for row in listeners], "pools": pools}


def _with_derived(row: Row) -> Row:
    """Add the figures a person reads (means and maxima in µs or ms) to a raw listener row."""
    timed = row["timed_calls"]
    spawned = row["kind"] == "spawned"
    row["mean_us"] = _micros(row["total_seconds"] / timed) if timed else 0.0
    row["max_us"] = _micros(row["max_seconds"])
    row["mean_wait_ms"] = _millis(row["wait_total_seconds"] / timed) if spawned and timed else ""
    row["max_wait_ms"] = _millis(row["wait_max_seconds"]) if spawned else ""
    if row["kind"] == "batch" and row["calls"]:
        mean_batch = row["events"] / row["calls"]
        row["listener"] = f"{shorten_listener(row['listener_full'])} ({mean_batch:.0f} per batch)"
    return row


def aggregate(
    by_worker: Mapping[str, Snapshot], gone: Iterable[str] = (), total: str = "all"
) -> Snapshot:
    """One snapshot of several processes: a summed row per listener and pool, then each worker's.

    Summed rows are named ``total`` in their ``worker`` column. Counts and sums add up; maxima
    and the oldest pending age take the largest; the high-water mark takes the largest too
    (each worker's queue is its own). Rows of a worker in ``gone`` keep their last figures,
    marked ``"<worker> (gone)"``, and still count towards the sums.
    """
    gone = set(gone)
    summed_listeners: dict[tuple[str, str, str, str], Row] = {}
    summed_pools: dict[str, Row] = {}
    per_worker_listeners: list[Row] = []
    per_worker_pools: list[Row] = []
    for worker, snap in by_worker.items():
        label = f"{worker} (gone)" if worker in gone else worker
        for row in snap.get("listeners", []):
            per_worker_listeners.append({**row, "worker": label})
            key = (row["hook"], row["listener_full"], row["kind"], row["pool"])
            into = summed_listeners.get(key)
            if into is None:
                summed_listeners[key] = {**row, "worker": total}
                continue
            for field in ("calls", "errors", "timed_calls", "total_seconds", "wait_total_seconds"):
                into[field] += row[field]
            if "events" in row:
                into["events"] += row["events"]
            for field in ("max_seconds", "wait_max_seconds"):
                into[field] = max(into[field], row[field])
        for row in snap.get("pools", []):
            per_worker_pools.append({**row, "worker": label})
            into = summed_pools.get(row["pool"])
            if into is None:
                summed_pools[row["pool"]] = {**row, "worker": total}
                continue
            for field in ("queued", "running", "dropped", "submitted", "completed", "failed"):
                into[field] += row[field]
            for field in ("timed_out", "waited", "time_waited_s"):  # absent from older workers
                into[field] = into.get(field, 0) + row.get(field, 0)
            for field in ("high_water", "oldest_pending_s"):
                into[field] = max(into[field], row[field])
    totals = sorted(summed_listeners.values(), key=lambda row: row["total_seconds"], reverse=True)
    return {
        "listeners": [_with_derived(row) for row in (*totals, *per_worker_listeners)],
        "pools": [*sorted(summed_pools.values(), key=lambda row: row["pool"]), *per_worker_pools],
    }


def to_csv(snap: Snapshot) -> str:
    """The snapshot as CSV: the listener rows, a blank line, then the pool rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    for columns, rows in ((LISTENER_COLUMNS, snap["listeners"]), (POOL_COLUMNS, snap["pools"])):
        if columns is POOL_COLUMNS:
            writer.writerow([])
        keys = [key for key, _ in columns]
        writer.writerow([title for _, title in columns])
        for row in rows:
            writer.writerow([row.get(key, "") for key in keys])
    return out.getvalue()
