"""The Custom metrics tab of Locust's web UI: the merged figures, refreshed with Locust's tabs.

Added through Locust's own extension points (``extended_tabs``, ``extended_tables``,
``extended_stats`` in ``/stats/requests``, ``extended_csv_files``) on the master or a local
run whose web UI runs; serves ``GET /locust-events/metrics`` (JSON rows) and
``/locust-events/metrics.csv`` (the same CSV as ``--csv`` writes).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ._metric_figures import COLUMNS, MetricFigures
from ._web_tabs import add_tab

__all__ = ["CSV_PATH", "JSON_PATH", "TAB_KEY", "install"]

#: The tab's key in Locust's UI (and in ``extended_stats``).
TAB_KEY: Final = "locust-events-metrics"
JSON_PATH: Final = "/locust-events/metrics"
CSV_PATH: Final = "/locust-events/metrics.csv"


def _rows(figures: MetricFigures) -> list[dict[str, Any]]:
    """The rows as the tab shows them: numbers rounded for reading."""
    return [
        {key: round(value, 3) if isinstance(value, float) else value for key, value in row.items()}
        for row in figures.rows()
    ]


def install(web_ui: Any, environment: Any, figures: Callable[[], MetricFigures]) -> None:
    """Add the tab, its table, the CSV link and the routes to Locust's ``web_ui``;
    ``figures`` gives the figures as they are when a page asks."""
    add_tab(
        web_ui,
        environment,
        key=TAB_KEY,
        title="Custom metrics",
        structure=[{"key": key, "title": title} for key, title in COLUMNS],
        rows=lambda: _rows(figures()),
        json_path=JSON_PATH,
        json_body=lambda: {"rows": _rows(figures())},
        csv_path=CSV_PATH,
        csv_body=lambda: figures().to_csv(),
        csv_filename="locust_custom_metrics.csv",
        csv_title="Download custom metrics CSV",
    )
