"""A gevent load runner without Locust, driving thousands of greenlet users through the dispatcher.

Each user times fake requests with ``events.request.measure``; a synchronous listener keeps
statistics, a slow spawned listener stands in for a webhook. At the end it prints how many
request events were fired and how many the webhook received (always the same) and the pool's
stats. ``python examples/embedded_runner.py --help`` lists the knobs; with
``LOCUST_EVENTS_PROFILE=1`` it also logs what each listener cost. With psutil installed
(``python -m pip install psutil``, the ``monitor`` extra) a usage monitor reports CPU and
memory every second; without it the run goes on without the monitor and says so once.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import random
import types
from collections import Counter
from typing import Any

import gevent
import gevent.pool

from locust_events import Lifecycle, ListenerPool, UsageMonitor, events

stats: Counter[str] = Counter()
webhook_received: Counter[str] = Counter()


def record_statistics(
    request_type: str,
    name: str,
    response_time: float | None,
    response_length: int,
    exception: Exception | None = None,
    **kwargs: Any,
) -> None:
    """Synchronous: cheap bookkeeping on the hot path."""
    stats["requests"] += 1
    stats["bytes"] += response_length
    stats["failures"] += exception is not None


def post_to_webhook(name: str, response_time: float | None, **kwargs: Any) -> None:
    """Spawned: pretends to post each request to a monitoring webhook, a few ms per call."""
    gevent.sleep(0.003)
    webhook_received["requests"] += 1


def report_usage(cpu_usage: float, memory_usage: int, **kwargs: Any) -> None:
    print(f"  usage: cpu {cpu_usage:5.1f}%  rss {memory_usage / 2**20:6.1f} MiB")


def user(requests: int) -> None:
    for _ in range(requests):
        with events.request.measure("GET", random.choice(["/", "/api/data"])) as request_meta:
            gevent.sleep(random.uniform(0.0, 0.01))  # the network, simulated
            if random.random() < 0.02:
                raise ConnectionError("connection reset")
            request_meta["response_length"] = 512


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--requests", type=int, default=20, help="requests per user")
    parser.add_argument("--webhook-workers", type=int, default=64)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    webhook_pool = ListenerPool(size=args.webhook_workers, maxsize=5_000, name="webhook pool")
    events.request.add_listener(record_statistics)
    events.request.add_listener(post_to_webhook, spawn=webhook_pool)
    events.usage_monitor.add_listener(report_usage)

    environment = types.SimpleNamespace(process_exit_code=None)
    monitor = None
    if importlib.util.find_spec("psutil") is not None:
        monitor = UsageMonitor(events, environment, interval=1.0)
    else:
        print("usage monitor off: psutil is not installed (python -m pip install psutil)")
    lifecycle = Lifecycle(events, environment, monitor=monitor, drain_timeout=60.0)
    lifecycle.init()
    lifecycle.start()
    print(f"running {args.users} users x {args.requests} requests")
    users = gevent.pool.Group()
    for _ in range(args.users):
        users.spawn(user, args.requests)
    lifecycle.spawning_complete(user_count=args.users)
    users.join()
    lifecycle.stop()
    exit_code = lifecycle.quit()

    pool = webhook_pool.stats
    print(f"request events fired:     {stats['requests']}")
    print(f"received by the webhook:  {webhook_received['requests']}")
    print(f"failed requests:          {stats['failures']}")
    print(f"listener errors:          {events.error_count}")
    print(
        f"webhook pool: {pool.submitted} submitted, {pool.completed} completed, "
        f"{pool.failed} failed, {pool.dropped} dropped, queue high-water {pool.high_water} "
        f"of {webhook_pool.maxsize}"
    )
    if webhook_received["requests"] != stats["requests"]:
        print("MISMATCH: the webhook did not receive every request event")
        return 1
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
