"""A short example run: greenlet users fire request events into listeners.

Run it with ``python examples/quickstart.py``; it prints what the listeners saw.
"""

from __future__ import annotations

import random
from typing import Any

import gevent
import gevent.pool

from locust_events import events

USERS = 200
REQUESTS_PER_USER = 50

totals = {"requests": 0, "failures": 0, "timed": 0, "response_time_ms": 0.0}


@events.request.add_listener
def count_request(
    request_type: str,
    name: str,
    response_time: float | None,
    response_length: int,
    exception: Exception | None = None,
    **kwargs: Any,
) -> None:
    totals["requests"] += 1
    if response_time is not None:  # None: a request without a duration (asynchronous clients)
        totals["response_time_ms"] += response_time
        totals["timed"] += 1
    if exception is not None:
        totals["failures"] += 1


@events.test_stop.add_listener
def report(environment: Any, **kwargs: Any) -> None:
    average = totals["response_time_ms"] / max(totals["timed"], 1)
    print(f"requests fired:     {totals['requests']}")
    print(f"failures recorded:  {totals['failures']}")
    print(f"average time:       {average:.2f} ms")
    print(f"listener errors:    {events.error_count}")


def user() -> None:
    for _ in range(REQUESTS_PER_USER):
        with events.request.measure("GET", "/api/data") as request_meta:
            gevent.sleep(random.uniform(0, 0.002))  # stands in for the network
            if random.random() < 0.05:
                raise ConnectionError("simulated failure")
            request_meta["response_length"] = 512


def main() -> None:
    events.test_start.fire(environment=None)
    users = gevent.pool.Group()
    for _ in range(USERS):
        users.spawn(user)
    users.join(raise_error=True)
    events.test_stop.fire(environment=None)
    assert totals["requests"] == USERS * REQUESTS_PER_USER


if __name__ == "__main__":
    main()
