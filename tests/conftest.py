"""Fixtures shared by the behaviour tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from locust_events import EventHook, Events
from locust_events.tools.request_payload import REQUEST_PAYLOAD as REQUEST_PAYLOAD  # re-exported


@pytest.fixture
def hook() -> EventHook:
    """A standalone hook that accepts any listener."""
    return EventHook("my_event")


@pytest.fixture
def registry() -> Events:
    """A fresh registry, so no test sees another's listeners."""
    return Events()


class Recorder:
    """A listener that remembers every call it got, for asserting on order and payloads."""

    def __init__(self, label: str = "recorder", log: list[str] | None = None) -> None:
        self.label = label
        self.calls: list[dict[str, Any]] = []
        self.log = log

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.log is not None:
            self.log.append(self.label)


@pytest.fixture
def recorder_factory() -> Callable[..., Recorder]:
    return Recorder
