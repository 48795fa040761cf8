"""``UsageMonitor``: usage_monitor and cpu_warning with Locust's and the spec's payload names."""

from __future__ import annotations

from typing import Any

import gevent
import pytest

from locust_events import Events, UsageMonitor


def test_the_monitor_fires_usage_monitor_with_both_payload_spellings(registry: Events) -> None:
    received: list[dict[str, Any]] = []

    def spec_listener(stats: dict[str, Any], **kwargs: Any) -> None:
        received.append({"stats": stats, **kwargs})

    registry.usage_monitor.add_listener(spec_listener)
    monitor = UsageMonitor(registry, environment="env", interval=0.02)
    monitor.start()
    for _ in range(5000):  # bounded by samples, not by how fast this machine samples
        if len(received) >= 2:
            break
        gevent.sleep(0.01)
    monitor.stop()
    assert len(received) >= 2
    for payload in received:
        assert payload["environment"] == "env"
        assert payload["stats"] == {
            "cpu_usage": payload["cpu_usage"],
            "memory_usage": payload["memory_usage"],
        }
        assert payload["cpu_usage"] >= 0.0
        assert payload["memory_usage"] > 1_000_000  # a real RSS, read by psutil


def test_cpu_warning_fires_once_above_the_threshold_with_both_names(
    registry: Events, caplog: pytest.LogCaptureFixture
) -> None:
    warnings: list[dict[str, Any]] = []
    registry.cpu_warning.add_listener(lambda **kwargs: warnings.append(kwargs))
    monitor = UsageMonitor(registry, interval=0.01, cpu_threshold=-1.0)
    monitor.start()
    gevent.sleep(0.08)
    monitor.stop()
    [warning] = warnings
    assert warning["usage_percent"] == warning["cpu_usage"]
    assert "CPU usage above" in caplog.text


def test_no_cpu_warning_below_the_threshold(registry: Events) -> None:
    warnings: list[dict[str, Any]] = []
    registry.cpu_warning.add_listener(lambda **kwargs: warnings.append(kwargs))
    monitor = UsageMonitor(registry, sampler=lambda: (50.0, 1), cpu_threshold=90.0)
    monitor.sample_once()
    assert warnings == []


def test_the_spec_cpu_listener_runs_as_is(registry: Events) -> None:
    seen: list[float] = []

    def cpu_warning_handler(usage_percent: float, **kwargs: Any) -> None:
        seen.append(usage_percent)

    registry.cpu_warning.add_listener(cpu_warning_handler)
    UsageMonitor(registry, sampler=lambda: (97.5, 1)).sample_once()
    assert seen == [97.5]


def test_start_twice_runs_one_greenlet_and_stop_ends_it(registry: Events) -> None:
    monitor = UsageMonitor(registry, interval=10, sampler=lambda: (0.0, 0))
    monitor.start()
    first = monitor._greenlet
    monitor.start()
    assert monitor._greenlet is first
    monitor.stop()
    assert not monitor.running


def test_a_non_positive_interval_is_refused(registry: Events) -> None:
    with pytest.raises(ValueError, match="interval must be positive"):
        UsageMonitor(registry, interval=0)
