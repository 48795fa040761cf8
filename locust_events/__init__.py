"""A gevent-cooperative event dispatcher for load tests, with Locust's hooks and semantics.

Importing it imports no Locust and monkey-patches nothing.
"""

from __future__ import annotations

from ._errors import ErrorPolicy
from ._events import Events
from ._hooks import DeprecatedEventHook, EventHook
from ._implementation import COMPILED  # whether fire runs the compiled loop (_speedups)
from ._registry import declare_hook
from ._types import (
    EventHandler,
    LifecycleHandler,
    RequestHandler,
    StatisticsHandler,
    SystemHandler,
    UserErrorHandler,
)

__all__ = [
    "COMPILED",
    "DeprecatedEventHook",
    "ErrorPolicy",
    "EventHandler",
    "EventHook",
    "Events",
    "LifecycleHandler",
    "RequestHandler",
    "StatisticsHandler",
    "SystemHandler",
    "UserErrorHandler",
    "declare_hook",
    "events",
]

#: The global registry, as ``locust.events`` is Locust's.
events: Events = Events()
