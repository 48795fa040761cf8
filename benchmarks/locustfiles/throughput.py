"""The benchmark's locustfile: the examples' request listeners, on Locust's events or ours.

``DISPATCHER=stock`` keeps Locust's own; anything else switches to locust_events. Writes
``throughput.json``: requests between test_start and test_stop, and the CPU and wall time
the process spent meanwhile. ``STOP_AFTER_REQUESTS=N`` quits the run once N requests were
made (the smoke run's bound, a count rather than a time).
"""

import os

if os.environ.get("DISPATCHER") == "stock":
    from locust import events
else:
    from locust_events.locust import events

# isort: split

import json
import time
from collections import defaultdict

import gevent
from locust import FastHttpUser, constant, task

STOP_AFTER_REQUESTS = int(os.environ.get("STOP_AFTER_REQUESTS", "0"))

metrics = {"api_calls": 0, "error_count": 0, "total_response_time": 0.0}
buckets = defaultdict(int)
window = {}


@events.request.add_listener
def collect_metrics(request_type, name, response_time, response_length, exception, **kwargs):
    metrics["api_calls"] += 1
    metrics["total_response_time"] += response_time
    if exception:
        metrics["error_count"] += 1


@events.request.add_listener
def bucket_response_time(response_time, **kwargs):
    if response_time < 100:
        buckets["<100ms"] += 1
    elif response_time < 500:
        buckets["100-500ms"] += 1
    else:
        buckets[">=500ms"] += 1


if STOP_AFTER_REQUESTS:

    @events.request.add_listener
    def stop_after_enough_requests(**kwargs):
        if metrics["api_calls"] == STOP_AFTER_REQUESTS:
            # Not from the user's greenlet, which quitting kills.
            gevent.spawn(window["environment"].runner.quit)


@events.test_start.add_listener
def open_window(environment, **kwargs):
    window["environment"] = environment
    window["requests"] = metrics["api_calls"]
    window["cpu"] = time.process_time()
    window["wall"] = time.perf_counter()


@events.test_stopping.add_listener
def close_window(environment, **kwargs):
    result = {
        "dispatcher": type(events.request).__module__,
        "requests": metrics["api_calls"] - window["requests"],
        "cpu_seconds": time.process_time() - window["cpu"],
        "wall_seconds": time.perf_counter() - window["wall"],
    }
    with open("throughput.json", "w") as file:
        json.dump(result, file)


class FastUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def api_call(self):
        self.client.get("/api/data")
