"""Records what every hook received in this process, for the distributed test.

Writes ``<RECORD_DIR>/<role>-<pid>.json`` when ``quit`` fires: for each hook, one entry per
call with the keyword names it got and its JSON-friendly values.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json
import os
from collections import defaultdict

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


def recorder(hook_name):
    def record(**kwargs):
        entry = {"names": sorted(kwargs)}
        for name, value in kwargs.items():
            if isinstance(value, SCALARS) or (name == "stats" and isinstance(value, dict)):
                entry[name] = value
        calls[hook_name].append(entry)

    record.__qualname__ = f"record_{hook_name}"
    return record


for hook_name in locust_events.Events.hook_declarations:
    getattr(events, hook_name).add_listener(recorder(hook_name))


@events.init.add_listener
def remember_role(environment, **kwargs):
    if isinstance(environment.runner, MasterRunner):
        role["name"] = "master"
    elif isinstance(environment.runner, WorkerRunner):
        role["name"] = "worker"


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
