"""A gevent-cooperative event dispatcher for load tests, with Locust's hooks and semantics.

Importing it imports no Locust and monkey-patches nothing.
"""

from __future__ import annotations

from ._errors import DispatchError, ErrorPolicy
from ._events import Events
from ._hooks import DeprecatedEventHook, EventHook, SpawnedListener
from ._lifecycle import Lifecycle
from ._monitor import UsageMonitor
from ._pool import ListenerPool, PoolClosed, PoolFull, PoolStats
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
    "DeprecatedEventHook",
    "DispatchError",
    "ErrorPolicy",
    "EventHandler",
    "EventHook",
    "Events",
    "Lifecycle",
    "LifecycleHandler",
    "ListenerPool",
    "PoolClosed",
    "PoolFull",
    "PoolStats",
    "RequestHandler",
    "SpawnedListener",
    "StatisticsHandler",
    "SystemHandler",
    "UsageMonitor",
    "UserErrorHandler",
    "declare_hook",
    "events",
]

#: The global registry, as ``locust.events`` is Locust's.
events: Events = Events()
