"""The ``doctor`` command: import a locustfile as Locust does, then list, check and time its
listeners, with the network blocked and a time limit per listener."""

from __future__ import annotations

from .command import add_parser, run
from .network_guard import NetworkGuard, TrafficBlocked
from .timing import stand_in_environment, synthetic_payload

__all__ = [
    "NetworkGuard",
    "TrafficBlocked",
    "add_parser",
    "run",
    "stand_in_environment",
    "synthetic_payload",
]
