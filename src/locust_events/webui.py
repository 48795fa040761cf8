"""The Listeners tab in Locust's web UI: each listener's calls, errors and cost, and each pool's.

Turned on by the Locust integration whenever Locust's web UI runs (a local run or a
master); a headless run wraps nothing and costs nothing. It then:

- counts every call and error of every listener and times one call in :data:`SAMPLE_EVERY`
  (``LOCUST_EVENTS_SAMPLE_EVERY`` in the environment), through the registry's profiler;
- adds a **Listeners** tab through Locust's own extension points (``extended_tabs``,
  ``extended_tables``, ``extended_stats`` in ``/stats/requests``, ``extended_csv_files``),
  refreshed with Locust's other tabs;
- serves ``GET /locust-events/listeners`` (JSON ``{"listeners": [...], "pools": [...]}``)
  and ``/locust-events/listeners.csv``;
- on a master, asks the workers (through the options Locust sends with each spawn message)
  to count too; they send their figures in Locust's own ``report_to_master`` messages, and
  the master shows them summed and per worker. A worker that leaves keeps its last figures,
  marked as gone.

``LOCUST_EVENTS_LISTENERS_TAB=0`` leaves the tab (and the counting) off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, final

from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from ._events import Events
from ._listener_stats import (
    LISTENER_COLUMNS,
    POOL_COLUMNS,
    Snapshot,
    aggregate,
    snapshot,
    to_csv,
)
from ._settings import LISTENERS_TAB_VARIABLE, SAMPLE_EVERY_VARIABLE, switch, whole_number

__all__ = ["SAMPLE_EVERY", "TAB_KEY", "ListenersTab", "attach", "sample_every_from_environment"]

#: The tab's key in Locust's UI (and in ``extended_stats``).
TAB_KEY: Final = "locust-events-listeners"
#: Where the JSON and the CSV are served, under Locust's ``--web-base-path``.
JSON_PATH: Final = "/locust-events/listeners"
CSV_PATH: Final = "/locust-events/listeners.csv"
#: The key of a worker's figures in its report to the master.
REPORT_KEY: Final = "locust_events_listeners"
#: The option the master sets in its parsed options, which Locust sends to every worker with
#: each spawn message: the workers' ``sample_every`` (absent: the workers do not count).
OPTION: Final = "locust_events_listeners_sample_every"
SWITCH_VARIABLE: Final = LISTENERS_TAB_VARIABLE

#: One listener call in this many is timed; every call is counted. A locustfile may change
#: it before Locust's ``init`` fires (``locust_events.webui.SAMPLE_EVERY = 10``).
SAMPLE_EVERY: int = 100


def sample_every_from_environment() -> int:
    """``LOCUST_EVENTS_SAMPLE_EVERY`` when set, else :data:`SAMPLE_EVERY`.

    :raises ValueError: the variable is not a whole number of at least 1.
    """
    return whole_number(SAMPLE_EVERY_VARIABLE, SAMPLE_EVERY)


def _switched_off() -> bool:
    return not switch(SWITCH_VARIABLE, True)


def _table_rows(snap: Snapshot) -> list[dict[str, Any]]:
    """Listener rows, then pool rows in the same table (kind ``pool``), for Locust's UI."""
    rows: list[dict[str, Any]] = [
        {key: row.get(key, "") for key, _ in LISTENER_COLUMNS} for row in snap["listeners"]
    ]
    for pool in snap["pools"]:
        rows.append(
            {
                **{key: "" for key, _ in LISTENER_COLUMNS},
                **{key: pool[key] for key, _ in POOL_COLUMNS},
                "kind": "pool",
                "listener": pool["pool"],
                "calls": pool["submitted"],
                "errors": pool["failed"],
            }
        )
    return rows


#: The tab's columns: the listener columns, then the pool columns they do not have.
_TABLE_STRUCTURE: Final = [
    {"key": key, "title": title}
    for key, title in (
        *LISTENER_COLUMNS,
        *(column for column in POOL_COLUMNS if column[0] not in dict(LISTENER_COLUMNS)),
    )
    if key not in ("submitted", "completed", "failed")
]


