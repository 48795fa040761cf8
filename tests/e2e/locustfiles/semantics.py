"""Listeners that raise, for the Locust semantics tests; ``LISTENER`` picks which one.

``reschedule``: a request listener raises RescheduleTask; ``error``: it raises ValueError;
``init_error``: an init listener raises. ``STOCK=1`` keeps Locust's own dispatcher, so a test
can compare. Writes ``outcome.json``: requests seen and tasks that went past their request.

The run quits once ``STOP_AFTER_REQUESTS`` requests were seen, by the counting listener itself:
it comes first, so a listener after it that raises (even RescheduleTask, which skips the
listeners after it) cannot keep the run from ending by count.
"""

import os

if os.environ.get("STOCK") == "1":
    from locust import events
else:
    from locust_events.locust import events

# isort: split

import json

import gevent
from locust import HttpUser, constant, task
from locust.exception import RescheduleTask

outcome = {"requests": 0, "went_on_after_request": 0, "dispatcher": type(events.request).__module__}
LISTENER = os.environ.get("LISTENER", "")
STOP_AFTER_REQUESTS = int(os.environ.get("STOP_AFTER_REQUESTS", "0"))
environments = []


@events.init.add_listener
def remember_environment(environment, **kwargs):
    environments.append(environment)


@events.request.add_listener
def count(**kwargs):
    outcome["requests"] += 1
    if outcome["requests"] == STOP_AFTER_REQUESTS:
        gevent.spawn(environments[0].runner.quit)  # not from the user's greenlet, which it kills


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
