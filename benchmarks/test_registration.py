"""What registering per-user listeners costs: a bound method of one User class per user.

Each round adds the bound method of every user to a declared hook, then removes them, last
user first, as users stopping would. Registration is linear when 20,000 users cost about
twice what 10,000 do (the ratio the summary prints for the group). Rounds are timed in the
process's CPU time: a round takes tens of milliseconds, long enough for a busy machine to
preempt it, which wall time would count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from locust_events import Events

from .conftest import Measure

pytestmark = pytest.mark.benchmark(timer=time.process_time, min_rounds=10)

GROUP = "registration, per-user listeners (add then remove in reverse)"


class User:
    def on_request(self, request_type: str, name: str, **kwargs: Any) -> None:
        pass


def add_then_remove(users: int) -> Callable[[], None]:
    hook = Events().request
    everyone = [User() for _ in range(users)]

    def round_() -> None:
        for user in everyone:
            hook.add_listener(user.on_request)
        for user in reversed(everyone):
            hook.remove_listener(user.on_request)

    return round_


def test_ten_thousand_users(measure: Measure) -> None:
    measure(GROUP, "10,000 users", add_then_remove(10_000), baseline=True)


def test_twenty_thousand_users(measure: Measure) -> None:
    measure(GROUP, "20,000 users", add_then_remove(20_000))
