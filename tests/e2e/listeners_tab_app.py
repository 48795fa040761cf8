"""Locust's web UI with the Listeners tab, built in this process and asked through Flask's test
client: no server, no port for the UI, each answer exact.

Run by the tab's fault tests in a child process (Locust must monkey-patch first)::

    python tests/e2e/listeners_tab_app.py SCENARIO [LOCUST OPTION ...]

The options are parsed by Locust's own parser (with this package's options added); the
scenario drives the UI and prints one JSON line of what it answered.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from locust import User, task
from locust.argument_parser import get_parser
from locust.env import Environment

from locust_events.locust import events
from locust_events.tools.request_payload import REQUEST_PAYLOAD
from locust_events.webui import REPORT_KEY


class Idle(User):
    @task
    def nothing(self) -> None:
        pass


def on_request(**kwargs: Any) -> None:
    pass


def build(arguments: list[str], master_port: int | None) -> tuple[Environment, Any]:
    options = get_parser().parse_args(arguments)
    environment = Environment(user_classes=[Idle], events=events, parsed_options=options)
    if master_port is None:
        runner = environment.create_local_runner()
    else:
        runner = environment.create_master_runner("127.0.0.1", master_port)
    web_ui = environment.create_web_ui(
        "127.0.0.1",
        0,
        web_base_path=options.web_base_path,
        web_login=options.web_login,
        delayed_start=True,
    )
    events.request.add_listener(on_request)
    events.init.fire(environment=environment, runner=runner, web_ui=web_ui)
    return environment, web_ui.app.test_client()


def answer(response: Any) -> dict[str, Any]:
    body = response.get_data(as_text=True)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    return {"status": response.status_code, "text": body[:300], "json": parsed}


def tab_rows(stats: dict[str, Any]) -> list[dict[str, Any]]:
    tables = [e["data"] for e in stats.get("extended_stats") or [] if e["key"].endswith("ners")]
    return tables[0] if tables else []


def fire(count: int) -> None:
    for _ in range(count):
        events.request.fire(**REQUEST_PAYLOAD)


def worker_lacking_fields(arguments: list[str]) -> dict[str, Any]:
    """A master gets a report from a worker on another version: fields missing."""
    environment, client = build(arguments, master_port=int(arguments.pop()))
    row = {"hook": "request", "listener": "app.on_request", "kind": "sync", "calls": 5}
    report = {REPORT_KEY: {"listeners": [row]}}
    environment.locust_events_listeners_tab.on_worker_report("old-worker", report)  # type: ignore[attr-defined]
    stats = answer(client.get("/stats/requests"))
    listeners = answer(client.get("/locust-events/listeners"))
    calls = [
        r["calls"] for r in listeners["json"]["listeners"] if r["worker"].startswith("old-worker")
    ]
    return {"stats": stats["status"], "listeners": listeners["status"], "calls": calls}


def login_without_secret_key(arguments: list[str]) -> dict[str, Any]:
    _, client = build(arguments, master_port=None)
    stats = answer(client.get("/stats/requests"))
    listeners = answer(client.get("/locust-events/listeners"))
    return {"status": stats["status"], "text": stats["text"], "listeners": listeners["text"]}


def base_path(arguments: list[str]) -> dict[str, Any]:
    _, client = build(arguments, master_port=None)
    fire(3)
    stats = answer(client.get("/locust/stats/requests"))
    listeners = answer(client.get("/locust/locust-events/listeners"))
    csv = answer(client.get("/locust/locust-events/listeners.csv"))
    shown = [r["listener"] for r in tab_rows(stats["json"]) if r["calls"] == "3 · 0"]
    return {"shown": shown, "json": listeners["status"], "csv": csv["status"]}


def reset_stats(arguments: list[str]) -> dict[str, Any]:
    _, client = build(arguments, master_port=None)

    def calls() -> int:
        figures = answer(client.get("/locust-events/listeners"))["json"]
        (row,) = [r for r in figures["listeners"] if r["listener_full"] == "__main__.on_request"]
        return int(row["calls"])

    fire(4)
    before = calls()
    reset = answer(client.post("/stats/reset"))["status"]
    after = calls()
    fire(2)
    return {"before": before, "reset": reset, "after": after, "then": calls()}


def options(arguments: list[str]) -> dict[str, Any]:
    environment, client = build(arguments, master_port=None)
    fire(1)
    parsed = environment.parsed_options
    profiler = events.profiler
    return {
        "tab": parsed.listeners_tab,
        "sample_every": parsed.listeners_sample_every,
        "drain_timeout": parsed.listeners_drain_timeout,
        "profiling_every": None if profiler is None else profiler.sample_every,
        "tab_shown": "locust-events-listeners" in client.get("/").get_data(as_text=True),
    }


def master_reset(arguments: list[str]) -> dict[str, Any]:
    """After Reset Stats, a master keeps only the reports its workers counted since."""
    environment, client = build(arguments, master_port=int(arguments.pop()))
    tab = environment.locust_events_listeners_tab  # type: ignore[attr-defined]
    row = {"hook": "request", "listener_full": "app.on_request", "kind": "sync", "calls": 5}
    tab.on_worker_report("w", {REPORT_KEY: {"listeners": [row], "resets": 0}})
    client.post("/stats/reset")
    tab.on_worker_report("w", {REPORT_KEY: {"listeners": [row], "resets": 0}})  # sent before
    stale = [r["calls"] for r in tab.figures()["listeners"] if r["worker"].startswith("w")]
    fresh_row = dict(row, calls=1)
    tab.on_worker_report("w", {REPORT_KEY: {"listeners": [fresh_row], "resets": 1}})
    fresh = [r["calls"] for r in tab.figures()["listeners"] if r["worker"].startswith("w")]
    return {"stale": stale, "fresh": fresh}


def worker_reset(arguments: list[str]) -> dict[str, Any]:
    """A worker told by its master to reset starts its figures afresh and says so."""
    from locust.rpc import Message

    from locust_events.locust import fresh_environment_events
    from locust_events.webui import OPTION, RESET_MESSAGE

    port = int(arguments[-1])
    options = get_parser().parse_args(arguments[:-1])
    # A master in this process, with its own registry, for the worker to connect to.
    master = Environment(user_classes=[Idle], events=fresh_environment_events())
    master.create_master_runner("127.0.0.1", port)
    environment = Environment(user_classes=[Idle], events=events, parsed_options=options)
    runner = environment.create_worker_runner("127.0.0.1", port)
    events.request.add_listener(on_request)
    events.init.fire(environment=environment, runner=runner, web_ui=None)
    setattr(options, OPTION, 1)  # as the master's spawn message sets it
    events.test_start.fire(environment=environment)
    fire(3)
    listener, _ = runner.custom_messages[RESET_MESSAGE]
    listener(environment=environment, msg=Message(RESET_MESSAGE, {"resets": 1}, "master"))
    fire(1)
    report: dict[str, Any] = {}
    events.report_to_master.fire(client_id="worker", data=report)
    figures = report[REPORT_KEY]
    (row,) = [r for r in figures["listeners"] if r["listener_full"] == "__main__.on_request"]
    return {"resets": figures["resets"], "calls": row["calls"]}


SCENARIOS: dict[str, Callable[[list[str]], dict[str, Any]]] = {
    "worker_lacking_fields": worker_lacking_fields,
    "login_without_secret_key": login_without_secret_key,
    "base_path": base_path,
    "reset_stats": reset_stats,
    "master_reset": master_reset,
    "worker_reset": worker_reset,
    "options": options,
}

if __name__ == "__main__":
    print(json.dumps(SCENARIOS[sys.argv[1]](sys.argv[2:])), flush=True)
    # At once: a worker runner keeps trying to reach its master, which never answers here.
    os._exit(0)
