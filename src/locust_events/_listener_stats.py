"""Listener and pool figures as plain rows: one process's snapshot, and the sum over workers.

A snapshot is what the Listeners tab, its JSON and its CSV show, and what a Locust worker
sends to its master in each report. It is plain data (numbers and strings) so that it
survives Locust's msgpack transport, and cumulative, so the latest report always wins.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from ._histogram import Histogram, as_pairs, merge, quantile

if TYPE_CHECKING:
    from ._events import Events
    from ._pool import PoolStats

__all__ = [
    "CUMULATIVE_POOL_FIELDS",
    "INTERNAL_PREFIXES",
    "LISTENER_COLUMNS",
    "POOL_COLUMNS",
    "Snapshot",
    "aggregate",
    "pool_rows",
    "shorten_listener",
    "snapshot",
    "to_csv",
]

Row = dict[str, Any]
Snapshot = dict[str, list[Row]]

#: The most characters the tab gives a listener's name; longer ones lose leading modules.
SHORT_NAME_LENGTH: Final = 40

#: Listener columns: key and title, in the order the CSV shows them. Figures are numbers, or
#: empty (null in JSON) where they do not apply or nothing was measured yet.
LISTENER_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("worker", "Worker"),
    ("hook", "Hook"),
    ("listener", "Listener"),
    ("kind", "Kind"),
    ("pool", "Pool"),
    ("calls", "Calls"),
    ("errors", "Errors"),
    ("user_mean_us", "Users pay mean µs"),
    ("user_p50_us", "Users pay median µs"),
    ("user_p95_us", "Users pay p95 µs"),
    ("user_max_us", "Users pay max µs"),
    ("user_total_s", "Users pay in all s"),
    ("mean_us", "Runs mean µs"),
    ("p50_us", "Runs median µs"),
    ("p95_us", "Runs p95 µs"),
    ("max_us", "Runs max µs"),
    ("total_s", "Runs in all s"),
    ("mean_wait_ms", "Mean queue wait ms"),
    ("max_wait_ms", "Max queue wait ms"),
)

#: Pool columns, as above: the fields of ``PoolStats`` a person reads, with their titles.
#: Every other field of ``PoolStats`` is in the JSON too, under its own name.
POOL_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("worker", "Worker"),
    ("pool", "Pool"),
    ("pending", "Pending now"),
    ("queued", "Queued now"),
    ("waiting_for_room", "Waiting for room now"),
    ("running", "Running"),
    ("high_water", "High-water"),
    ("dropped", "Dropped"),
    ("oldest_pending_age", "Oldest pending s"),
    ("submitted", "Submitted"),
    ("completed", "Completed"),
    ("failed", "Failed"),
    ("timed_out", "Timed out"),
    ("waited", "Users waited"),
    ("time_waited", "Time users waited s"),
)

#: A listener row's raw figures (what a worker sends, and :func:`aggregate` adds up), each
#: with its value before anything was measured. A row from a worker that lacks one (another
#: version, during a rolling upgrade) gets this value rather than breaking the master's UI.
_RAW_LISTENER_FIELDS: Final[Mapping[str, Any]] = {
    "hook": "",
    "listener_full": "",
    "kind": "sync",
    "pool": "",
    "calls": 0,
    "errors": 0,
    "events": 0,
    "timed_calls": 0,
    "total_seconds": 0.0,
    "max_seconds": 0.0,
    "durations": [],
    "timed_fires": 0,
    "fire_total_seconds": 0.0,
    "fire_max_seconds": 0.0,
    "fire_costs": [],
    "wait_total_seconds": 0.0,
    "wait_max_seconds": 0.0,
}
_SUMMED_LISTENER_FIELDS: Final = (
    "calls",
    "errors",
    "events",
    "timed_calls",
    "total_seconds",
    "timed_fires",
    "fire_total_seconds",
    "wait_total_seconds",
)
_MAXED_LISTENER_FIELDS: Final = ("max_seconds", "fire_max_seconds", "wait_max_seconds")
_HISTOGRAM_FIELDS: Final = ("durations", "fire_costs")
_KINDS: Final = frozenset({"sync", "spawned", "batch"})
#: Pool figures that are the most of something (or an age): over workers, the largest. Every
#: other number is a count, and counts add up (the high-water marks too, so that the summed
#: row's pending never exceeds its high-water mark, as each worker's does not).
_MAXED_POOL_FIELDS: Final = frozenset({"oldest_pending_age"})
#: Pool counters that only grow: a reset of the figures starts them from what they were then.
CUMULATIVE_POOL_FIELDS: Final = (
    "submitted",
    "completed",
    "failed",
    "dropped",
    "discarded",
    "timed_out",
    "waited",
    "time_waited",
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


def _micros(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e6, 1)


def _millis(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1e3, 3)


def _pool_row(
    worker: str, name: str, maxsize: int, stats: PoolStats, since: Mapping[str, Any] | None
) -> Row:
    """A pool's row: every field of its ``PoolStats`` (counters from ``since``, if given), and
    ``pending`` split in two: ``queued``, what the queue holds (at most ``maxsize``, so never
    above the high-water mark once the queue filled), and ``waiting_for_room``, the rest
    (firers waiting for room in a full queue, calls on their way from other threads)."""
    row: Row = {"worker": worker, "pool": name, "maxsize": maxsize}
    for spec in dataclasses.fields(stats):
        value = getattr(stats, spec.name)
        row[spec.name] = round(value, 3) if isinstance(value, float) else value
    for key in CUMULATIVE_POOL_FIELDS:
        value = row.get(key)
        if since is not None and isinstance(value, int | float):
            row[key] = type(value)(round(value - since.get(key, 0), 3))
    row["queued"] = min(stats.pending, maxsize)
    row["waiting_for_room"] = stats.pending - row["queued"]
    return row


def pool_rows(
    registry: Events, worker: str = "local", since: Mapping[str, Mapping[str, Any]] | None = None
) -> list[Row]:
    """A row per pool of ``registry``, by name; ``since`` holds counters to start from, by pool."""
    since = since or {}
    return [
        _pool_row(worker, pool.name, pool.maxsize, pool.stats, since.get(pool.name))
        for pool in sorted(registry.pools, key=lambda pool: pool.name)
    ]


def snapshot(
    registry: Events, worker: str = "local", since: Mapping[str, Mapping[str, Any]] | None = None
) -> Snapshot:
    """The registry's listener and pool figures now, as ``{"listeners": [...], "pools": [...]}``.

    Listener rows come from the registry's running (or last) profiler, one per listener and
    hook, the costliest to the users first; pool rows from every pool of the registry (their
    counters from ``since``, by pool, where given). Each row also carries the raw sums and
    histograms (``timed_calls``, ``total_seconds``, ``durations``, ...) that :func:`aggregate`
    needs to compute means and percentiles over workers.
    """
    profiler = registry.profiler
    listeners: list[Row] = []
    for profile in profiler.profiles if profiler is not None else ():
        listeners.append(
            {
                "worker": worker,
                "hook": profile.hook,
                "listener_full": profile.listener,
                "kind": profile.kind,
                "pool": profile.pool,
                "calls": profile.calls,
                "errors": profile.errors,
                "events": profile.events,  # batch listeners: the events in their batches
                "timed_calls": profile.timed_calls,
                "total_seconds": profile.total_seconds,
                "max_seconds": profile.max_seconds,
                "durations": as_pairs(profile.durations),
                "timed_fires": profile.timed_fires,
                "fire_total_seconds": profile.fire_total_seconds,
                "fire_max_seconds": profile.fire_max_seconds,
                "fire_costs": as_pairs(profile.fire_costs),
                "wait_total_seconds": profile.queue_wait_total_seconds,
                "wait_max_seconds": profile.queue_wait_max_seconds,
            }
        )
    return {
        "listeners": [_with_derived(row) for row in listeners],
        "pools": pool_rows(registry, worker, since),
    }


def _figures(
    timed: int, total: float, most: float, pairs: list[list[int]]
) -> tuple[float | None, float | None, float | None, float | None]:
    """Mean, median, 95th percentile and maximum in seconds; all None when nothing was timed."""
    if not timed:
        return None, None, None, None
    histogram: Histogram = {}
    merge(histogram, pairs)
    median, p95 = quantile(histogram, 0.5), quantile(histogram, 0.95)
    return (
        total / timed,
        None if median is None else min(median, most),
        None if p95 is None else min(p95, most),
        most,
    )


def _with_derived(row: Row) -> Row:
    """Add the figures a person reads to a raw listener row: numbers, or None (JSON null).

    "Users pay" is the fire's cost: the whole call for a sync listener, the enqueue for a
    spawned one, not measured for a batch listener (None). "Runs" is the listener's own
    duration. Totals are estimates over every call: the timed calls' mean times the calls.
    """
    kind, calls = row["kind"], row["calls"]
    runs = _figures(row["timed_calls"], row["total_seconds"], row["max_seconds"], row["durations"])
    if kind == "sync":
        pays = runs
    elif kind == "spawned":
        pays = _figures(
            row["timed_fires"],
            row["fire_total_seconds"],
            row["fire_max_seconds"],
            row["fire_costs"],
        )
    else:
        pays = (None, None, None, None)
    for prefix, (mean, median, p95, most) in (("user_", pays), ("", runs)):
        row[f"{prefix}mean_us"] = _micros(mean)
        row[f"{prefix}p50_us"] = _micros(median)
        row[f"{prefix}p95_us"] = _micros(p95)
        row[f"{prefix}max_us"] = _micros(most)
    row["user_total_s"] = None if pays[0] is None else round(pays[0] * calls, 6)
    row["total_s"] = None if runs[0] is None else round(runs[0] * calls, 6)
    waited = kind == "spawned" and row["timed_calls"] > 0
    row["mean_wait_ms"] = (
        _millis(row["wait_total_seconds"] / row["timed_calls"]) if waited else None
    )
    row["max_wait_ms"] = _millis(row["wait_max_seconds"]) if waited else None
    row["listener"] = shorten_listener(row["listener_full"])
    if kind == "batch" and calls:
        row["listener"] += f" ({row['events'] / calls:.0f} per batch)"
    row["internal"] = row["listener_full"].startswith(INTERNAL_PREFIXES)
    return row


#: Where listeners the user did not write come from: Locust's own, and this package's.
INTERNAL_PREFIXES: Final = ("locust.", "locust_events.")


def _usable(value: Any, default: Any) -> Any:
    """``value`` if it has the type of ``default`` (an int where a float is wanted too)."""
    if isinstance(default, bool) or isinstance(value, bool):
        return default
    if isinstance(default, float) and isinstance(value, int | float):
        return float(value)
    if isinstance(default, list):
        return value if isinstance(value, list | tuple) else default
    return value if isinstance(value, type(default)) else default


def _reported_listener_row(row: Any) -> Row | None:
    """A listener row as a worker reported it, with every raw field of the right type.

    A field missing or of another type (a worker running another version) gets its value
    before any measurement; a row that is not a mapping, or has no listener, is skipped.
    """
    if not isinstance(row, Mapping):
        return None
    clean: Row = {
        key: _usable(row.get(key), default) for key, default in _RAW_LISTENER_FIELDS.items()
    }
    if not clean["listener_full"]:
        clean["listener_full"] = str(row.get("listener") or "")
    if not clean["listener_full"] or clean["kind"] not in _KINDS:
        return None
    for key in _HISTOGRAM_FIELDS:
        clean[key] = [
            pair
            for pair in clean[key]
            if isinstance(pair, list | tuple)
            and len(pair) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
        ]
    return clean


def _reported_pool_row(row: Any) -> Row | None:
    """A pool row as a worker reported it: its numbers kept, anything else dropped."""
    if not isinstance(row, Mapping) or not isinstance(row.get("pool"), str):
        return None
    return {
        "pool": row["pool"],
        **{
            key: value
            for key, value in row.items()
            if isinstance(key, str)
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        },
    }


def _add_listener_row(into: Row, row: Row) -> None:
    for key in _SUMMED_LISTENER_FIELDS:
        into[key] += row[key]
    for key in _MAXED_LISTENER_FIELDS:
        into[key] = max(into[key], row[key])
    for key in _HISTOGRAM_FIELDS:
        histogram: Histogram = {}
        merge(histogram, into[key])
        merge(histogram, row[key])
        into[key] = as_pairs(histogram)


def _add_pool_row(into: Row, row: Row) -> None:
    for key, value in row.items():
        if key in ("worker", "pool") or not isinstance(value, int | float):
            continue
        mine = into.get(key, 0)
        into[key] = max(mine, value) if key in _MAXED_POOL_FIELDS else mine + value


def aggregate(
    by_worker: Mapping[str, Any], gone: Iterable[str] = (), total: str = "all"
) -> Snapshot:
    """One snapshot of several processes: a summed row per listener and pool, then each worker's.

    Summed rows are named ``total`` in their ``worker`` column. Counts, sums and histograms
    add up; maxima and the oldest pending age take the largest. Pools' high-water marks add
    up like their pending counts (each worker's queue is its own): the sum is what all the
    queues held at most, had they peaked together. Rows of a worker in ``gone`` keep their
    last figures, marked ``"<worker> (gone)"``, and still count towards the sums. What a
    worker reported is checked field by field first (see :func:`_reported_listener_row`):
    a report from another version shows what it has, and never breaks the rest.
    """
    gone = set(gone)
    summed_listeners: dict[tuple[str, str, str, str], Row] = {}
    summed_pools: dict[str, Row] = {}
    per_worker_listeners: list[Row] = []
    per_worker_pools: list[Row] = []
    for worker, snap in by_worker.items():
        label = f"{worker} (gone)" if worker in gone else worker
        listeners = snap.get("listeners") if isinstance(snap, Mapping) else None
        for reported in listeners if isinstance(listeners, list) else ():
            row = _reported_listener_row(reported)
            if row is None:
                continue
            per_worker_listeners.append({**row, "worker": label})
            key = (row["hook"], row["listener_full"], row["kind"], row["pool"])
            into = summed_listeners.get(key)
            if into is None:
                summed_listeners[key] = {**row, "worker": total}
            else:
                _add_listener_row(into, row)
        pools = snap.get("pools") if isinstance(snap, Mapping) else None
        for reported in pools if isinstance(pools, list) else ():
            pool = _reported_pool_row(reported)
            if pool is None:
                continue
            per_worker_pools.append({**pool, "worker": label})
            into = summed_pools.get(pool["pool"])
            if into is None:
                summed_pools[pool["pool"]] = {**pool, "worker": total}
            else:
                _add_pool_row(into, pool)
    totals = [_with_derived(row) for row in summed_listeners.values()]
    totals.sort(key=lambda row: (row["user_total_s"] or 0.0, row["total_s"] or 0.0), reverse=True)
    return {
        "listeners": [*totals, *(_with_derived(row) for row in per_worker_listeners)],
        "pools": [*sorted(summed_pools.values(), key=lambda row: row["pool"]), *per_worker_pools],
    }


#: A spreadsheet reads a cell starting with one of these as a formula (or, for "-" and "+",
#: may): a name starting so is written with a leading apostrophe, which shows as text.
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet shows as it is: None empty, text never a formula."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(snap: Snapshot) -> str:
    """The snapshot as CSV: the listener rows, a blank line, then the pool rows.

    Names (listeners, hooks, pools, workers) come from user code: one that starts like a
    spreadsheet formula gets a leading apostrophe, so opening the file never runs it.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    for columns, rows in ((LISTENER_COLUMNS, snap["listeners"]), (POOL_COLUMNS, snap["pools"])):
        if columns is POOL_COLUMNS:
            writer.writerow([])
        keys = [key for key, _ in columns]
        writer.writerow([title for _, title in columns])
        for row in rows:
            writer.writerow([_csv_cell(row.get(key)) for key in keys])
    return out.getvalue()
