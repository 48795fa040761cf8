"""Custom metrics, message hooks and placed listeners in a real run; every process records.

Workers (and a local run) record each request into a counter and a histogram split by name,
and log, at each report to the master, the raw values recorded since the last one. The
master sends two messages at test start: ``run_id`` (handled by a hook listener and by a
handler registered with Locust's ``register_message``) and ``slow`` (a spawned listener that
sleeps ``SLOW_SECONDS``, logging the heartbeats its worker receives meanwhile, then answers
``slow_done``). The master writes the merged figures after every merge and quits once a worker
answered and ``GONE`` others are gone (the test kills one and stops another); a local run
quits after ``LOCAL_REQUESTS`` requests. Files go to ``RECORD_DIR``.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json
import os
import time
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, constant, task
from locust.runners import MasterRunner, WorkerRunner

from locust_events import ListenerPool
from locust_events.distributed import message_hook, metrics_merged, place, send_message
from locust_events.metrics import counter, histogram

OUT = Path(os.environ["RECORD_DIR"])
SLOW_SECONDS = float(os.environ.get("SLOW_SECONDS", "10"))
LOCAL_REQUESTS = int(os.environ.get("LOCAL_REQUESTS", "40"))
GONE = int(os.environ.get("GONE", "2"))  # the master quits once this many workers are gone

requests_by_name = counter("requests", "Requests, by name")
response_ms = histogram("response_ms", "Response time in ms, by name", relative_error=0.01)

state: dict[str, Any] = {"environment": None, "quitting": False, "slow_done": [], "figures": None}
unreported: list[float] = []
heartbeats: list[float] = []


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def front_page(self) -> None:
        self.client.get("/")

    @task
    def api(self) -> None:
        self.client.get("/api/data")


def write(name: str, record: Any) -> None:
    (OUT / name).write_text(json.dumps(record))


def append(name: str, record: Any) -> None:
    with (OUT / name).open("a") as file:
        file.write(json.dumps(record) + "\n")


@place(events.request, on="workers")
def record(name: str, response_time: float, **kwargs: Any) -> None:
    requests_by_name.add(1, label=name)
    response_ms.record(response_time, label=name)
    unreported.append(response_time)
    runner = state["environment"].runner
    local = not isinstance(runner, WorkerRunner)
    if local and not state["quitting"] and runner.stats.total.num_requests >= LOCAL_REQUESTS:
        state["quitting"] = True
        gevent.spawn(runner.quit)


# On each worker, at test start: 5 calls into a pool with room for 1 (4 dropped), and one
# listener error; the master's table at quit must show both, summed over the workers.
exports = ListenerPool(size=1, maxsize=1, on_full="drop", name="exports")
burst = events.add_hook("burst", "number")
burst.add_listener(lambda number: None, spawn=exports)


@place(events.test_start, on="workers")
def burst_and_fail(environment: Any, **kwargs: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):  # a local run stays clean
        for number in range(5):
            burst.fire(number=number)
        raise RuntimeError("a listener failing on a worker")


@events.report_to_master.add_listener
def log_what_this_report_carries(client_id: str, data: dict[str, Any], **kwargs: Any) -> None:
    # Registered before the metrics' own listener, and nothing yields in between: this line
    # holds exactly the values whose folds the same report carries.
    append(f"reports-{os.getpid()}.jsonl", unreported)
    unreported.clear()


@events.quit.add_listener
def log_what_is_left(**kwargs: Any) -> None:
    # Registered before the metrics' own quit listener: what it sends a worker's master as
    # its last message, when the worker quits on its own.
    write(f"rest-{os.getpid()}.json", unreported)


@events.init.add_listener
def remember(environment: Any, **kwargs: Any) -> None:
    state["environment"] = environment
    runner = environment.runner
    role = type(runner).__name__
    placed = [r.listener.__name__ for r in events.request.registrations]
    write(
        f"process-{os.getpid()}.json",
        {
            "role": role,
            "client_id": getattr(runner, "client_id", None),
            "record_placed_here": "record" in placed,
        },
    )
    if isinstance(runner, WorkerRunner):
        # As a plugin does (locust-plugins' Timescale listener registers run_id this way).
        runner.register_message("run_id", plain_run_id_handler)


def plain_run_id_handler(environment: Any, msg: Any, **kwargs: Any) -> None:
    append(f"run_id-{os.getpid()}.jsonl", {"handler": "register_message", "data": msg.data})


@message_hook("run_id").add_listener
def run_id_listener(environment: Any, msg: Any, **kwargs: Any) -> None:
    append(f"run_id-{os.getpid()}.jsonl", {"handler": "hook", "data": msg.data})


@events.heartbeat_received.add_listener
def count_heartbeat(client_id: str, timestamp: float, **kwargs: Any) -> None:
    heartbeats.append(time.time())


def sleep_then_answer(environment: Any, msg: Any, **kwargs: Any) -> None:
    started = time.time()
    gevent.sleep(SLOW_SECONDS)
    ended = time.time()
    during = [t for t in heartbeats if started < t < ended]
    write(f"slow-{os.getpid()}.json", {"started": started, "ended": ended, "heartbeats": during})
    send_message("slow_done", {"pid": os.getpid()})


message_hook("slow").add_listener(sleep_then_answer, spawn=True)


@message_hook("slow_done").add_listener
def note_answer(environment: Any, msg: Any, **kwargs: Any) -> None:
    state["slow_done"].append(msg.data["pid"])


@place(events.test_start, on="master")
def start_messages(environment: Any, **kwargs: Any) -> None:
    if isinstance(environment.runner, MasterRunner):
        send_message("run_id", "run-42")
        send_message("slow")


@metrics_merged.add_listener
def export(environment: Any, figures: Any, **kwargs: Any) -> None:
    state["figures"] = figures
    record = {
        "rows": figures.rows(),
        "gone": sorted(figures.gone),
        "workers": sorted(figures.by_worker),
        "requests": figures.value("requests"),
        "requests_by_worker": {w: figures.value("requests", worker=w) for w in figures.by_worker},
        "count_by_worker": {w: figures.count("response_ms", worker=w) for w in figures.by_worker},
        "percentiles": {str(q): figures.percentile("response_ms", q) for q in (0.5, 0.9, 0.99)},
        "locust_requests": environment.runner.stats.total.num_requests,
    }
    write("figures.json", record)
    runner = environment.runner
    answered_and_gone = state["slow_done"] and len(figures.gone) >= GONE
    if isinstance(runner, MasterRunner) and not state["quitting"] and answered_and_gone:
        state["quitting"] = True
        gevent.spawn(runner.quit)
