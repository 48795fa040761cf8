"""The Listeners tab in Locust's web UI: each listener's calls, errors and cost, and each pool's.

Turned on by the Locust integration whenever Locust's web UI runs (a local run or a
master); a headless run wraps nothing and costs nothing. It then:

- counts every call and error of every listener and times one call in :data:`SAMPLE_EVERY`
  (``--listeners-sample-every``), through the registry's profiler;
- adds a **Listeners** tab through Locust's own extension points (``extended_tabs``,
  ``extended_tables``, ``extended_stats`` in ``/stats/requests``, ``extended_csv_files``),
  refreshed with Locust's other tabs;
- serves ``GET /locust-events/listeners`` (JSON ``{"listeners": [...], "pools": [...]}``)
  and ``/locust-events/listeners.csv``;
- on a master, asks the workers (through the options Locust sends with each spawn message)
  to count too; they send their figures in Locust's own ``report_to_master`` messages, and
  the master shows them summed and per worker. A worker that leaves keeps its last figures,
  marked as gone.

``--listeners-tab off`` (or ``LOCUST_EVENTS_LISTENERS_TAB=0``) leaves the tab (and the
counting) off. Locust's "Reset Stats" starts the tab's figures afresh too.
"""

from __future__ import annotations

import logging
from typing import Any, Final, final

from locust.runners import STATE_MISSING, MasterRunner, WorkerRunner

from ._events import Events
from ._listener_stats import (
    CUMULATIVE_POOL_FIELDS,
    Snapshot,
    aggregate,
    snapshot,
    to_csv,
)
from ._listener_tab_table import table_rows, table_structure
from ._settings import LISTENERS_TAB_VARIABLE, SAMPLE_EVERY_VARIABLE, switch, whole_number
from ._web_tabs import add_tab

__all__ = [
    "SAMPLE_EVERY",
    "TAB_KEY",
    "ListenersTab",
    "attach",
    "sample_every_from_environment",
    "tab_wanted",
]

logger = logging.getLogger(__name__)

#: The tab's key in Locust's UI (and in ``extended_stats``).
TAB_KEY: Final = "locust-events-listeners"
#: Where the JSON and the CSV are served, under Locust's ``--web-base-path``.
JSON_PATH: Final = "/locust-events/listeners"
CSV_PATH: Final = "/locust-events/listeners.csv"
#: The key of a worker's figures in its report to the master.
REPORT_KEY: Final = "locust_events_listeners"
#: The message a master sends its workers when Locust's "Reset Stats" is pressed.
RESET_MESSAGE: Final = "locust_events_reset_listeners"
#: The option the master sets in its parsed options, which Locust sends to every worker with
#: each spawn message: the workers' ``sample_every`` (absent: the workers do not count).
OPTION: Final = "locust_events_listeners_sample_every"
SWITCH_VARIABLE: Final = LISTENERS_TAB_VARIABLE

#: One listener call in this many is timed; every call is counted. A locustfile may change
#: it before Locust's ``init`` fires (``locust_events.webui.SAMPLE_EVERY = 10``); the
#: ``--listeners-sample-every`` option, when given, wins.
SAMPLE_EVERY: int = 100


def sample_every_from_environment(options: Any = None) -> int:
    """The ``--listeners-sample-every`` option where Locust parsed it (also read from
    ``LOCUST_EVENTS_SAMPLE_EVERY`` and ``locust.conf``), else that variable, else
    :data:`SAMPLE_EVERY`.

    :raises ValueError: the variable is not a whole number of at least 1.
    """
    chosen = getattr(options, "listeners_sample_every", None)
    if chosen is not None:
        return int(chosen)
    return whole_number(SAMPLE_EVERY_VARIABLE, SAMPLE_EVERY)


def tab_wanted(options: Any = None) -> bool:
    """The ``--listeners-tab`` option where Locust parsed it, else ``LOCUST_EVENTS_LISTENERS_TAB``
    (on when unset)."""
    chosen = getattr(options, "listeners_tab", None)
    if chosen is not None:
        return bool(chosen)
    return switch(SWITCH_VARIABLE, True)


def _pool_counters(registry: Events) -> dict[str, dict[str, int]]:
    """Each pool's counters that only grow, now: where a reset starts them from."""
    return {
        pool.name: {key: getattr(pool.stats, key) for key in CUMULATIVE_POOL_FIELDS}
        for pool in registry.pools
    }


