"""``Lifecycle``: fires a load test's lifecycle events in Locust's order, for embedding runners."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, final

from ._profiling import profiling_requested

if TYPE_CHECKING:
    from ._events import Events
    from ._monitor import UsageMonitor

__all__ = ["Lifecycle"]

State = Literal["new", "ready", "running", "stopped", "quit"]


@final
class Lifecycle:
    """The milestones of one load test, as a gevent-based runner reaches them.

    A runner calls :meth:`init`, :meth:`start`, :meth:`spawning_complete`, :meth:`stop` and
    :meth:`quit`; the lifecycle fires ``init -> test_start -> spawning_complete -> (the test
    runs) -> test_stopping -> test_stop -> quitting -> quit`` with the payloads of
    :class:`~locust_events.Events`, and guards the order: ``test_start`` does not fire twice
    for one run, stopping a test that is not running fires nothing, and stop then start
    begins a new run. ``quitting`` fires last-registered listener first, as in Locust.

    :meth:`quit` computes the exit code as Locust's shutdown does: the code the runner set
    (:meth:`set_exit_code`), else ``exit_code_on_error`` when the runner reported errors
    (:meth:`record_runner_error`), else 1 when a listener raised during ``init``, else 2 when
    a listener raised later (Locust's "unhandled greenlet exception"), else 0. It shuts the
    registry down (:meth:`Events.shutdown`): every pool drained within ``drain_timeout``
    seconds, then the profile logged, before it returns.

    :param monitor: a :class:`~locust_events.UsageMonitor` started by :meth:`init` and
        stopped by :meth:`quit`.

    With ``LOCUST_EVENTS_PROFILE=1`` in the environment, :meth:`init` starts profiling the
    listeners and :meth:`quit` logs the table (``events.profiler`` keeps the figures).
    """

    __slots__ = (
        "_errors_after_init",
        "_errors_before_init",
        "_exit_code",
        "_runner_errors",
        "_state",
        "drain_timeout",
        "environment",
        "events",
        "exit_code_on_error",
        "monitor",
        "runner",
        "web_ui",
    )

    def __init__(
        self,
        events: Events,
        environment: Any = None,
        *,
        runner: Any = None,
        web_ui: Any = None,
        monitor: UsageMonitor | None = None,
        drain_timeout: float = 10.0,
        exit_code_on_error: int = 1,
    ) -> None:
        self.events = events
        self.environment = environment
        self.runner = runner
        self.web_ui = web_ui
        self.monitor = monitor
        #: Seconds :meth:`quit` waits for spawned listeners, in all.
        self.drain_timeout = drain_timeout
        #: The exit code when the runner reported errors (Locust's ``--exit-code-on-error``).
        self.exit_code_on_error = exit_code_on_error
        self._state: State = "new"
        self._errors_before_init = 0
        self._errors_after_init = 0
        self._exit_code: int | None = None
        self._runner_errors = 0

    @property
    def state(self) -> State:
        """``new``, ``ready`` (after init), ``running``, ``stopped`` or ``quit``."""
        return self._state

    def init(self) -> None:
        """Fire ``init`` (once) and start the usage monitor."""
        self._refuse_after_quit("init")
        if self._state != "new":
            return
        if profiling_requested():
            self.events.start_profiling()
        self._errors_before_init = self.events.error_count
        self.events.init.fire(environment=self.environment, runner=self.runner, web_ui=self.web_ui)
        self._errors_after_init = self.events.error_count
        self._state = "ready"
        if self.monitor is not None:
            self.monitor.start()

    def start(self) -> bool:
        """Fire ``test_start`` for a new run (after ``init``, fired first if need be).

        Returns False, firing nothing, when a run is already going.
        """
        self._refuse_after_quit("start")
        if self._state == "new":
            self.init()
        if self._state == "running":
            return False
        self.events.test_start.fire(environment=self.environment)
        self._state = "running"
        return True

    def spawning_complete(self, user_count: int) -> None:
        """Fire ``spawning_complete`` once every user of the running test has been spawned."""
        if self._state != "running":
            raise RuntimeError(
                f"spawning_complete({user_count}) while the lifecycle is {self._state!r}: "
                "call start() first"
            )
        self.events.spawning_complete.fire(user_count=user_count)

    def stop(self, stop_users: Callable[[], object] | None = None) -> bool:
        """Fire ``test_stopping``, call ``stop_users``, then fire ``test_stop``.

        Returns False, firing nothing, when no run is going.
        """
        if self._state != "running":
            return False
        self.events.test_stopping.fire(environment=self.environment)
        if stop_users is not None:
            stop_users()
        self.events.test_stop.fire(environment=self.environment)
        self._state = "stopped"
        return True

    def record_runner_error(self, count: int = 1) -> None:
        """Tell the lifecycle the runner met errors (failed users, say): exit code 1."""
        self._runner_errors += count

    def set_exit_code(self, code: int) -> None:
        """Set the exit code outright, as Locust's ``environment.process_exit_code``."""
        self._exit_code = code

    @property
    def exit_code(self) -> int:
        """The exit code as things stand, computed as Locust's shutdown computes it."""
        environment_code = getattr(self.environment, "process_exit_code", None)
        if self._exit_code is not None:
            return self._exit_code
        if isinstance(environment_code, int):
            return environment_code
        if self._runner_errors:
            return self.exit_code_on_error
        if self._errors_after_init > self._errors_before_init:
            return 1
        if self.events.error_count > self._errors_after_init:
            return 2
        return 0

    def quit(self) -> int:
        """Stop a running test, fire ``quitting`` (reversed) and ``quit``, drain the pools.

        Returns the exit code; a second call fires nothing and returns it again.
        """
        if self._state == "quit":
            return self.exit_code
        self.stop()
        if self.monitor is not None:
            self.monitor.stop()
        deadline = time.monotonic() + self.drain_timeout
        self.events.quitting.fire(
            reverse=True, environment=self.environment, exit_code=self.exit_code
        )
        # Spawned quitting listeners get their turn before quit, within the same deadline.
        self.events.join(max(deadline - time.monotonic(), 0.0))
        # A quitting listener may have set the code (Locust computes it after quitting too).
        exit_code = self.exit_code
        self.events.quit.fire(exit_code=exit_code)
        self.events.shutdown(max(deadline - time.monotonic(), 0.0))
        self._exit_code = exit_code
        self._state = "quit"
        return exit_code

    def _refuse_after_quit(self, step: str) -> None:
        if self._state == "quit":
            raise RuntimeError(f"Cannot {step}: this lifecycle has quit; make a new Lifecycle")
