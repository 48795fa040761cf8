"""``UsageMonitor``: a greenlet firing ``usage_monitor`` and ``cpu_warning`` like Locust."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, final

import gevent
from gevent import Greenlet

from ._errors import log_safely, logger
from ._install import extra_install_command

if TYPE_CHECKING:
    from ._events import Events

__all__ = ["UsageMonitor", "psutil_sampler"]

#: Returns (CPU usage in percent, resident memory in bytes) of this process.
Sampler = Callable[[], tuple[float, int]]


def psutil_sampler() -> Sampler:
    """A sampler reading this process's CPU and memory with psutil (the ``monitor`` extra)."""
    try:
        import psutil
    except ImportError as missing:
        raise ImportError(
            "UsageMonitor measures with psutil, which is not installed; install what the "
            f"'monitor' extra needs ({extra_install_command('monitor')}) or pass sampler=..."
        ) from missing
    process = psutil.Process()
    process.cpu_percent()  # the first reading is always 0.0: start the interval now

    def sample() -> tuple[float, int]:
        return process.cpu_percent(), process.memory_info().rss

    return sample


@final
class UsageMonitor:
    """Fires ``usage_monitor`` every ``interval`` s and ``cpu_warning`` above ``cpu_threshold``.

    Payloads carry Locust's names and the documented extra ones: ``usage_monitor(environment,
    cpu_usage, memory_usage, stats={"cpu_usage": ..., "memory_usage": ...})`` and
    ``cpu_warning(environment, cpu_usage, usage_percent)``. Like Locust's runner, it warns
    once per start (logged and fired), not at every hot sample.

    :param sampler: measures the process; by default :func:`psutil_sampler`.
    """

    __slots__ = (
        "_greenlet",
        "_sample",
        "cpu_threshold",
        "environment",
        "error_count",
        "events",
        "interval",
    )

    def __init__(
        self,
        events: Events,
        environment: Any = None,
        *,
        interval: float = 5.0,
        cpu_threshold: float = 90.0,
        sampler: Sampler | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"UsageMonitor: interval must be positive, not {interval}")
        #: The registry whose hooks it fires.
        self.events = events
        #: Passed as ``environment`` to the listeners.
        self.environment = environment
        #: Seconds between two samples.
        self.interval = interval
        #: CPU usage in percent above which ``cpu_warning`` fires.
        self.cpu_threshold = cpu_threshold
        self._sample = psutil_sampler() if sampler is None else sampler
        #: Samples that failed (the sampler or a strict listener raised): each is logged, and
        #: the monitor keeps sampling.
        self.error_count = 0
        self._greenlet: Greenlet[Any, None] | None = None

    @property
    def running(self) -> bool:
        """Whether the monitoring greenlet is alive."""
        return self._greenlet is not None and not self._greenlet.dead

    def start(self) -> None:
        """Start sampling in a greenlet of its own; a second start while running does nothing."""
        if not self.running:
            self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        """Stop sampling (waits for the greenlet to end)."""
        if self._greenlet is not None:
            self._greenlet.kill(block=True)
            self._greenlet = None

    def sample_once(self, *, warned: bool = False) -> bool:
        """Take one sample and fire; returns whether ``cpu_warning`` has been fired."""
        cpu_usage, memory_usage = self._sample()
        if cpu_usage > self.cpu_threshold and not warned:
            logger.warning(
                "CPU usage above %.0f%% (%.1f%%): this process may be too slow to generate the "
                "load and measure it correctly; spread it over more processes",
                self.cpu_threshold,
                cpu_usage,
            )
            self.events.cpu_warning.fire(
                environment=self.environment, cpu_usage=cpu_usage, usage_percent=cpu_usage
            )
            warned = True
        self.events.usage_monitor.fire(
            environment=self.environment,
            cpu_usage=cpu_usage,
            memory_usage=memory_usage,
            stats={"cpu_usage": cpu_usage, "memory_usage": memory_usage},
        )
        return warned

    def _run(self) -> None:
        warned = False
        while True:
            gevent.sleep(self.interval)
            try:
                warned = self.sample_once(warned=warned)
            except Exception as error:
                self.error_count += 1
                # The first failure with its traceback, then every hundredth: a sampler that
                # fails at every tick must not flood the log.
                if self.error_count == 1 or self.error_count % 100 == 0:
                    log_safely(
                        "error",
                        "UsageMonitor: a sample failed (%d so far), sampling goes on: %s: %s",
                        self.error_count,
                        type(error).__name__,
                        error,
                        exc_info=error if self.error_count == 1 else None,
                    )