@final
class ListenersTab:
    """What one Locust process keeps for the tab: its registry and the workers' last reports."""

    def __init__(self, registry: Events, environment: Any) -> None:
        self.registry = registry
        self.environment = environment
        #: The latest figures each worker reported, by client id (kept after it leaves).
        self.worker_figures: dict[str, Snapshot] = {}
        #: Each pool's counters at the last reset, by pool name (empty: since the start).
        self.pool_counters_at_reset: dict[str, dict[str, int]] = {}
        #: How many resets this process saw; a worker's report of an earlier one is stale.
        self.resets = 0

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

    def local_figures(self, worker: str) -> Snapshot:
        """This process's own figures, its pools' counters since the last reset."""
        return snapshot(self.registry, worker, self.pool_counters_at_reset)

    def figures(self) -> Snapshot:
        """What the tab shows now: this process's figures, or on a master everybody's."""
        if not isinstance(self._runner, MasterRunner):
            return self.local_figures("local")
        return aggregate(
            {"master": self.local_figures("master"), **self.worker_figures},
            gone=self.gone_workers(),
        )

    def reset(self, resets: int | None = None) -> None:
        """Start the figures afresh, as Locust's "Reset Stats" does its own: listeners' counts
        and times from zero, pools' counters from now. A master tells its workers to do the
        same and forgets their reports until one made after the reset arrives."""
        self.resets = self.resets + 1 if resets is None else resets
        profiler = self.registry.profiler
        if profiler is not None:
            profiler.reset()
        self.pool_counters_at_reset = _pool_counters(self.registry)
        runner = self._runner
        if isinstance(runner, MasterRunner):
            self.worker_figures.clear()
            runner.send_message(RESET_MESSAGE, {"resets": self.resets})

    def on_reset_stats(self, **kwargs: Any) -> None:
        """Listener of ``reset_stats``, which Locust's web UI fires for "Reset Stats"."""
        self.reset()

    def on_worker_report(self, client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
        """Keep the figures a worker sent with its report (each report has them all), unless
        they were counted before the last reset."""
        figures = data.get(REPORT_KEY)
        if not isinstance(figures, dict):
            return
        resets = figures.get("resets", 0)
        if isinstance(resets, int) and resets < self.resets:
            return
        self.worker_figures[client_id] = figures

    def install(self, web_ui: Any) -> None:
        """Add the tab, its table, the CSV link and the routes to Locust's web UI."""
        add_tab(
            web_ui,
            self.environment,
            key=TAB_KEY,
            title="Listeners",
            structure=table_structure(isinstance(self._runner, MasterRunner)),
            rows=lambda: table_rows(self.figures()),
            json_path=JSON_PATH,
            json_body=self.figures,
            csv_path=CSV_PATH,
            csv_body=lambda: to_csv(self.figures()),
            csv_filename="locust_listeners.csv",
            csv_title="Download listeners CSV",
        )


def _start_counting(registry: Events, sample_every: int) -> None:
    if registry.profiler is None:
        # The tab shows the figures: the table is logged at quit only when asked for.
        registry.start_profiling(sample_every, report_at_shutdown=False)


def attach(registry: Events, environment: Any, web_ui: Any) -> ListenersTab | None:
    """Set the tab up for a Locust process at ``init``; returns it, or None where it is off.

    With a web UI: count from now on and add the tab. On a master, also tell the workers to
    count (through the parsed options Locust sends them) and keep their reports. On a worker:
    count from the test's start when its master asked, and send the figures with each report.
    Without either (a headless local run, or ``--listeners-tab off``): nothing.
    """
    options = getattr(environment, "parsed_options", None)
    if not tab_wanted(options):
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
                data[REPORT_KEY] = {**tab.local_figures("worker"), "resets": tab.resets}

        def reset_when_master_asks(environment: Any, msg: Any, **kwargs: Any) -> None:
            resets = msg.data.get("resets") if isinstance(msg.data, dict) else None
            tab.reset(resets if isinstance(resets, int) else None)

        registry.test_start.add_listener(count_if_master_asks)
        registry.report_to_master.add_listener(send_figures)
        runner.register_message(RESET_MESSAGE, reset_when_master_asks)
        environment.locust_events_listeners_tab = tab
        return tab
    if web_ui is None:
        return None
    sample_every = sample_every_from_environment(options)
    _start_counting(registry, sample_every)
    if isinstance(runner, MasterRunner):
        if options is not None:
            setattr(options, OPTION, sample_every)
        registry.worker_report.add_listener(tab.on_worker_report)
    registry.reset_stats.add_listener(tab.on_reset_stats)
    tab.install(web_ui)
    environment.locust_events_listeners_tab = tab
    return tab
