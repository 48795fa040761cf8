"""The listener figures of every process, merged on the master and printed at quit (and with
``--csv`` written), so that a drop or an error on a worker shows in a headless run.

Each worker adds its cumulative figures to every Locust report: per pool (calls submitted,
completed, failed, dropped, the queue's high-water mark) and per hook (listener errors), plus
per listener calls and errors where its listeners are counted (the Listeners tab or
``LOCUST_EVENTS_PROFILE=1``; a headless run wraps no listener, so it has no per-listener
rows). The master keeps each worker's latest figures (a gone worker's last ones count) and at
quit prints the sums beside Locust's tables.
"""

from __future__ import annotations

import logging
from typing import Any, Final, final

from locust.runners import (
    STATE_MISSING,
    STATE_STOPPED,
    STATE_STOPPING,
    MasterRunner,
    WorkerRunner,
)

from ._events import Events
from ._listener_stats import Snapshot, aggregate, snapshot, to_csv

__all__ = ["CSV_SUFFIX", "REPORT_KEY", "attach"]

#: The key of a worker's figures in its report to the master.
REPORT_KEY: Final = "locust_events_listener_figures"
#: What ``--csv PREFIX`` writes the figures to: ``PREFIX`` followed by this.
CSV_SUFFIX: Final = "_listeners.csv"

_console: Final = logging.getLogger("locust.stats_logger")


def figures_of(registry: Events, worker: str) -> Snapshot:
    """This process's figures: the listener and pool rows, and each hook's listener errors."""
    snap = snapshot(registry, worker)
    snap["hooks"] = [
        {"worker": worker, "hook": name, "errors": hook.error_count}
        for name, hook in sorted(registry.hooks.items())
        if hook.error_count
    ]
    return snap


def merge(by_worker: dict[str, Snapshot], gone: set[str]) -> Snapshot:
    """Every process's figures summed (worker ``all``), then each one's."""
    merged = aggregate(by_worker, gone=gone)
    errors: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    for worker, snap in by_worker.items():
        for row in snap.get("hooks", []):
            errors[row["hook"]] = errors.get(row["hook"], 0) + row["errors"]
            rows.append({**row, "worker": f"{worker} (gone)" if worker in gone else worker})
    merged["hooks"] = [
        *(
            {"worker": "all", "hook": hook, "errors": count}
            for hook, count in sorted(errors.items())
        ),
        *rows,
    ]
    return merged


def table(merged: Snapshot, processes: int, gone: set[str]) -> str:
    """The sums as text: pools, hooks with listener errors, and counted listeners."""
    lines = [f"Listeners, merged from {processes} process(es)"]
    if gone:
        lines[0] += f"; {len(gone)} gone, counted with their last report: " + ", ".join(
            sorted(gone)
        )
    pools = [row for row in merged["pools"] if row["worker"] == "all"]
    # The pool's pressure too: calls timed out, fires that waited for room and their seconds
    # (absent from a worker on an older version: shown as 0).
    keys = (
        *("pool", "submitted", "completed", "failed", "dropped", "high_water", "queued"),
        *("timed_out", "waited", "time_waited"),
    )
    lines.append("  ".join(f"{key:>11}" if i else f"{key:<30}" for i, key in enumerate(keys)))
    for row in pools:
        values = [row.get(key, 0) for key in keys]
        cells = [f"{value:>11}" if i else f"{value:<30}" for i, value in enumerate(values)]
        lines.append("  ".join(cells))
    if not pools:
        lines.append("(no listener pool)")
    errors = [row for row in merged["hooks"] if row["worker"] == "all"]
    lines.append(
        "listener errors: "
        + (", ".join(f"{row['hook']} {row['errors']}" for row in errors) if errors else "none")
    )
    for row in (r for r in merged["listeners"] if r["worker"] == "all"):
        lines.append(
            f"{row['hook']:<16} {row['listener']:<40} calls {row['calls']:>9}"
            f"  errors {row['errors']:>6}"
        )
    return "\n".join(lines)


@final
class ListenerFiguresAtQuit:
    """One Locust process's side: what a worker sends, what a master keeps and prints."""

    def __init__(self, registry: Events, environment: Any) -> None:
        self.registry: Final = registry
        self.environment: Final = environment
        #: The latest figures of each worker, by client id (kept after it leaves).
        self.by_worker: dict[str, Snapshot] = {}
        #: Workers found missing while the test ran (they still count).
        self.gone: set[str] = set()

    def add_to_report(self, data: dict[str, Any], **kwargs: Any) -> None:
        data[REPORT_KEY] = figures_of(self.registry, "worker")

    def on_worker_report(self, client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
        figures = data.get(REPORT_KEY)
        if figures is not None:
            self.by_worker[client_id] = figures
        runner = self.environment.runner
        if runner.state in (STATE_STOPPING, STATE_STOPPED):
            return  # workers leaving now are let go by the master, not gone
        clients = runner.clients
        self.gone = {
            worker
            for worker in self.by_worker
            if worker not in clients or clients[worker].state == STATE_MISSING
        }

    def at_quit(self, **kwargs: Any) -> None:
        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            clients = runner.clients
            gone = self.gone | {
                w for w in self.by_worker if w in clients and clients[w].state == STATE_MISSING
            }
            by_worker = {"master": figures_of(self.registry, "master"), **self.by_worker}
        else:
            gone = set()
            by_worker = {"local": figures_of(self.registry, "local")}
        merged = merge(by_worker, gone)
        if not (merged["pools"] or merged["hooks"] or merged["listeners"]):
            return  # no pool, no error, nothing counted: nothing to say
        _console.info("\n%s\n", table(merged, len(by_worker), gone))
        prefix = getattr(getattr(self.environment, "parsed_options", None), "csv_prefix", None)
        if prefix:
            with open(f"{prefix}{CSV_SUFFIX}", "w", newline="", encoding="utf-8") as file:
                file.write(to_csv(merged))
                file.write("\nWorker,Hook,Listener errors\n")
                for row in merged["hooks"]:
                    file.write(f"{row['worker']},{row['hook']},{row['errors']}\n")


def attach(registry: Events, environment: Any) -> None:
    """Wire the figures into the Locust run of ``environment`` (at ``init``)."""
    if getattr(environment, "locust_events_listener_figures", None) is not None:
        return
    figures = ListenerFiguresAtQuit(registry, environment)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        registry.report_to_master.add_listener(figures.add_to_report)
    else:
        if isinstance(runner, MasterRunner):
            registry.worker_report.add_listener(figures.on_worker_report)
        registry.quit.add_listener(figures.at_quit)
    environment.locust_events_listener_figures = figures
