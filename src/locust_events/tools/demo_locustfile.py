"""The demo's locustfile: the examples' listeners in one real Locust run (see ``demo``).

Beside the examples' users, two small groups of users make the same requests with the same
slow listener (it waits :data:`SLOW_LISTENER_SECONDS` on I/O, as a webhook would): one group
runs it synchronously, in the user; the other spawns it into a pool. Their requests per
second, side by side in one run, are what spawning saves the users.

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
import locust.stats
import requests
from locust import HttpUser, between, constant, task
from locust.event import EventHook as LocustEventHook

from locust_events import COMPILED, EventHook, ListenerPool

# Locust's summary within 100 columns: request names up to 16 characters, seven percentiles.
locust.stats.STATS_AUTORESIZE = False
locust.stats.STATS_NAME_WIDTH = 20
locust.stats.PERCENTILES_TO_REPORT = [0.50, 0.75, 0.90, 0.95, 0.99, 0.999, 1.0]

#: Where the report goes; the demo reads it once Locust has exited.
REPORT_PATH = os.environ.get("LOCUST_EVENTS_DEMO_REPORT", "locust_events_demo.json")
#: Where the progress goes while the users run; the demo reads it to show progress.
PROGRESS_PATH = os.environ.get("LOCUST_EVENTS_DEMO_PROGRESS", "locust_events_progress.json")
#: End the run once every user started and Locust counted this many requests (0: never).
STOP_AFTER_REQUESTS = int(os.environ.get("LOCUST_EVENTS_DEMO_STOP_AFTER_REQUESTS", "0"))
#: How long the compared listener waits on I/O per call (a webhook's round trip, say).
SLOW_LISTENER_SECONDS = 0.02
#: Users in each compared group (the rest of the users are the examples' ``DemoUser``).
COMPARED_USERS = 2
#: The request names of the two compared groups, as Locust's summary shows them.
SYNC_NAME = "sync listener"
SPAWNED_NAME = "spawned listener"
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
        response_time: float | None,
        response_length: int,
        exception: Exception | None,
        **kwargs: Any,
    ) -> None:
        self.api_calls += 1
        if exception:
            self.error_count += 1
        if response_time is None:  # a request without a duration (asynchronous clients)
            return
        self.total_response_time += response_time
        self.max_response_time = max(self.max_response_time, response_time)
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


class SpawningComparison:
    """The same slow listener, run in the user for one group's requests, spawned for the
    other's; and the process's CPU time over the run, to put the dispatcher's cost in
    proportion to what a request costs."""

    def __init__(self) -> None:
        self.in_user: EventHook[Any] = events.add_hook("compared_in_user", "name")
        self.spawned: EventHook[Any] = events.add_hook("compared_spawned", "name")
        self.pool = ListenerPool(size=50, maxsize=10_000, name="compared listener pool")
        self.in_user.add_listener(self.wait_on_io)
        self.spawned.add_listener(self.wait_on_io, spawn=self.pool)
        self.started_at = 0.0
        self.stopped_at = 0.0
        self.cpu_at_start = 0.0
        self.cpu_at_stop = 0.0
        self.requests_at_start = 0
        self.requests_at_stop = 0

    def wait_on_io(self, name: str, **kwargs: Any) -> None:
        gevent.sleep(SLOW_LISTENER_SECONDS)

    def on_request(self, name: str, **kwargs: Any) -> None:
        if name == SYNC_NAME:
            self.in_user.fire(name=name)
        elif name == SPAWNED_NAME:
            self.spawned.fire(name=name)

    def start(self, requests_now: int) -> None:
        self.started_at, self.cpu_at_start = time.monotonic(), time.process_time()
        self.requests_at_start = requests_now

    def stop(self, requests_now: int) -> None:
        self.stopped_at, self.cpu_at_stop = time.monotonic(), time.process_time()
        self.requests_at_stop = requests_now


def _median_ns(seconds: list[float]) -> float:
    return statistics.median(seconds) * 1e9 if seconds else 0.0


def _mean_ns(seconds: list[float]) -> float:
    return statistics.fmean(seconds) * 1e9 if seconds else 0.0


metrics = CustomMetrics()
reporter = WebhookReporter()
timer = DispatchTimer()
comparison = SpawningComparison()
environment_seen: list[Any] = []

events.request.add_listener(metrics.on_request)
events.request.add_listener(reporter.on_request)
events.request.add_listener(comparison.on_request)
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
    comparison.start(environment.stats.total.num_requests)
    progress_writers.append(gevent.spawn(_keep_writing_progress, environment))


@events.test_stopping.add_listener
def write_last_progress(environment: Any, **kwargs: Any) -> None:
    # Before the users stop: the last progress shows the run as it was when it ended.
    comparison.stop(environment.stats.total.num_requests)
    gevent.killall(progress_writers)
    _write_progress()


def _requests_named(environment: Any, name: str) -> int:
    return int(environment.stats.get(name, "GET").num_requests) if environment else 0


@events.quit.add_listener
def write_report(exit_code: int, **kwargs: Any) -> None:
    # Let the queued webhooks finish first so that the counts below are final (the
    # integration drains the pool right after quit anyway, before the process exits).
    events.join(timeout=10)
    comparison.pool.join(timeout=10)
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
        "calling_loop": "compiled" if COMPILED else "pure Python",
        "compared_users": COMPARED_USERS,
        "slow_listener_ms": SLOW_LISTENER_SECONDS * 1e3,
        "sync_requests": _requests_named(environment, SYNC_NAME),
        "spawned_requests": _requests_named(environment, SPAWNED_NAME),
        "spawned_dropped": comparison.pool.stats.dropped,
        "compared_seconds": max(comparison.stopped_at - comparison.started_at, 0.0),
        "run_cpu_seconds": max(comparison.cpu_at_stop - comparison.cpu_at_start, 0.0),
        "run_requests": comparison.requests_at_stop - comparison.requests_at_start,
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


class SyncListenerUser(HttpUser):
    """Requests whose slow listener runs in the user: it waits for the listener each time."""

    fixed_count = COMPARED_USERS
    wait_time = constant(0.005)

    @task
    def page(self) -> None:
        self.client.get("/page", name=SYNC_NAME)


class SpawnedListenerUser(HttpUser):
    """The same requests, the same listener spawned: the user only queues the call."""

    fixed_count = COMPARED_USERS
    wait_time = constant(0.005)

    @task
    def page(self) -> None:
        self.client.get("/page", name=SPAWNED_NAME)
