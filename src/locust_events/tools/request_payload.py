"""The request event's payload the tools, benchmarks and tests fire: Locust's nine names."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

__all__ = ["REQUEST_NAMES", "REQUEST_PAYLOAD"]

#: What Locust's ``request`` event passes for one successful request, with plausible values
#: that point nowhere but 127.0.0.1. Read-only: copy it (``{**REQUEST_PAYLOAD, ...}``) to vary it.
REQUEST_PAYLOAD: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "request_type": "GET",
        "name": "/api/data",
        "response_time": 12.5,
        "response_length": 512,
        "exception": None,
        "context": {},
        "start_time": 1_700_000_000.0,
        "url": "http://127.0.0.1/api/data",
        "response": None,
    }
)

#: The nine keyword arguments of Locust's ``request`` event, in the order Locust declares them.
REQUEST_NAMES: Final[tuple[str, ...]] = tuple(REQUEST_PAYLOAD)
