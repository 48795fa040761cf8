"""Locust's own features with the switch, or on Locust's own events with ``STOCK_EVENTS=1``.

Every run is bounded by a count: once ``STOP_AFTER`` requests were started in a process, each
user there stops at its next task, and once they were made the runner quits (a master counts
what its workers reported); the web UI's runner keeps its stopped users. Each process
writes what its listeners saw to ``RESULT_DIR/<pid>.json`` when ``quit`` fires, or, run as a
script with ``run_single_user``, when the user stopped.
"""

import os

if os.environ.get("STOCK_EVENTS") == "1":
    from locust import events
else:
    from locust_events.locust import events

# isort: split

import json

import gevent
from locust import HttpUser, constant, run_single_user, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

STOP_AFTER = int(os.environ.get("STOP_AFTER", "20"))
seen = {"requests": 0, "failures": 0, "role": "local", "quitting": None, "quit": None}
state = {"environment": None, "stopping": False, "started": 0}


@events.init.add_listener
def remember(environment, runner, web_ui):
    state["environment"] = environment
    if isinstance(runner, MasterRunner):
        seen["role"] = "master"
    elif isinstance(runner, WorkerRunner):
        seen["role"] = "worker"


def stop_once(environment):
    runner = environment.runner
    local_or_master = runner is not None and not isinstance(runner, WorkerRunner)
    if not state["stopping"] and local_or_master and environment.web_ui is None:
        state["stopping"] = True
        gevent.spawn(runner.quit)


@events.request.add_listener
def count(request_type, name, response_time, response_length, exception, **kwargs):
    seen["requests"] += 1
    seen["failures"] += exception is not None
    if seen["requests"] >= STOP_AFTER:
        stop_once(state["environment"])


@events.worker_report.add_listener
def count_reports(client_id, data):
    environment = state["environment"]
    if environment.runner.stats.total.num_requests >= STOP_AFTER:
        stop_once(environment)


@events.quitting.add_listener
def on_quitting(environment):
    seen["quitting"] = "fired"


@events.quit.add_listener
def on_quit(exit_code):
    seen["quit"] = exit_code
    write_result()


def write_result():
    with open(os.path.join(os.environ["RESULT_DIR"], f"{os.getpid()}.json"), "w") as file:
        json.dump(seen, file)


class Reader(HttpUser):
    wait_time = constant(0)

    @task
    def read(self):
        if state["started"] >= STOP_AFTER:  # no greenlet switch between check and count
            raise StopUser()
        state["started"] += 1
        self.client.get("/api/data")


if __name__ == "__main__":
    run_single_user(Reader)
    write_result()
