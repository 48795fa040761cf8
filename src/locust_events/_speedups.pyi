"""Types of the compiled twins of :mod:`locust_events._native` and
:mod:`locust_events._measure`."""

from collections.abc import Callable
from types import TracebackType
from typing import Any, final

from ._measure import _Fires

Listener = Callable[..., Any]

class HookCore:
    _listeners: tuple[Listener, ...]
    _reversed_listeners: tuple[Listener, ...]
    def __init__(self, listeners: tuple[Listener, ...] = ()) -> None: ...
    def fire(self, /, *, reverse: bool = False, **kwargs: Any) -> None: ...
    def _listener_failed(self, listener: Listener, error: Exception) -> None: ...
    def measure(
        self,
        request_type: str,
        name: str,
        response_length: int = 0,
        context: dict[str, Any] | None = None,
    ) -> Measurement: ...

@final
class FilteredListener:
    __wrapped__: Listener
    takes: frozenset[str]
    def __init__(self, listener: Listener, takes: frozenset[str], /) -> None: ...
    def __call__(self, **kwargs: Any) -> Any: ...

@final
class Measurement:
    def __init__(
        self,
        hook: _Fires,
        request_type: str,
        name: str,
        response_length: int,
        context: dict[str, Any] | None,
        /,
    ) -> None: ...
    def __enter__(self) -> dict[str, Any]: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
        /,
    ) -> bool: ...

def keywords_to(target: Callable[[tuple[Any, ...]], Any], /) -> Callable[..., Any]: ...
def call_with(function: Callable[..., Any], arguments: tuple[Any, ...], /) -> Any: ...
