"""Records what every hook received in this process, for the distributed test.

Writes ``<RECORD_DIR>/<role>-<pid>.json`` when ``quit`` fires: for each hook, one entry per
call with the keyword names it got and its JSON-friendly values.

The run ends by events, not by time: each worker lists the hooks it has seen in its reports,
and the master quits once it and every expected worker saw every hook the test checks.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json
import os
from collections import defaultdict

import gevent
import locust.runners
from locust import HttpUser, constant, task
from locust.runners import MasterRunner, WorkerRunner

import locust_events

# Shorten Locust's intervals so that a run of a few seconds sees every periodic event, and
# warn about any CPU usage so that cpu_warning fires too.
locust.runners.CPU_MONITOR_INTERVAL = 0.5
locust.runners.WORKER_REPORT_INTERVAL = 0.5
locust.runners.CPU_WARNING_THRESHOLD = -1

calls = defaultdict(list)
role = {"name": "local"}
SCALARS = (str, int, float, bool, type(None))
#: The hooks each worker must have seen, then the master, before the master quits the run.
WORKER_MUST_SEE = {
    "test_start",
    "spawning_complete",
    "report_to_master",
    "heartbeat_received",
    "usage_monitor",
    "cpu_warning",
}
MASTER_MUST_SEE = {"test_start", "spawning_complete", "usage_monitor", "cpu_warning"}
#: On the master: the hooks each worker said it had seen, by client id.
seen_by_worker = {}
environments = []
quitting = []


def recorder(hook_name):
    def record(**kwargs):
        entry = {"names": sorted(kwargs)}
        for name, value in kwargs.items():
            if isinstance(value, SCALARS) or (name == "stats" and isinstance(value, dict)):
                entry[name] = value
        calls[hook_name].append(entry)
        if role["name"] == "master":
            quit_once_everything_seen()

    record.__qualname__ = f"record_{hook_name}"
    return record


for hook_name in locust_events.Events.hook_declarations:
    getattr(events, hook_name).add_listener(recorder(hook_name))


@events.init.add_listener
def remember_role(environment, **kwargs):
    environments.append(environment)
    if isinstance(environment.runner, MasterRunner):
        role["name"] = "master"
    elif isinstance(environment.runner, WorkerRunner):
        role["name"] = "worker"


@events.report_to_master.add_listener
def tell_master_what_was_seen(client_id, data, **kwargs):
    data["recording_hooks_seen"] = sorted(calls)


@events.worker_report.add_listener
def note_what_a_worker_saw(client_id, data, **kwargs):
    seen_by_worker[client_id] = set(data.get("recording_hooks_seen", ()))
    quit_once_everything_seen()


def quit_once_everything_seen():
    """On the master: quit once both sides saw every hook, each worker its heartbeat too."""
    if quitting or not environments:
        return
    runner = environments[0].runner
    expected = environments[0].parsed_options.expect_workers
    connected = {call["client_id"] for call in calls.get("worker_connect", ())}
    if len(connected) < expected or not {name for name in calls if calls[name]} >= MASTER_MUST_SEE:
        return
    for hook_name in ("worker_report", "heartbeat_sent"):
        if {call["client_id"] for call in calls.get(hook_name, ())} != connected:
            return
    if all(seen_by_worker.get(client, set()) >= WORKER_MUST_SEE for client in connected):
        quitting.append(True)
        gevent.spawn(runner.quit)


@events.quit.add_listener
def write_record(exit_code, **kwargs):
    record = {
        "role": role["name"],
        "pid": os.getpid(),
        "same_hooks": all(
            getattr(locust.events, name) is getattr(locust_events.events, name)
            for name in locust_events.Events.hook_declarations
        ),
        "calls": calls,
    }
    path = os.path.join(os.environ["RECORD_DIR"], f"{role['name']}-{os.getpid()}.json")
    with open(path, "w") as file:
        json.dump(record, file)


class RecordedUser(HttpUser):
    wait_time = constant(0.2)

    @task
    def home(self):
        self.client.get("/")
