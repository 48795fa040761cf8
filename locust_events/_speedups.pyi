"""Types of the compiled calling loop; it behaves as :mod:`locust_events._native`."""

from collections.abc import Callable
from typing import Any

Listener = Callable[..., Any]

class HookCore:
    _listeners: tuple[Listener, ...]
    _reversed_listeners: tuple[Listener, ...]
    def __init__(self) -> None: ...
    def fire(self, /, *, reverse: bool = False, **kwargs: Any) -> None: ...
    def _listener_failed(self, listener: Listener, error: Exception) -> None: ...
