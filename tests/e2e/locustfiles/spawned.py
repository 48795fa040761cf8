"""A spawned request listener slower than the requests, for the pool draining tests.

Writes ``delivery.json`` when the process exits (after Locust's quit and the drain): how
many request events fired and how many the spawned listener completed; creates ``running``
once every user was spawned. ``LISTENER_SLEEP``
sets the listener's seconds per call, ``DRAIN_TIMEOUT`` the integration's bound, ``POOL``
("size,maxsize") a small pool of the listener's own instead of the registry's.
``HOLD_UNTIL_STOP=1`` holds every call until test_stop, so that the pool has a backlog when
the run stops whatever the machine's speed (``pending_at_stop``); ``SIGNAL_AT_BACKLOG=N``
creates ``backlogged`` once N calls wait, for a test to signal the run then.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import atexit
import json
import os

import gevent
import gevent.event
from locust import HttpUser, constant, task

import locust_events.locust
from locust_events import ListenerPool

locust_events.locust.DRAIN_TIMEOUT = float(os.environ.get("DRAIN_TIMEOUT", "10"))
SLEEP = float(os.environ.get("LISTENER_SLEEP", "0.1"))
counts = {"fired": 0, "delivered": 0, "pending_at_quit": None, "pending_at_stop": None}
SIGNAL_AT_BACKLOG = int(os.environ.get("SIGNAL_AT_BACKLOG", "0"))
released = gevent.event.Event()
if os.environ.get("HOLD_UNTIL_STOP") != "1":
    released.set()


@events.request.add_listener
def count_fired(**kwargs):
    counts["fired"] += 1
    if SIGNAL_AT_BACKLOG and pool.stats.undelivered == SIGNAL_AT_BACKLOG:
        with open("backlogged", "w") as file:
            file.write(str(SIGNAL_AT_BACKLOG))


def deliver(**kwargs):
    released.wait()
    gevent.sleep(SLEEP)  # a webhook's round trip
    counts["delivered"] += 1


if os.environ.get("POOL"):
    size, maxsize = (int(n) for n in os.environ["POOL"].split(","))
    pool = ListenerPool(size=size, maxsize=maxsize, name="webhook pool")
else:
    pool = events.pool
events.request.add_listener(deliver, spawn=pool)


@events.spawning_complete.add_listener
def mark_running(user_count, **kwargs):
    with open("running", "w") as file:
        file.write(str(user_count))


@events.test_stop.add_listener
def release_held_calls(**kwargs):
    counts["pending_at_stop"] = pool.stats.undelivered
    released.set()


@events.quit.add_listener
def note_backlog(exit_code, **kwargs):
    counts["pending_at_quit"] = pool.stats.undelivered
    counts["exit_code"] = exit_code


@atexit.register  # runs after Locust's shutdown fired quit and the pool was drained
def write_delivery():
    stats = pool.stats
    counts["stats"] = {
        "submitted": stats.submitted,
        "ended": stats.completed + stats.failed + stats.dropped,
        "dropped": stats.dropped,
        "undelivered": stats.undelivered,
    }
    with open("delivery.json", "w") as file:
        json.dump(counts, file)


class BusyUser(HttpUser):
    wait_time = constant(0.02)

    @task
    def home(self):
        self.client.get("/")
