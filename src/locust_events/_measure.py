"""``EventHook.measure``: time a block of code and fire one request event for it."""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Final, Protocol, final

__all__ = ["Measurement"]

_perf_counter: Final = time.perf_counter
_wall_clock: Final = time.time


class _Fires(Protocol):
    def fire(self, *, reverse: bool = False, **kwargs: Any) -> None: ...


# Twin: Measurement in _speedups.c (struct Measurement, measurement_* functions).
@final
class Measurement:
    """Context manager returned by :meth:`EventHook.measure`.

    Entering it builds the ``request_meta`` dict (the keys Locust's ``measure`` passes:
    ``request_type``, ``name``, ``response_length``, ``context``, ``exception``,
    ``start_time``) and starts the clock; leaving it fires the
    hook exactly once with that dict (including any key the block added or changed) and
    ``response_time`` in milliseconds. An ``Exception`` raised in the block is recorded as
    ``exception`` and not re-raised, as in Locust; other ``BaseException``\\s (GreenletExit,
    KeyboardInterrupt) still fire the event and then propagate.
    """

    __slots__ = ("_hook", "_request_meta", "_started")

    # Twin: measurement_create (from measurement_new and hookcore_measure).
    def __init__(
        self,
        hook: _Fires,
        request_type: str,
        name: str,
        response_length: int,
        context: dict[str, Any] | None,
        /,
    ) -> None:
        self._hook = hook
        self._request_meta: dict[str, Any] = {
            "request_type": request_type,
            "name": name,
            "response_length": response_length,
            # Locust's own measure() passes these keys, in this order, and ``context or {}``:
            # a listener taking ``**kwargs`` sees the same keys on either.
            "context": context or {},
            "exception": None,
        }
        self._started = 0.0

    # Twin: measurement_enter.
    def __enter__(self) -> dict[str, Any]:
        request_meta = self._request_meta
        request_meta["start_time"] = _wall_clock()
        self._started = _perf_counter()
        return request_meta

    # Twin: measurement_exit (with fire_request_meta).
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        elapsed = _perf_counter() - self._started
        request_meta = self._request_meta
        swallowed = isinstance(exc, Exception)
        if swallowed:
            request_meta["exception"] = exc
        request_meta["response_time"] = elapsed * 1000.0
        self._hook.fire(**request_meta)
        return swallowed
