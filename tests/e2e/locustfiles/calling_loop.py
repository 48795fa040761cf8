"""Reports which calling loop a real Locust run dispatched on, for the calling-loop tests.

Writes ``calling_loop.json`` when ``quit`` fires: ``locust_events.COMPILED``, the modules of
the request hook's classes, and how many request events a synchronous and a spawned listener
got. Loaded with ``stop_after.py``, which ends the run by a count of requests.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import json

from locust import HttpUser, constant, task

import locust_events

counts = {"sync": 0, "spawned": 0}


@events.request.add_listener
def count_in_line(**kwargs):
    counts["sync"] += 1


def count_spawned(**kwargs):
    counts["spawned"] += 1


events.request.add_listener(count_spawned, spawn=True)


@events.quit.add_listener
def report(exit_code, **kwargs):
    with open("calling_loop.json", "w") as file:
        json.dump(
            {
                "compiled": locust_events.COMPILED,
                "hook_classes": [cls.__module__ for cls in type(events.request).__mro__],
                **counts,
            },
            file,
        )


class QuickUser(HttpUser):
    wait_time = constant(0)

    @task
    def home(self):
        self.client.get("/")
