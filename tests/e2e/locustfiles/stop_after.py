"""Ends a run by counts, not by time: loaded beside an example with ``-f example.py,stop_after.py``.

The runner quits once Locust counted ``STOP_AFTER_REQUESTS`` requests, of which at least
``STOP_AFTER_FAILURES`` failed, and ``STOP_AFTER_USER_ERRORS`` errors were raised in tasks
(each 0 when unset). The run's ``--run-time`` then only guards against a run that never gets
there, so what a test asserts does not depend on how busy the machine is.

In a distributed run the master decides, on the counts the workers report, once
``STOP_AFTER_WORKERS`` distinct workers have reported; the workers leave it to the master.
"""

from __future__ import annotations

import os
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

REQUESTS = int(os.environ.get("STOP_AFTER_REQUESTS", "0"))
FAILURES = int(os.environ.get("STOP_AFTER_FAILURES", "0"))
USER_ERRORS = int(os.environ.get("STOP_AFTER_USER_ERRORS", "0"))
WORKERS = int(os.environ.get("STOP_AFTER_WORKERS", "0"))

_state: dict[str, Any] = {"environment": None, "user_errors": 0, "quitting": False}
_workers_reported: set[str] = set()


@events.init.add_listener
def _remember_environment(environment: Environment, **kwargs: Any) -> None:
    _state["environment"] = environment


def _quit_when_counted() -> None:
    environment = _state["environment"]
    if _state["quitting"] or environment is None or environment.runner is None:
        return
    if isinstance(environment.runner, WorkerRunner):
        return
    total = environment.runner.stats.total
    if (
        len(_workers_reported) >= WORKERS
        and total.num_requests >= REQUESTS
        and total.num_failures >= FAILURES
        and _state["user_errors"] >= USER_ERRORS
    ):
        _state["quitting"] = True
        gevent.spawn(environment.runner.quit)  # not from the user's greenlet, which it kills


@events.request.add_listener
def _after_request(**kwargs: Any) -> None:
    _quit_when_counted()


@events.user_error.add_listener
def _after_user_error(**kwargs: Any) -> None:
    _state["user_errors"] += 1
    _quit_when_counted()


@events.worker_report.add_listener
def _after_worker_report(client_id: str, **kwargs: Any) -> None:
    _workers_reported.add(client_id)
    _quit_when_counted()
