"""The Listeners tab's cost benchmark: a bounded FastHttpUser run with Locust's web UI on.

``DISPATCHER=stock`` keeps Locust's own events; anything else switches to locust_events
(whose Listeners tab ``LOCUST_EVENTS_LISTENERS_TAB=0`` turns off). Each of ``USERS`` users
makes ``REQUESTS_PER_USER`` requests; the last one to finish ends the process with SIGTERM,
Locust's graceful shutdown, so the run is bounded by its count alone.
"""

import os

if os.environ.get("DISPATCHER") == "stock":
    from locust import events
else:
    from locust_events.locust import events

# isort: split

import signal

from locust import FastHttpUser, constant, task
from locust.exception import StopUser

REQUESTS = int(os.environ["REQUESTS_PER_USER"])
USERS = int(os.environ["USERS"])
finished = []
received = {"bytes": 0}


@events.request.add_listener
def count_bytes(response_length, **kwargs):
    received["bytes"] += response_length


class BoundedUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def fetch(self):
        for _ in range(REQUESTS):
            self.client.get("/page")
        finished.append(self)
        if len(finished) == USERS:
            os.kill(os.getpid(), signal.SIGTERM)
        raise StopUser