@final
class ListenersTab:
    """What one Locust process keeps for the tab: its registry and the workers' last reports."""

    def __init__(self, registry: Events, environment: Any) -> None:
        self.registry = registry
        self.environment = environment
        #: The latest figures each worker reported, by client id (kept after it leaves).
        self.worker_figures: dict[str, Snapshot] = {}

    @property
    def _runner(self) -> Any:
        return getattr(self.environment, "runner", None)

    def gone_workers(self) -> set[str]:
        """Workers that reported once but are no longer connected (quit, or missing)."""
        clients = getattr(self._runner, "clients", {})
        return {
            worker
            for worker in self.worker_figures
            if worker not in clients or clients[worker].state == STATE_MISSING
        }

    def figures(self) -> Snapshot:
        """What the tab shows now: this process's figures, or on a master everybody's."""
        if not isinstance(self._runner, MasterRunner):
            return snapshot(self.registry, "local")
        return aggregate(
            {"master": snapshot(self.registry, "master"), **self.worker_figures},
            gone=self.gone_workers(),
        )

    def on_worker_report(self, client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
        """Keep the figures a worker sent with its report (each report has them all)."""
        figures = data.get(REPORT_KEY)
        if figures is not None:
            self.worker_figures[client_id] = figures

    def install(self, web_ui: Any) -> None:
        """Add the tab, its table, the CSV link and the routes to Locust's web UI."""
        from flask import Response, request

        options = getattr(self.environment, "parsed_options", None)
        base = getattr(options, "web_base_path", "") or ""
        app = web_ui.app
        guard: Callable[[Callable[..., Any]], Callable[..., Any]] = getattr(
            web_ui, "auth_required_if_enabled", lambda view: view
        )

        def listeners_json() -> Response:
            return Response(json.dumps(self.figures()), mimetype="application/json")

        def listeners_csv() -> Response:
            return Response(
                to_csv(self.figures()),
                mimetype="text/csv",
                headers={"Content-Disposition": "attachment;filename=locust_listeners.csv"},
            )

        app.add_url_rule(base + JSON_PATH, "locust_events_listeners", guard(listeners_json))
        app.add_url_rule(base + CSV_PATH, "locust_events_listeners_csv", guard(listeners_csv))

        stats_path = base + "/stats/requests"

        def add_listener_rows(response: Response) -> Response:
            if request.path != stats_path or response.status_code != 200:
                return response
            body = json.loads(response.get_data())
            extended = [
                entry for entry in body.get("extended_stats") or [] if entry.get("key") != TAB_KEY
            ]
            extended.append({"key": TAB_KEY, "data": _table_rows(self.figures())})
            body["extended_stats"] = extended
            response.set_data(json.dumps(body))
            return response

        app.after_request(add_listener_rows)

        args = web_ui.template_args
        args["extended_tabs"] = [
            *(tab for tab in args.get("extended_tabs") or [] if tab.get("key") != TAB_KEY),
            {"title": "Listeners", "key": TAB_KEY},
        ]
        args["extended_tables"] = [
            *(table for table in args.get("extended_tables") or [] if table.get("key") != TAB_KEY),
            {"key": TAB_KEY, "structure": _TABLE_STRUCTURE},
        ]
        args["extended_csv_files"] = [
            *(f for f in args.get("extended_csv_files") or [] if f.get("href") != "." + CSV_PATH),
            {"href": "." + CSV_PATH, "title": "Download listeners CSV"},
        ]


def _start_counting(registry: Events, sample_every: int) -> None:
    if registry.profiler is None:
        # The tab shows the figures: the table is logged at quit only when asked for.
        registry.start_profiling(sample_every, report_at_shutdown=False)


def attach(registry: Events, environment: Any, web_ui: Any) -> ListenersTab | None:
    """Set the tab up for a Locust process at ``init``; returns it, or None where it is off.

    With a web UI: count from now on and add the tab. On a master, also tell the workers to
    count (through the parsed options Locust sends them) and keep their reports. On a worker:
    count from the test's start when its master asked, and send the figures with each report.
    Without either (a headless local run, or ``LOCUST_EVENTS_LISTENERS_TAB=0``): nothing.
    """
    if _switched_off():
        return None
    existing: ListenersTab | None = getattr(environment, "locust_events_listeners_tab", None)
    if existing is not None:  # init fired again for the same environment
        return existing
    runner = getattr(environment, "runner", None)
    tab = ListenersTab(registry, environment)
    if isinstance(runner, WorkerRunner):

        def count_if_master_asks(environment: Any, **kwargs: Any) -> None:
            sample_every = getattr(getattr(environment, "parsed_options", None), OPTION, None)
            if sample_every:
                _start_counting(registry, int(sample_every))

        def send_figures(data: dict[str, Any], **kwargs: Any) -> None:
            if registry.profiler is not None:
                data[REPORT_KEY] = snapshot(registry, "worker")

        registry.test_start.add_listener(count_if_master_asks)
        registry.report_to_master.add_listener(send_figures)
        environment.locust_events_listeners_tab = tab
        return tab
    if web_ui is None:
        return None
    sample_every = sample_every_from_environment()
    _start_counting(registry, sample_every)
    if isinstance(runner, MasterRunner):
        options = getattr(environment, "parsed_options", None)
        if options is not None:
            setattr(options, OPTION, sample_every)
        registry.worker_report.add_listener(tab.on_worker_report)
    tab.install(web_ui)
    environment.locust_events_listeners_tab = tab
    return tab
