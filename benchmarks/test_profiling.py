"""What profiling costs per listener call while it is on (off, it changes nothing)."""

from __future__ import annotations

from locust_events import Events
from locust_events.tools.bench import _calls, no_op

from .conftest import Measure

GROUP = "profiling, 1 listener"


def registry_with_one_listener() -> Events:
    registry = Events()
    registry.request.add_listener(no_op)
    return registry


def test_fire_with_profiling_off(measure: Measure) -> None:
    registry = registry_with_one_listener()
    measure(GROUP, "fire, profiling off", _calls(registry.request.fire), baseline=True)


def test_fire_with_profiling_on(measure: Measure) -> None:
    registry = registry_with_one_listener()
    with registry.profiling():
        measure(GROUP, "fire, profiling on", _calls(registry.request.fire))
