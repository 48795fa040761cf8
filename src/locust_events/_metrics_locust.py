"""Custom metrics in a Locust run: workers fold them into Locust's reports, the master merges.

Set up at ``init`` by the Locust integration, for the runner Locust made:

- a worker adds what it recorded since its last report to each of Locust's own worker reports
  (``report_to_master``), under :data:`REPORT_KEY`; when it quits on its own (not told by the
  master) it sends what is left, once its users stopped, as one last message;
- the master adds each report to that worker's figures, and its own recordings as ``master``;
  a local run folds its own every report interval, as ``local``;
- after each merge the registry's ``metrics_merged`` hook fires with the figures; at ``quit``
  (after Locust's final reports and tables) the totals are printed, written beside Locust's
  CSV files with ``--csv``, and the hook fires a last time.
"""

from __future__ import annotations

import logging
from typing import Any, Final, final

import locust.runners
from locust.runners import (
    STATE_MISSING,
    STATE_STOPPED,
    STATE_STOPPING,
    MasterRunner,
    WorkerRunner,
)

from ._events import Events
from ._hooks import EventHook
from ._metric_figures import MetricFigures
from .metrics import MetricRegistry, metrics

__all__ = ["HOOK_NAME", "REPORT_KEY", "MetricsReporting", "attach", "merged_hook"]

#: The key of a worker's folds in its report to the master, and the type of its last message.
REPORT_KEY: Final = "locust_events_metrics"
#: The hook fired on the master (or a local run) after each merge.
HOOK_NAME: Final = "metrics_merged"
#: What ``--csv PREFIX`` writes the figures to: ``PREFIX`` followed by this.
CSV_SUFFIX: Final = "_custom_metrics.csv"

# Where Locust prints its own tables at quit: ours go beside them.
_console: Final = logging.getLogger("locust.stats_logger")


def merged_hook(registry: Events) -> EventHook[Any]:
    """The registry's ``metrics_merged`` hook (added on first use): it passes ``environment``
    and ``figures`` (a :class:`~locust_events.metrics.MetricFigures`)."""
    hook = registry.hooks.get(HOOK_NAME)
    if hook is None:
        hook = registry.add_hook(HOOK_NAME, "environment", "figures")
    return hook


