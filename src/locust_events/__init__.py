"""A gevent-cooperative event dispatcher for load tests, with Locust's hooks and semantics.

Importing it imports no Locust and monkey-patches nothing. Where Locust is imported already (a
locustfile), it adds one listener to Locust's ``init`` that warns, once, when listeners of
``events`` would never be called because ``locust_events.locust`` was never imported.
"""

from __future__ import annotations

from ._deprecated import DeprecatedEventHook
from ._errors import DispatchError, ErrorPolicy
from ._events import Events
from ._hooks import BatchSettings, EventHook, Registration
from ._implementation import COMPILED  # whether fire runs the compiled loop (_speedups)
from ._lifecycle import Lifecycle
from ._monitor import UsageMonitor
from ._pool import ListenerPool, PoolClosed, PoolFull, PoolStats, UsersWaiting
from ._registry import declare_hook
from ._unswitched import watch_locust
from ._version import __version__
from .listeners import (
    EventHandler,
    LifecycleHandler,
    RequestHandler,
    StatisticsHandler,
    SystemHandler,
    UserErrorHandler,
)

__all__ = [
    "COMPILED",
    "BatchSettings",
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
    "Registration",
    "RequestHandler",
    "StatisticsHandler",
    "SystemHandler",
    "UsageMonitor",
    "UserErrorHandler",
    "UsersWaiting",
    "__version__",
    "declare_hook",
    "events",
]

#: The global registry, as ``locust.events`` is Locust's.
events: Events = Events()

# In a locustfile, Locust is imported first: say so if these listeners would never run.
watch_locust(events)
