"""The demo's locustfile: the examples' listeners in one real Locust run (see ``_demo``).

It writes what the listeners saw to the JSON file named by ``LOCUST_EVENTS_DEMO_REPORT``.
"""

from __future__ import annotations

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json
import os
import time
from collections import Counter
from typing import Any

import requests
from locust import HttpUser, between, task

from locust_events._demo import measure_dispatch_cost

#: Where the report goes; the demo reads it once Locust has exited.
REPORT_PATH = os.environ.get("LOCUST_EVENTS_DEMO_REPORT", "locust_events_demo.json")


class CustomMetrics:
    """The custom metrics collection example, keeping sums instead of every response time."""

    def __init__(self) -> None:
        self.api_calls = 0
        self.error_count = 0
        self.total_response_time = 0.0
        self.max_response_time = 0.0
        self.buckets: Counter[str] = Counter()

    def on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: Exception | None,
        **kwargs: Any,
    ) -> None:
        self.api_calls += 1
        self.total_response_time += response_time
        self.max_response_time = max(self.max_response_time, response_time)
        if exception:
            self.error_count += 1
        if response_time < 100:
            self.buckets["<100ms"] += 1
        elif response_time < 500:
            self.buckets["100-500ms"] += 1
        else:
            self.buckets[">=500ms"] += 1


class WebhookReporter:
    """The external system integration example: webhooks at test start, on errors, at the end."""

    def __init__(self) -> None:
        self.webhook_url = ""
        self.posted = 0
        self.failed = 0
        self.test_start_time = 0.0
        self.request_count = 0

    def on_test_start(self, environment: Any, **kwargs: Any) -> None:
        self.webhook_url = os.environ.get("WEBHOOK_URL", f"{environment.host}/webhook")
        self.test_start_time = time.time()
        self.send_webhook({"event": "test_start", "timestamp": self.test_start_time})

    def on_request(self, exception: Exception | None, name: str, **kwargs: Any) -> None:
        self.request_count += 1
        if exception:
            payload = {"event": "error", "name": name, "error": str(exception)}
            self.send_webhook(payload)

    def on_test_stop(self, environment: Any, **kwargs: Any) -> None:
        duration = time.time() - self.test_start_time
        self.send_webhook(
            {"event": "test_complete", "duration": duration, "total_requests": self.request_count}
        )

    def send_webhook(self, payload: dict[str, Any]) -> None:
        try:
            requests.post(self.webhook_url, json=payload, timeout=5).raise_for_status()
            self.posted += 1
        except Exception as error:
            self.failed += 1
            print(f"Webhook failed: {error}")


metrics = CustomMetrics()
reporter = WebhookReporter()
environment_seen: list[Any] = []

events.request.add_listener(metrics.on_request)
# The webhook posters are spawned: they run in the registry's listener pool, so no user
# waits for a webhook, and Locust's shutdown drains the pool before the process exits.
events.test_start.add_listener(reporter.on_test_start, spawn=True)
events.request.add_listener(reporter.on_request, spawn=True)
events.test_stop.add_listener(reporter.on_test_stop, spawn=True)


@events.init.add_listener
def remember_environment(environment: Any, **kwargs: Any) -> None:
    environment_seen.append(environment)


#: CPU seconds and requests at test_start and test_stopping: what the load itself cost.
load_window: dict[str, float] = {}


@events.test_start.add_listener
def open_load_window(environment: Any, **kwargs: Any) -> None:
    load_window.update(cpu=time.process_time(), requests=metrics.api_calls)


@events.test_stopping.add_listener
def close_load_window(environment: Any, **kwargs: Any) -> None:
    load_window["cpu"] = time.process_time() - load_window.get("cpu", 0.0)
    load_window["requests"] = metrics.api_calls - load_window.get("requests", 0)


@events.quit.add_listener
def write_report(exit_code: int, **kwargs: Any) -> None:
    # Let the queued webhooks finish first so that the counts below are final (the
    # integration drains the pool right after quit anyway, before the process exits).
    events.join(timeout=10)
    pool = events.pool.stats
    environment = environment_seen[0] if environment_seen else None
    stats = environment.stats.total if environment is not None else None
    ours, locusts = measure_dispatch_cost(len(events.request), spawned=1)
    report = {
        "exit_code": exit_code,
        "locust_requests": stats.num_requests if stats is not None else None,
        "locust_failures": stats.num_failures if stats is not None else None,
        "api_calls": metrics.api_calls,
        "error_count": metrics.error_count,
        "average_response_time": metrics.total_response_time / max(metrics.api_calls, 1),
        "max_response_time": metrics.max_response_time,
        "buckets": dict(metrics.buckets),
        "webhooks_posted": reporter.posted,
        "webhooks_failed": reporter.failed,
        "listener_errors": events.error_count,
        "pool_submitted": pool.submitted,
        "pool_completed": pool.completed,
        "pool_high_water": pool.high_water,
        "request_listeners": len(events.request),
        "load_cpu_seconds": load_window.get("cpu", 0.0),
        "load_requests": load_window.get("requests", 0),
        "dispatch_ns": ours,
        "locust_dispatch_ns": locusts,
    }
    with open(REPORT_PATH, "w") as file:
        json.dump(report, file, indent=2)


class DemoUser(HttpUser):
    """Browses the target's pages and API."""

    wait_time = between(1, 2)

    @task(3)
    def page_view(self) -> None:
        self.client.get("/page")

    @task(2)
    def api_call(self) -> None:
        self.client.get("/api/data")

    @task(1)
    def home(self) -> None:
        self.client.get("/")

    @task(1)
    def environment_check(self) -> None:
        self.client.get("/api/environment")
