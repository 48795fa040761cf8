""":class:`DeprecatedEventHook`: a hook kept for old code, which warns whoever adds a listener."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ._errors import ErrorPolicy, logger
from ._hooks import EventHook, PoolSource
from ._pool import ListenerPool, default_pool

__all__ = ["DeprecatedEventHook"]

_ListenerT = TypeVar("_ListenerT", bound=Callable[..., Any])
_AcceptsT = TypeVar("_AcceptsT", bound=Callable[..., Any], contravariant=True)


class DeprecatedEventHook(EventHook[_AcceptsT]):
    """An :class:`EventHook` kept for old code: adding a listener warns with ``message``.

    The warning goes both to the ``locust_events`` logger and, as a ``DeprecationWarning``,
    to Python's warnings machinery, so test suites that turn warnings into errors see it.
    """

    __slots__ = ("message",)

    def __init__(
        self: DeprecatedEventHook[Callable[..., Any]],
        message: str,
        name: str = "unnamed hook",
        passes: Iterable[str] | None = None,
        *,
        policy: ErrorPolicy | None = None,
        pool_source: PoolSource = default_pool,
    ) -> None:
        super().__init__(name, passes, policy=policy, pool_source=pool_source)
        #: What a caller of :meth:`add_listener` is told, e.g. which hook to use instead.
        self.message: str = message

    def add_listener(
        self: DeprecatedEventHook[_ListenerT],
        func: _ListenerT,
        spawn: bool | ListenerPool = False,
        *,
        timeout: float | None = None,
    ) -> _ListenerT:
        logger.warning(self.message)
        warnings.warn(self.message, DeprecationWarning, stacklevel=2)
        return super().add_listener(func, spawn, timeout=timeout)
