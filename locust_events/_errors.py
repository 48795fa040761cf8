"""What happens when a listener raises: the error policy shared by the hooks of one registry."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final, final

__all__ = ["DispatchError", "ErrorPolicy", "describe_listener", "logger"]

#: Every listener error and warning of this package goes to this logger.
logger: Final = logging.getLogger("locust_events")

#: Called after a listener error was logged and counted: (hook name, listener, error).
ErrorCallback = Callable[[str, Any, Exception], None]


class DispatchError(Exception):
    """The dispatcher itself refused a fire (a full or closed pool): always reaches the caller."""


def describe_listener(listener: object) -> str:
    """Name a listener the way a person finds it in their code: ``module.qualname``.

    Wrappers that set ``__wrapped__`` (``functools.wraps``, the profiler's) are seen through.
    """
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


@final
class ErrorPolicy:
    """Decides, logs and counts what a listener's ``Exception`` does to a fire.

    One policy is shared by every hook of an :class:`~locust_events.Events`, so that the
    registry can report one error count and be switched to strict mode at once.
    ``BaseException``\\s that are not ``Exception``\\s never reach the policy: they propagate.
    """

    __slots__ = ("callbacks", "error_count", "pass_through", "strict")

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
        """Log and count ``error`` and tell the callbacks; never raises.

        Spawned listeners' errors come here directly: there is no caller left to raise to.
        """
        self._count(hook)
        logger.error(
            "Listener %s of hook %r raised %s",
            describe_listener(listener),
            hook.name,
            type(error).__name__,
            exc_info=error,
        )
        for callback in self.callbacks:
            try:
                callback(hook.name, listener, error)
            except Exception:
                logger.exception(
                    "Listener error callback %s raised; fix it, listener errors reach it",
                    describe_listener(callback),
                )

    def _count(self, hook: Any) -> None:
        hook.error_count += 1
        self.error_count += 1
