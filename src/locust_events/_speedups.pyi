"""Types of the compiled twins of :mod:`locust_events._native`, :mod:`locust_events._measure`,
:mod:`locust_events._enqueue`, :mod:`locust_events._accumulator` and
:mod:`locust_events._worker`."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, final

from ._measure import _Fires
from ._pool import CallQueue, FailureRecorder, ListenerPool

Listener = Callable[..., Any]

class HookCore:
    _listeners: tuple[Listener, ...]
    _reversed_listeners: tuple[Listener, ...]
    def __init__(self) -> None: ...
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

@final
class SpawnedListener:
    listener: Listener
    pool: ListenerPool
    hook: FailureRecorder
    _queue: CallQueue
    def __init__(self, hook: FailureRecorder, listener: Listener, pool: ListenerPool) -> None: ...
    def __call__(self, **kwargs: Any) -> None: ...

@final
@final
class FiredKeywords(Mapping[str, Any]):
    """One fire's keyword arguments as a batch listener gets them from the compiled fire and a
    spawned listener's call keeps them: a read-only mapping that behaves as
    ``types.MappingProxyType`` of a dict of them."""

    def __getitem__(self, key: str, /) -> Any: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...

class BatchAccept:
    """``_accumulator.batch_accept``'s compiled twin: a fire joins a batch listener's batch."""

    __batch_listener__: Any
    __wrapped__: Listener
    def __init__(
        self,
        batch_listener: Any,
        queue: Any,
        pool: Any,
        max_size: int,
        hand_over: Callable[[], None],
        start_timer: Callable[[list[dict[str, Any]]], None],
        take_slowly: Callable[[dict[str, Any]], None],
        /,
    ) -> None: ...
    def __call__(self, **kwargs: Any) -> None: ...
    @staticmethod
    def deliver_events(
        listener: Callable[[list[Mapping[str, Any]]], object],
        events: Iterable[dict[str, Any]],
        /,
    ) -> object: ...

def run_queued_calls(pool: ListenerPool, worker: Any, batch_type: type, /) -> bool: ...
