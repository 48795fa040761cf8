"""The Custom metrics tab of Locust's web UI: the merged figures, refreshed with Locust's tabs.

Added through Locust's own extension points (``extended_tabs``, ``extended_tables``,
``extended_stats`` in ``/stats/requests``, ``extended_csv_files``) on the master or a local
run whose web UI runs; serves ``GET /locust-events/metrics`` (JSON rows) and
``/locust-events/metrics.csv`` (the same CSV as ``--csv`` writes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from ._metric_figures import COLUMNS, MetricFigures

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
    from flask import Response, request

    options = getattr(environment, "parsed_options", None)
    base = getattr(options, "web_base_path", "") or ""
    app = web_ui.app
    guard: Callable[[Callable[..., Any]], Callable[..., Any]] = getattr(
        web_ui, "auth_required_if_enabled", lambda view: view
    )

    def metrics_json() -> Response:
        return Response(json.dumps({"rows": _rows(figures())}), mimetype="application/json")

    def metrics_csv() -> Response:
        return Response(
            figures().to_csv(),
            mimetype="text/csv",
            headers={"Content-Disposition": "attachment;filename=locust_custom_metrics.csv"},
        )

    app.add_url_rule(base + JSON_PATH, "locust_events_metrics", guard(metrics_json))
    app.add_url_rule(base + CSV_PATH, "locust_events_metrics_csv", guard(metrics_csv))
    stats_path = base + "/stats/requests"

    def add_metric_rows(response: Response) -> Response:
        if request.path != stats_path or response.status_code != 200:
            return response
        body = json.loads(response.get_data())
        extended = [e for e in body.get("extended_stats") or [] if e.get("key") != TAB_KEY]
        extended.append({"key": TAB_KEY, "data": _rows(figures())})
        body["extended_stats"] = extended
        response.set_data(json.dumps(body))
        return response

    app.after_request(add_metric_rows)
    args = web_ui.template_args
    args["extended_tabs"] = [
        *(tab for tab in args.get("extended_tabs") or [] if tab.get("key") != TAB_KEY),
        {"title": "Custom metrics", "key": TAB_KEY},
    ]
    args["extended_tables"] = [
        *(table for table in args.get("extended_tables") or [] if table.get("key") != TAB_KEY),
        {"key": TAB_KEY, "structure": [{"key": k, "title": t} for k, t in COLUMNS]},
    ]
    args["extended_csv_files"] = [
        *(f for f in args.get("extended_csv_files") or [] if f.get("href") != "." + CSV_PATH),
        {"href": "." + CSV_PATH, "title": "Download custom metrics CSV"},
    ]
