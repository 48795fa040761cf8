"""Every request written into SQLite in batches, as a locustfile: writes ``requests.db``.

Run: ``locust -f examples/sqlite_batches.py --headless -u 20 -r 10 -t 10s -H <target URL>``.

One ``INSERT`` of many rows per batch instead of one per request; ``sqlite3`` blocks, so the
batches run in a thread-backed pool and the users keep running while a batch is written.
What the run fired is all written by the time Locust exits: its shutdown hands over the
last, unfinished batch and waits for it.
"""

from locust_events.locust import events  # first: Locust now dispatches through locust_events

# isort: split

import sqlite3
import time

from locust import HttpUser, between, task

from locust_events import ListenerPool

DATABASE = "requests.db"

# One thread writes, so one connection serves it (sqlite3 checks the thread by default).
database = sqlite3.connect(DATABASE, check_same_thread=False)
database.execute(
    "CREATE TABLE IF NOT EXISTS requests (started REAL, request_type TEXT, name TEXT, "
    "response_time REAL, response_length INTEGER, exception TEXT)"
)
writer = ListenerPool(size=1, threads=True, name="sqlite writer")


@events.request.batch_listener(max_size=500, max_wait=1.0, pool=writer)
def write_requests(batch):
    """Runs in the writer's thread: one transaction per batch of up to 500 requests."""
    rows = [
        (
            event.get("start_time") or time.time(),
            event["request_type"],
            event["name"],
            event["response_time"],
            event["response_length"],
            None if event.get("exception") is None else repr(event["exception"]),
        )
        for event in batch
    ]
    with database:  # commits, or rolls back if the insert raised
        database.executemany("INSERT INTO requests VALUES (?, ?, ?, ?, ?, ?)", rows)


class ApiUser(HttpUser):
    wait_time = between(0.01, 0.05)

    @task(3)
    def page_view(self):
        self.client.get("/page")

    @task(1)
    def api_call(self):
        self.client.get("/api/data")
