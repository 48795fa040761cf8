"""A gevent-cooperative event dispatcher for load tests, with Locust's hooks and semantics.

Importing it imports no Locust and monkey-patches nothing.
"""

from __future__ import annotations

from ._errors import DispatchError, ErrorPolicy
from ._events import Events
from ._hooks import DeprecatedEventHook, EventHook, SpawnedListener
from ._implementation import COMPILED  # whether fire runs the compiled loop (_speedups)
from ._lifecycle import Lifecycle
from ._listeners import (
    CpuWarningListener,
    EnvironmentListener,
    HeartbeatListener,
    InitCommandLineParserListener,
    InitListener,
    QuitListener,
    QuittingListener,
    ReportListener,
    RequestListener,
    ResetStatsListener,
    SpawningCompleteListener,
    UsageMonitorListener,
    UserErrorListener,
    WorkerConnectListener,
)
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
from ._version import __version__

__all__ = [
    "COMPILED",
    "CpuWarningListener",
    "DeprecatedEventHook",
    "DispatchError",
    "EnvironmentListener",
    "ErrorPolicy",
    "EventHandler",
    "EventHook",
    "Events",
    "HeartbeatListener",
    "InitCommandLineParserListener",
    "InitListener",
    "Lifecycle",
    "LifecycleHandler",
    "ListenerPool",
    "PoolClosed",
    "PoolFull",
    "PoolStats",
    "QuitListener",
    "QuittingListener",
    "ReportListener",
    "RequestHandler",
    "RequestListener",
    "ResetStatsListener",
    "SpawnedListener",
    "SpawningCompleteListener",
    "StatisticsHandler",
    "SystemHandler",
    "UsageMonitor",
    "UsageMonitorListener",
    "UserErrorHandler",
    "UserErrorListener",
    "WorkerConnectListener",
    "__version__",
    "declare_hook",
    "events",
]

#: The global registry, as ``locust.events`` is Locust's.
events: Events = Events()
