"""The demo's locustfile: the examples' listeners in one real Locust run (see ``demo``).

It writes what the listeners saw to the JSON file named by ``LOCUST_EVENTS_DEMO_REPORT`` and,
every half second while users run, the run's progress to ``LOCUST_EVENTS_DEMO_PROGRESS``, a
last time when the run starts stopping. With ``LOCUST_EVENTS_DEMO_STOP_AFTER_REQUESTS`` above
0 it ends the run once every user started and Locust counted that many requests.
"""

from __future__ import annotations

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json
import os
import statistics
import time
from typing import Any, cast

import gevent
import requests
from locust import HttpUser, between, task
from locust.event import EventHook as LocustEventHook

from locust_events import EventHook

#: Where the report goes; the demo reads it once Locust has exited.
REPORT_PATH = os.environ.get("LOCUST_EVENTS_DEMO_REPORT", "locust_events_demo.json")
#: Where the progress goes while the users run; the demo reads it to show progress.
PROGRESS_PATH = os.environ.get("LOCUST_EVENTS_DEMO_PROGRESS", "locust_events_progress.json")
#: End the run once every user started and Locust counted this many requests (0: never).
STOP_AFTER_REQUESTS = int(os.environ.get("LOCUST_EVENTS_DEMO_STOP_AFTER_REQUESTS", "0"))
#: Response-time buckets, in the order they are reported: (label, upper bound in ms).
BUCKETS: tuple[tuple[str, float], ...] = (
    ("<100ms", 100.0),
    ("100-500ms", 500.0),
    (">=500ms", float("inf")),
)


class CustomMetrics:
    """The custom metrics collection example, keeping sums instead of every response time."""

    def __init__(self) -> None:
        self.api_calls = 0
        self.error_count = 0
        self.total_response_time = 0.0
        self.max_response_time = 0.0
        self.buckets = dict.fromkeys((label for label, _ in BUCKETS), 0)

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
        label = next(label for label, bound in BUCKETS if response_time < bound)
        self.buckets[label] += 1


class WebhookReporter:
    """The external system integration example: webhooks at test start, on errors, at the end.

    The pattern to copy: the request listener runs synchronously in every user and costs one
    ``if``; only a failed request is handed, through a hook of our own, to the spawned
    listener that posts it. Nothing is queued for the requests that succeed.
    """

    def __init__(self) -> None:
        self.webhook_url = ""
        self.posted = 0
        self.failed = 0
        self.test_start_time = 0.0
        self.request_count = 0
        #: Fired for failed requests only; its listener (``post_error``) is spawned.
        self.request_failed: EventHook[Any] = events.add_hook("request_failed", "name", "exception")
        #: Fired with a webhook to post; its listener (``send_webhook``) is spawned.
        self.webhook_due: EventHook[Any] = events.add_hook("webhook_due", "payload")

    def on_test_start(self, environment: Any, **kwargs: Any) -> None:
        self.webhook_url = os.environ.get("WEBHOOK_URL", f"{environment.host}/webhook")
        self.test_start_time = time.time()
        # Runs in place (Locust starts the users right after): only the post is spawned.
        self.webhook_due.fire(payload={"event": "test_start", "timestamp": self.test_start_time})

    def on_request(self, exception: Exception | None, name: str, **kwargs: Any) -> None:
        self.request_count += 1
        if exception:
            self.request_failed.fire(name=name, exception=exception)

    def post_error(self, name: str, exception: Exception, **kwargs: Any) -> None:
        self.send_webhook({"event": "error", "name": name, "error": str(exception)})

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


class DispatchTimer:
    """Replays each request event a user fires on two dispatchers and times both, alike.

    Every ``request`` fire of the run is fired again, with the same keyword arguments, on a
    ``locust_events`` hook and on Locust's own ``EventHook``, each holding as many no-op
    listeners as the real hook has, so what is timed is the dispatch alone; the two are timed
    the same way, alternating which goes first, minus what reading the clock costs.
    """

    def __init__(self) -> None:
        self.ours: EventHook[Any] = EventHook("request (timed copy)")
        self.theirs: Any = cast(Any, LocustEventHook)()  # Locust leaves it untyped
        self.fires = 0
        #: Seconds each fire took, one entry per request event of the run.
        self.ours_seconds: list[float] = []
        self.theirs_seconds: list[float] = []

    def match(self, listeners: int) -> None:
        for _ in range(listeners):
            self.ours.add_listener(_no_op)
            self.theirs.add_listener(_no_op)

    def time_fire(self, **kwargs: Any) -> None:
        clock = time.perf_counter
        first, second = (self.ours, self.theirs) if self.fires % 2 else (self.theirs, self.ours)
        started = clock()
        read = clock()
        first.fire(**kwargs)
        between_ = clock()
        second.fire(**kwargs)
        ended = clock()
        reading = read - started
        first_seconds = between_ - read - reading
        second_seconds = ended - between_ - reading
        if first is self.ours:
            self.ours_seconds.append(first_seconds)
            self.theirs_seconds.append(second_seconds)
        else:
            self.theirs_seconds.append(first_seconds)
            self.ours_seconds.append(second_seconds)
        self.fires += 1


