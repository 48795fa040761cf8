"""The listener protocols: what each hook of ``Events`` passes, typed for mypy and pyright.

A hook annotated ``EventHook[RequestListener]`` accepts, for a type checker, only listeners that
can be called with exactly the protocol's keyword arguments; at run time the same names are
the hook's declared ``passes``. Locust's own objects (environment, runner, parser) are typed
``Any``, since importing this package never imports Locust.

The ``...Handler`` names are the same protocols under the names the event system's design
gives them (``RequestHandler`` is ``RequestListener``); ``EventHandler`` is any listener.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, TypeAlias

__all__ = [
    "CpuWarningListener",
    "EnvironmentListener",
    "EventHandler",
    "HeartbeatListener",
    "InitCommandLineParserListener",
    "InitListener",
    "LifecycleHandler",
    "QuitListener",
    "QuittingListener",
    "ReportListener",
    "RequestHandler",
    "RequestListener",
    "ResetStatsListener",
    "SpawningCompleteListener",
    "StatisticsHandler",
    "SystemHandler",
    "UsageMonitorListener",
    "UserErrorHandler",
    "UserErrorListener",
    "WorkerConnectListener",
]


class RequestListener(Protocol):
    """``request``: one completed request. ``response_time`` is ``None`` for a request that
    has no duration (an asynchronous client's), as Locust allows: a listener takes
    ``float | None``."""

    def __call__(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        response_length: int,
        exception: Exception | None,
        context: dict[str, Any],
        start_time: float,
        url: str | None,
        response: Any,
    ) -> object: ...


class UserErrorListener(Protocol):
    """``user_error``: an exception escaped a user's task."""

    def __call__(
        self, *, user_instance: Any, exception: Exception, tb: TracebackType | None
    ) -> object: ...


class ReportListener(Protocol):
    """``report_to_master`` and ``worker_report``: a worker's report dict."""

    def __call__(self, *, client_id: str, data: dict[str, Any]) -> object: ...


class WorkerConnectListener(Protocol):
    """``worker_connect``: a worker connected to the master."""

    def __call__(self, *, client_id: str) -> object: ...


class SpawningCompleteListener(Protocol):
    """``spawning_complete``: every user has been spawned."""

    def __call__(self, *, user_count: int) -> object: ...


class InitListener(Protocol):
    """``init``: the environment and its runner exist."""

    def __call__(self, *, environment: Any, runner: Any, web_ui: Any) -> object: ...


class InitCommandLineParserListener(Protocol):
    """``init_command_line_parser``: the argument parser is being built."""

    def __call__(self, *, parser: Any) -> object: ...


class EnvironmentListener(Protocol):
    """``test_start``, ``test_stopping`` and ``test_stop``: the environment alone."""

    def __call__(self, *, environment: Any) -> object: ...


class ResetStatsListener(Protocol):
    """``reset_stats``: passes nothing."""

    def __call__(self) -> object: ...


class QuittingListener(Protocol):
    """``quitting``: the process starts to exit."""

    def __call__(self, *, environment: Any, exit_code: int) -> object: ...


class QuitListener(Protocol):
    """``quit``: the process is about to exit."""

    def __call__(self, *, exit_code: int) -> object: ...


class CpuWarningListener(Protocol):
    """``cpu_warning``: CPU usage above the threshold, also as ``usage_percent``."""

    def __call__(self, *, environment: Any, cpu_usage: float, usage_percent: float) -> object: ...


class HeartbeatListener(Protocol):
    """``heartbeat_sent`` and ``heartbeat_received``."""

    def __call__(self, *, client_id: str, timestamp: float) -> object: ...


class UsageMonitorListener(Protocol):
    """``usage_monitor``: the process's usage, flat (Locust's names) and as one ``stats`` dict."""

    def __call__(
        self, *, environment: Any, cpu_usage: float, memory_usage: int, stats: dict[str, Any]
    ) -> object: ...


#: ``request``: the same as :class:`RequestListener`.
RequestHandler: TypeAlias = RequestListener
#: ``user_error``: the same as :class:`UserErrorListener`.
UserErrorHandler: TypeAlias = UserErrorListener
#: ``test_start``, ``test_stopping``, ``test_stop``: the same as :class:`EnvironmentListener`
#: (``init`` also passes the runner and web UI: :class:`InitListener`).
LifecycleHandler: TypeAlias = EnvironmentListener
#: ``usage_monitor``: the same as :class:`UsageMonitorListener`.
StatisticsHandler: TypeAlias = UsageMonitorListener
#: ``cpu_warning``: the same as :class:`CpuWarningListener`.
SystemHandler: TypeAlias = CpuWarningListener
#: A listener of any hook.
EventHandler: TypeAlias = Callable[..., object]
