"""What registering per-user listeners costs: a bound method of one User class per user.

Each round adds the bound method of every user to a declared hook, then removes them, last
user first, as users stopping would. Registration is linear when 20,000 users cost about
twice what 10,000 do (the ratio the summary prints for the group).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locust_events import Events

from .conftest import Measure

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
