"""locust-plugins with the switch: its JMeter CSV listener and its ``--check-fail-ratio``.

Locust imports locust-plugins before the locustfile, so the plugin's ``quitting`` check is
registered first and, as ``quitting`` runs last registered first, called after ours. Bounded
by the plugin's ``-i`` (iterations). Writes what our listeners saw to ``RESULT_FILE`` on
``quit``.
"""

import os

if os.environ.get("STOCK_EVENTS") == "1":
    from locust import events
else:
    from locust_events.locust import events

# isort: split

import json

from locust import HttpUser, constant, task
from locust_plugins.listeners.jmeter import JmeterListener

seen = {}


@events.quitting.add_listener
def on_quitting(environment, exit_code=None):
    seen["quitting"] = exit_code


@events.quit.add_listener
def on_quit(exit_code):
    seen["quit"] = exit_code
    with open(os.environ["RESULT_FILE"], "w") as file:
        json.dump(seen, file)


@events.init.add_listener
def on_init(environment, **kwargs):
    JmeterListener(env=environment, results_filename=os.environ["JMETER_FILE"])


class Reader(HttpUser):
    wait_time = constant(0)

    @task
    def read(self):
        self.client.get("/api/data")
