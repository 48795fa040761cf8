"""What happens when a listener raises: the error policy shared by the hooks of one registry."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any, Final, final

__all__ = [
    "ERROR_LOG_INTERVAL",
    "DispatchError",
    "ErrorPolicy",
    "describe_listener",
    "log_safely",
    "logger",
]

#: Every listener error and warning of this package goes to this logger.
logger: Final = logging.getLogger("locust_events")

#: Called after a listener error was logged and counted: (hook name, listener, error).
ErrorCallback = Callable[[str, Any, Exception], None]


class DispatchError(Exception):
    """The dispatcher itself refused a fire (a full or closed pool): always reaches the caller."""


def describe_listener(listener: object) -> str:
    """Name a listener the way a person finds it in their code: ``module.qualname``.

    Wrappers that set ``__wrapped__`` (``functools.wraps``, the profiler's) are seen through.
    Never raises: a listener whose attributes or ``repr`` raise is named by its type.
    """
    try:
        for _ in range(10):
            wrapped = getattr(listener, "__wrapped__", None)
            if wrapped is None:
                break
            listener = wrapped
        target = getattr(listener, "__func__", listener)
        qualname = getattr(target, "__qualname__", None)
        if qualname is None:
            return repr(listener)
        module = getattr(target, "__module__", None)
        return f"{module}.{qualname}" if module else str(qualname)
    except Exception:
        kind = type(listener)
        return f"<{kind.__module__}.{kind.__qualname__} object at {id(listener):#x}>"


def log_safely(
    level: str, message: str, *args: object, exc_info: BaseException | None = None
) -> None:
    """Log to :data:`logger`; a logging handler that raises is contained, never passed on.

    Recording an error must not become the failure: a fire, a pool worker or a shutdown goes
    on whatever the log's handlers do.
    """
    try:
        getattr(logger, level)(message, *args, exc_info=exc_info)
    except Exception:
        with contextlib.suppress(Exception):
            sys.stderr.write(f"locust_events: a logging handler raised; lost: {message % args}\n")


#: Seconds between two log lines of one failing listener, after its first error.
ERROR_LOG_INTERVAL: Final = 10.0


#: How many listeners' log states are kept before those of collected listeners are dropped.
_ERROR_LOGS_BEFORE_PRUNING: Final = 1024


@final
class _ErrorLog:
    """The log state of one failing listener: when it last logged, and what went unlogged."""

    __slots__ = ("last_logged", "listener", "unlogged")

    def __init__(self, listener: object, now: float) -> None:
        try:
            #: The listener, weakly where it can be, so a removed one is not kept alive.
            self.listener: Callable[[], object] = weakref.ref(listener)
        except TypeError:
            self.listener = lambda: listener
        self.last_logged = now
        self.unlogged = 0


@final
class ErrorPolicy:
    """Decides, logs and counts what a listener's ``Exception`` does to a fire.

    One policy is shared by every hook of an :class:`~locust_events.Events`, so that the
    registry can report one error count and be switched to strict mode at once.
    ``BaseException``\\s that are not ``Exception``\\s never reach the policy: they propagate.
    """

    __slots__ = (
        "_error_logs",
        "callbacks",
        "error_count",
        "log_interval",
        "pass_through",
        "strict",
    )

    def __init__(
        self,
        pass_through: tuple[type[BaseException], ...] = (),
        *,
        strict: bool = False,
    ) -> None:
        #: Exception types re-raised at once, uncounted: control flow such as Locust's StopUser.
        self.pass_through: tuple[type[BaseException], ...] = tuple(pass_through)
        #: Re-raise every listener error instead of logging it (for test suites).
        self.strict: bool = strict
        #: Listener errors logged (or re-raised in strict mode) under this policy.
        self.error_count: int = 0
        #: Functions told of every counted error, after it was logged.
        self.callbacks: list[ErrorCallback] = []
        #: After a listener's first error (logged with its traceback), at most one line per
        #: this many seconds for that listener, with the count of errors since.
        self.log_interval: float = ERROR_LOG_INTERVAL
        self._error_logs: dict[tuple[str, int], _ErrorLog] = {}

    def handle(self, hook: Any, listener: object, error: Exception) -> None:
        """Deal with ``error`` raised by ``listener`` while ``hook`` fired.

        Returns when the fire may go on to the next listener; raises ``error`` again when it
        is a pass-through type, the dispatcher's own :class:`DispatchError`, or the policy is
        strict.
        """
        if isinstance(error, DispatchError) or (
            self.pass_through and isinstance(error, self.pass_through)
        ):
            raise error
        if self.strict:
            self._count(hook)
            raise error
        self.record(hook, listener, error)

    def record(self, hook: Any, listener: object, error: Exception) -> None:
        """Count ``error``, log it (rate-limited) and tell the callbacks; never raises.

        Spawned listeners' errors come here directly: there is no caller left to raise to.
        A listener's first error is logged with its traceback; after that, at most one line
        per :attr:`log_interval` seconds says how many more it raised. The count is exact.
        """
        self._count(hook)
        with contextlib.suppress(Exception):  # whatever the log does, recording goes on
            self._log(hook.name, listener, error)
        for callback in self.callbacks:
            try:
                callback(hook.name, listener, error)
            except Exception as callback_error:
                log_safely(
                    "error",
                    "Listener error callback %s raised; fix it, listener errors reach it",
                    describe_listener(callback),
                    exc_info=callback_error,
                )

    def _log(self, hook_name: str, listener: object, error: Exception) -> None:
        unwrapped = listener
        for _ in range(10):
            try:
                inner = getattr(unwrapped, "__wrapped__", None)
            except Exception:
                break
            if inner is None:
                break
            unwrapped = inner
        key = (hook_name, id(unwrapped))
        now = time.monotonic()
        log = self._error_logs.get(key)
        if log is None or log.listener() is not unwrapped:
            if len(self._error_logs) >= _ERROR_LOGS_BEFORE_PRUNING:
                self._forget_dead_listeners()
            self._error_logs[key] = _ErrorLog(unwrapped, now)
            log_safely(
                "error",
                "Listener %s of hook %r raised %s (its later errors are logged at most once "
                "per %g s)",
                describe_listener(listener),
                hook_name,
                type(error).__name__,
                self.log_interval,
                exc_info=error,
            )
            return
        log.unlogged += 1
        if now - log.last_logged >= self.log_interval:
            count, log.unlogged, log.last_logged = log.unlogged, 0, now
            log_safely(
                "error",
                "Listener %s of hook %r raised %d more time(s) in the last %.0f s, the latest: "
                "%s: %s",
                describe_listener(listener),
                hook_name,
                count,
                self.log_interval,
                type(error).__name__,
                _safe_str(error),
            )

    def _forget_dead_listeners(self) -> None:
        logs = self._error_logs
        for key in [key for key, log in logs.items() if log.listener() is None]:
            del logs[key]

    def _count(self, hook: Any) -> None:
        hook.error_count += 1
        self.error_count += 1


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception:
        return "(its message could not be read)"