def _no_op(**kwargs: Any) -> None:
    pass


def _median_ns(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1e9 if seconds else 0.0


def _mean_ns(seconds: list[float]) -> float:
    return statistics.fmean(seconds) * 1e9 if seconds else 0.0


metrics = CustomMetrics()
reporter = WebhookReporter()
timer = DispatchTimer()
environment_seen: list[Any] = []

events.request.add_listener(metrics.on_request)
events.request.add_listener(reporter.on_request)
timer.match(len(events.request))
# The webhook posters are spawned: they run in the registry's listener pool, so no user
# waits for a webhook, and Locust's shutdown drains the pool before the process exits.
events.test_start.add_listener(reporter.on_test_start)  # sets the start time, spawns the post
reporter.webhook_due.add_listener(reporter.send_webhook, spawn=True)
reporter.request_failed.add_listener(reporter.post_error, spawn=True)
events.test_stop.add_listener(reporter.on_test_stop, spawn=True)
# Last, so that it is not among the listeners it times.
events.request.add_listener(timer.time_fire)


@events.init.add_listener
def remember_environment(environment: Any, **kwargs: Any) -> None:
    environment_seen.append(environment)


def _queued_calls() -> int:
    return sum(pool.stats.pending + pool.stats.running for pool in events.pools)


progress_writers: list[gevent.Greenlet[Any, Any]] = []


def _write_progress() -> dict[str, Any]:
    environment = environment_seen[0] if environment_seen else None
    runner = environment.runner if environment is not None else None
    progress = {
        "users": runner.user_count if runner is not None else 0,
        "requests": environment.stats.total.num_requests if environment is not None else 0,
        "failures": environment.stats.total.num_failures if environment is not None else 0,
        "queued": _queued_calls(),
    }
    temporary = f"{PROGRESS_PATH}.tmp"
    with open(temporary, "w") as file:
        json.dump(progress, file)
    os.replace(temporary, PROGRESS_PATH)  # the demo never reads half a file
    return progress


def _keep_writing_progress(environment: Any) -> None:
    while True:
        progress = _write_progress()
        target_users = environment.parsed_options.num_users
        if 0 < STOP_AFTER_REQUESTS <= progress["requests"] and progress["users"] == target_users:
            gevent.spawn(environment.runner.quit)
            return
        gevent.sleep(0.5)


@events.test_start.add_listener
def start_progress(environment: Any, **kwargs: Any) -> None:
    progress_writers.append(gevent.spawn(_keep_writing_progress, environment))


@events.test_stopping.add_listener
def write_last_progress(environment: Any, **kwargs: Any) -> None:
    # Before the users stop: the last progress shows the run as it was when it ended.
    gevent.killall(progress_writers)
    _write_progress()


@events.quit.add_listener
def write_report(exit_code: int, **kwargs: Any) -> None:
    # Let the queued webhooks finish first so that the counts below are final (the
    # integration drains the pool right after quit anyway, before the process exits).
    events.join(timeout=10)
    pool = events.pool.stats
    environment = environment_seen[0] if environment_seen else None
    stats = environment.stats.total if environment is not None else None
    report = {
        "exit_code": exit_code,
        "locust_requests": stats.num_requests if stats is not None else None,
        "locust_failures": stats.num_failures if stats is not None else None,
        "api_calls": metrics.api_calls,
        "error_count": metrics.error_count,
        "average_response_time": metrics.total_response_time / max(metrics.api_calls, 1),
        "max_response_time": metrics.max_response_time,
        "buckets": [[label, metrics.buckets[label]] for label, _ in BUCKETS],
        "webhooks_posted": reporter.posted,
        "webhooks_failed": reporter.failed,
        "listener_errors": events.error_count,
        "pool_submitted": pool.submitted,
        "pool_completed": pool.completed,
        "pool_high_water": pool.high_water,
        "request_listeners": len(timer.ours),
        "timed_fires": timer.fires,
        "dispatch_ns": _median_ns(timer.ours_seconds),
        "locust_dispatch_ns": _median_ns(timer.theirs_seconds),
        "dispatch_mean_ns": _mean_ns(timer.ours_seconds),
        "locust_dispatch_mean_ns": _mean_ns(timer.theirs_seconds),
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
