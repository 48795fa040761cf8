"""A bounded run for the Custom metrics tab: each user makes REQUESTS requests, then stops;
every request is counted and timed into metrics split by name; a ``ping`` message is sent
(to itself) at test start and handled by a listener of its hook."""

from __future__ import annotations

import os
from typing import Any

from locust import task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from locust_events.distributed import message_hook, send_message
from locust_events.locust import events
from locust_events.metrics import counter, histogram

REQUESTS = int(os.environ.get("REQUESTS_PER_USER", "20"))
requests_by_name = counter("requests", "Requests, by name")
response_ms = histogram("response_ms", "Response time in ms")


@events.request.add_listener
def record(name: str, response_time: float, **kwargs: Any) -> None:
    requests_by_name.add(1, label=name)
    response_ms.record(response_time)


@message_hook("ping").add_listener
def on_ping(environment: Any, msg: Any, **kwargs: Any) -> None:
    pass


@events.test_start.add_listener
def send_ping(**kwargs: Any) -> None:
    send_message("ping", "hello")  # a local run delivers it to itself


class Visitor(FastHttpUser):
    @task
    def front_page(self) -> None:
        self.made = getattr(self, "made", 0) + 1
        if self.made > REQUESTS:
            raise StopUser()
        self.client.get("/")