@final
class MetricsReporting:
    """One Locust process's side of the metrics: what it folds, sends or merges."""

    def __init__(self, registry: Events, environment: Any, source: MetricRegistry) -> None:
        self.registry: Final = registry
        self.environment: Final = environment
        self.source: Final = source
        #: What this process knows: on a master every worker's figures, else its own.
        self.figures: Final = MetricFigures()
        self.hook: Final = merged_hook(registry)
        #: A local run's greenlet folding every report interval (stopped at quit).
        self.folding: Any = None

    @property
    def runner(self) -> Any:
        return getattr(self.environment, "runner", None)

    # On a worker.

    def add_to_report(self, data: dict[str, Any], **kwargs: Any) -> None:
        """``report_to_master``: send what was recorded since the last report."""
        folds = self.source.collect()
        if folds:
            data[REPORT_KEY] = folds

    def send_rest_at_quit(self, **kwargs: Any) -> None:
        """``quit`` on a worker, its users stopped: what was recorded after its last report,
        as one message (after a master's quit this is empty: Locust's final report took it)."""
        folds = self.source.collect()
        if folds:
            self.runner.send_message(REPORT_KEY, folds)

    # On a master or a local run.

    def fold_own(self, name: str) -> None:
        """Add this process's own recordings since the last fold, as worker ``name``."""
        folds = self.source.collect()
        if folds:
            self.figures.add(name, folds)

    def on_worker_report(self, client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
        """``worker_report``: merge the worker's folds and this process's own, then publish."""
        folds = data.get(REPORT_KEY)
        if folds:
            self.figures.add(client_id, folds)
        self.fold_own("master")
        self.publish()

    def on_last_message(self, environment: Any, msg: Any, **kwargs: Any) -> None:
        """A worker's last folds, sent as it quit on its own."""
        self.figures.add(msg.node_id, msg.data)
        self.publish()

    def mark_gone(self, final: bool) -> None:
        """Workers that reported once and are no longer connected (quit or missing).

        Once the test stops (or at the end, ``final``) workers that leave are let go by the
        master: only those gone before, and those missing now, are gone.
        """
        runner = self.runner
        clients = getattr(runner, "clients", None)
        if clients is None:
            return
        settled = final or getattr(runner, "state", None) in (STATE_STOPPING, STATE_STOPPED)
        gone = {
            worker
            for worker in self.figures.by_worker
            if worker != "master"
            and (
                (worker in clients and clients[worker].state == STATE_MISSING)
                or (worker not in clients and not settled)
            )
        }
        self.figures.gone = gone | self.figures.gone if settled else gone

    def publish(self, final: bool = False) -> None:
        """Fire ``metrics_merged`` with the figures as they are now."""
        self.mark_gone(final)
        if self.hook:
            self.hook.fire(environment=self.environment, figures=self.figures)

    def current(self) -> MetricFigures:
        """The figures as they are now (this process's own folded in), for the web UI."""
        master = isinstance(self.runner, MasterRunner)
        self.fold_own("master" if master else "local")
        self.mark_gone(final=False)
        return self.figures

    def fold_every_interval(self) -> None:
        """A local run's report cycle: its own figures every Locust report interval."""
        import gevent

        while True:
            gevent.sleep(locust.runners.WORKER_REPORT_INTERVAL)
            self.fold_own("local")
            self.publish()

    def restart(self, **kwargs: Any) -> None:
        """``test_start``: a new test counts from zero, as Locust's own statistics do."""
        self.source.collect()
        self.figures.clear()

    def at_quit(self, **kwargs: Any) -> None:
        """``quit`` on a master or local run: the last fold, then the table, CSV and hook."""
        if self.folding is not None:
            self.folding.kill(block=False)
        self.fold_own("local" if not isinstance(self.runner, MasterRunner) else "master")
        self.publish(final=True)
        if not self.figures.by_worker:
            return
        _console.info("\n%s\n", self.figures.table())
        prefix = getattr(getattr(self.environment, "parsed_options", None), "csv_prefix", None)
        if prefix:
            with open(f"{prefix}{CSV_SUFFIX}", "w", newline="", encoding="utf-8") as file:
                file.write(self.figures.to_csv())


def attach(
    registry: Events, environment: Any, web_ui: Any = None, source: MetricRegistry = metrics
) -> MetricsReporting:
    """Wire the metrics of ``source`` into the Locust run of ``environment`` (at ``init``),
    and where a master or local run has Locust's ``web_ui``, add the Custom metrics tab."""
    existing: MetricsReporting | None = getattr(environment, "locust_events_metrics", None)
    if existing is not None:  # init fired again for the same environment
        return existing
    reporting = MetricsReporting(registry, environment, source)
    runner = environment.runner
    registry.test_start.add_listener(reporting.restart)
    if isinstance(runner, WorkerRunner):
        registry.report_to_master.add_listener(reporting.add_to_report)
        registry.quit.add_listener(reporting.send_rest_at_quit)
    elif isinstance(runner, MasterRunner):
        registry.worker_report.add_listener(reporting.on_worker_report)
        runner.register_message(REPORT_KEY, reporting.on_last_message)
        registry.quit.add_listener(reporting.at_quit)
    elif runner is not None:
        import gevent

        # Not in the runner's greenlet group: Locust's main waits for that group to end.
        reporting.folding = gevent.spawn(reporting.fold_every_interval)
        registry.quit.add_listener(reporting.at_quit)
    if web_ui is not None and not isinstance(runner, WorkerRunner):
        from . import _metrics_webui

        _metrics_webui.install(web_ui, environment, reporting.current)
    environment.locust_events_metrics = reporting
    return reporting
