"""Listeners that raise, for the Locust semantics tests; ``LISTENER`` picks which one.

``reschedule``: a request listener raises RescheduleTask; ``error``: it raises ValueError;
``init_error``: an init listener raises. ``STOCK=1`` keeps Locust's own dispatcher, so a test
can compare. Writes ``outcome.json``: requests seen and tasks that went past their request.
"""

import os

if os.environ.get("STOCK") == "1":
    from locust import events
else:
    from locust_events.locust import events

# isort: split

import json

from locust import HttpUser, constant, task
from locust.exception import RescheduleTask

outcome = {"requests": 0, "went_on_after_request": 0, "dispatcher": type(events.request).__module__}
LISTENER = os.environ.get("LISTENER", "")


@events.request.add_listener
def count(**kwargs):
    outcome["requests"] += 1


if LISTENER == "reschedule":

    @events.request.add_listener
    def reschedule(**kwargs):
        raise RescheduleTask()

elif LISTENER == "error":

    @events.request.add_listener
    def fail(**kwargs):
        raise ValueError("a listener bug")

elif LISTENER == "init_error":

    @events.init.add_listener
    def fail_at_init(**kwargs):
        raise ValueError("a setup bug")


@events.quit.add_listener
def write_outcome(exit_code, **kwargs):
    outcome["exit_code"] = exit_code
    with open("outcome.json", "w") as file:
        json.dump(outcome, file)


class OneTaskUser(HttpUser):
    wait_time = constant(0.1)

    @task
    def request_then_count(self):
        self.client.get("/api/data")
        outcome["went_on_after_request"] += 1
