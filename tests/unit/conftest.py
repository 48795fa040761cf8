"""Fixtures shared by the unit tests, which run on both calling loops (``calling_loops``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from locust_events.tools.request_payload import REQUEST_PAYLOAD as REQUEST_PAYLOAD

from ..calling_loops import (  # noqa: F401 - pytest finds hooks and fixtures by name here
    calling_loop,
    pytest_collect_file,
    pytest_pycollect_makemodule,
    pytest_runtest_call,
    pytest_runtest_setup,
    pytest_runtest_teardown,
)

if TYPE_CHECKING:
    from locust_events import EventHook, Events


@pytest.fixture
def hook() -> EventHook:
    """A standalone hook that accepts any listener."""
    from locust_events import EventHook  # imported here: in the test's calling loop

    return EventHook("my_event")


@pytest.fixture
def registry() -> Events:
    """A fresh registry, so no test sees another's listeners."""
    from locust_events import Events  # imported here: in the test's calling loop

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
