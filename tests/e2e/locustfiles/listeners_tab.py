"""A bounded Locust run for the Listeners tab: each user makes REQUESTS requests, then stops.

Two listeners of ours (and one on ``quit`` that records, for the headless test, whether the
listeners were wrapped) on ``request``: one sync, one spawned into the registry's pool, so the
tab has a sync row, a spawned row with queue waits, and a pool.
"""

from __future__ import annotations

import json
import os
from typing import Any

from locust import task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from locust_events.locust import events

REQUESTS = int(os.environ.get("REQUESTS_PER_USER", "20"))


@events.request.add_listener
def count_bytes(response_length: int, **kwargs: Any) -> None:
    pass


@events.request.spawn_listener
def send_to_webhook(name: str, **kwargs: Any) -> None:
    pass


@events.quit.add_listener
def record_whether_profiled(**kwargs: Any) -> None:
    """With RECORD_FILE set, write down whether the listeners were wrapped for the tab."""
    if "RECORD_FILE" in os.environ:
        with open(os.environ["RECORD_FILE"], "w") as file:
            json.dump({"profiled": events.profiler is not None}, file)


class BoundedUser(FastHttpUser):
    @task
    def fetch(self) -> None:
        for _ in range(REQUESTS):
            self.client.get("/page")
        raise StopUser
