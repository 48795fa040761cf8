"""A tab of our own in Locust's web UI, through Locust's extension points.

Locust's page shows extra tabs from ``template_args`` (``extended_tabs``, ``extended_tables``,
``extended_csv_files``) and fills their tables from the ``extended_stats`` of its
``/stats/requests`` answer, which every tab refreshes from. The Listeners tab and the Custom
metrics tab are added the same way, here: the rows go into that answer without ever breaking
it (Locust's whole UI stops updating if it fails), and the routes sit under the same
``--web-base-path`` as Locust's pages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["add_tab", "base_path", "with_tab_rows"]

logger = logging.getLogger("locust_events")


def base_path(environment: Any) -> str:
    """The web UI's ``--web-base-path``: Locust accepts "/locust/" as well as "/locust", and
    serves its pages without the trailing slash."""
    options = getattr(environment, "parsed_options", None)
    return (getattr(options, "web_base_path", "") or "").rstrip("/")


def with_tab_rows(body: bytes, key: str, rows: list[Any]) -> bytes | None:
    """Locust's ``/stats/requests`` answer with ``rows`` as the ``extended_stats`` of the tab
    ``key``, or None to leave it as it is: an answer that is not a JSON object (Locust's
    message that the login is not set up, say) is not the tab's to change."""
    try:
        stats = json.loads(body)
    except ValueError:
        return None
    if not isinstance(stats, dict):
        return None
    extended = [
        entry
        for entry in stats.get("extended_stats") or []
        if not (isinstance(entry, dict) and entry.get("key") == key)
    ]
    extended.append({"key": key, "data": rows})
    stats["extended_stats"] = extended
    return json.dumps(stats).encode()


def add_tab(
    web_ui: Any,
    environment: Any,
    *,
    key: str,
    title: str,
    structure: list[dict[str, str]],
    rows: Callable[[], list[Any]],
    json_path: str,
    json_body: Callable[[], Any],
    csv_path: str,
    csv_body: Callable[[], str],
    csv_filename: str,
    csv_title: str,
) -> None:
    """Add the tab ``key`` to Locust's ``web_ui``: its title, its table's columns, its
    ``rows()`` in each ``/stats/requests`` answer, ``GET json_path`` answering
    ``json_body()``, and ``GET csv_path`` answering ``csv_body()`` as ``csv_filename``,
    linked among Locust's downloads. Both routes sit under ``--web-base-path`` and behind
    Locust's login, if on."""
    from flask import Response, request

    base = base_path(environment)
    guard: Callable[[Callable[..., Any]], Callable[..., Any]] = getattr(
        web_ui, "auth_required_if_enabled", lambda view: view
    )

    def json_view() -> Response:
        return Response(json.dumps(json_body()), mimetype="application/json")

    def csv_view() -> Response:
        return Response(
            csv_body(),
            mimetype="text/csv",
            headers={"Content-Disposition": f"attachment;filename={csv_filename}"},
        )

    web_ui.app.add_url_rule(base + json_path, f"{key}_json", guard(json_view))
    web_ui.app.add_url_rule(base + csv_path, f"{key}_csv", guard(csv_view))
    failure_logged = False

    def add_rows(response: Response) -> Response:
        nonlocal failure_logged
        # Locust's view of /stats/requests, wherever --web-base-path puts it.
        endpoint = request.endpoint or ""
        if endpoint.rsplit(".", 1)[-1] != "request_stats" or response.status_code != 200:
            return response
        try:
            body = with_tab_rows(response.get_data(), key, rows())
        except Exception:
            # Locust's whole UI refreshes from this answer: never break it for a tab.
            if not failure_logged:
                failure_logged = True
                logger.exception(
                    "The %s tab could not add its rows to Locust's statistics; "
                    "Locust's other tabs go on updating",
                    title,
                )
            return response
        if body is not None:
            response.set_data(body)
        return response

    web_ui.app.after_request(add_rows)
    args = web_ui.template_args
    args["extended_tabs"] = [
        *(tab for tab in args.get("extended_tabs") or [] if tab.get("key") != key),
        {"title": title, "key": key},
    ]
    args["extended_tables"] = [
        *(table for table in args.get("extended_tables") or [] if table.get("key") != key),
        {"key": key, "structure": structure},
    ]
    args["extended_csv_files"] = [
        *(f for f in args.get("extended_csv_files") or [] if f.get("href") != "." + csv_path),
        {"href": "." + csv_path, "title": csv_title},
    ]
