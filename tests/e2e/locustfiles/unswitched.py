"""The README's first listener pasted into a locustfile, with or without the switch.

Without ``import locust_events.locust`` Locust never calls the listener; the run must say so.
With SWITCH=1 the file ends with that line, and the listener is called for every request.
Each call appends a line to CALLS_FILE.
"""

import os

from locust import HttpUser, constant, task

from locust_events import events


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def front_page(self):
        self.client.get("/")


@events.request.add_listener
def on_request(request_type, name, response_time, response_length, exception=None, **kwargs):
    with open(os.environ["CALLS_FILE"], "a") as calls:
        calls.write(f"{name}\n")


if os.environ.get("SWITCH") == "1":
    import locust_events.locust  # noqa: F401 - the fix the warning names
