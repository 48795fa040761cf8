"""The documented handler type aliases, for annotating listeners."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "EventHandler",
    "LifecycleHandler",
    "RequestHandler",
    "StatisticsHandler",
    "SystemHandler",
    "UserErrorHandler",
]

#: ``request``: request_type, name, response_time (ms), response_length, exception.
RequestHandler = Callable[[str, str, float, int, Exception | None], None]
#: ``user_error``: user_instance, exception, tb.
UserErrorHandler = Callable[[Any, Exception, Any], None]
#: ``init``, ``test_start``, ``test_stopping``, ``test_stop``: the Locust environment.
LifecycleHandler = Callable[[Any], None]
#: ``usage_monitor`` and other statistics hooks: a dict of statistics.
StatisticsHandler = Callable[[dict[str, Any]], None]
#: ``cpu_warning`` and other system hooks: a usage percentage.
SystemHandler = Callable[[float], None]
#: Any listener of any hook.
EventHandler = Callable[..., None]
