"""The :class:`Events` registry: Locust's eighteen hooks, each documented where it is declared."""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from ._errors import ErrorCallback, ErrorPolicy, log_safely
from ._hooks import EventHook
from ._pool import ListenerPool
from ._profiling import Profiler
from ._registry import HookDeclaration, collect_hook_declarations
from ._special_hooks import (
    CpuWarningHook,
    InitHook,
    InPlaceHook,
    QuitHook,
    QuittingHook,
    UsageMonitorHook,
)
from .listeners import (
    CpuWarningListener,
    EnvironmentListener,
    HeartbeatListener,
    InitCommandLineParserListener,
    InitListener,
    QuitListener,
    QuittingListener,
    ReportListener,
    RequestListener,
    ResetStatsListener,
    SpawningCompleteListener,
    UsageMonitorListener,
    UserErrorListener,
    WorkerConnectListener,
)

__all__ = ["Events"]


class Events:
    """The registry of event hooks of one load test: every ``Events()`` has hooks of its own.

    Hooks are declared as annotated class attributes with a docstring under each, so the
    class is its own manual. The annotation's listener protocol says what the hook passes,
    to type checkers and, through its keyword parameters, to :meth:`EventHook.add_listener`'s
    run-time check. A subclass adds hooks the same way (or with :func:`declare_hook`) and
    keeps every inherited one, with or without ``from __future__ import annotations``::

        class OrderListener(Protocol):
            def __call__(self, *, order_id: int, amount: float) -> object: ...

        class ShopEvents(Events):
            order_placed: EventHook[OrderListener]
            \"\"\"Fired when a simulated user places an order.\"\"\"

    The hooks of one registry share its error policy: :attr:`error_count` counts the listener
    errors of all of them, :attr:`strict` makes all of them re-raise, and
    :attr:`pass_through` lists the exception types they let through at once (Locust's
    StopUser and friends, set by the Locust integration).

    :param pass_through: exception types a listener may raise to stop the fire and reach
        the caller, unlogged and uncounted.
    :param strict: re-raise every listener error instead of logging it (for test suites).
    :param pool: the pool ``add_listener(func, spawn=True)`` runs listeners in; by default
        one of the registry's own, made on first use.
    """

    #: Every hook this class declares or inherits, by name, in declaration order.
    hook_declarations: ClassVar[Mapping[str, HookDeclaration]]

    request: EventHook[RequestListener]
    """
    Fired when a request is completed, successfully or not: the hot path of a load test.

    :param request_type: request method or custom type (``"GET"``, ``"grpc"``)
    :param name: the name statistics group the request under (the URL path, or its override)
    :param response_time: milliseconds until the response, or until the exception was raised;
        ``None`` for a request without a duration (an asynchronous client's, as in Locust)
    :param response_length: length of the response body in bytes
    :param exception: the exception that failed the request, ``None`` when it succeeded
    :param context: the user's and the request's context dict
    :param start_time: when the request started, in seconds since the epoch
    :param url: the full URL, where the client knows one, else ``None``
    :param response: the response object (e.g. a ``requests.Response``), else ``None``

    Use :meth:`EventHook.measure` to time a custom client and fire this for you.
    """

    user_error: EventHook[UserErrorListener]
    """
    Fired when an exception escapes a task of a User.

    :param user_instance: the User instance whose task raised
    :param exception: the exception
    :param tb: its traceback object (``exception.__traceback__``)
    """

    report_to_master: InPlaceHook[ReportListener]
    """
    Fired on a worker each time it is about to send its report to the master. Listeners may
    add entries to ``data`` to send them along; the keys ``stats`` and ``errors`` are Locust's.

    :param client_id: the worker's client id
    :param data: the report dict that will be sent

    Runs its listeners in place: spawned and batch listeners are refused (see
    :class:`InPlaceHook`), since Locust goes on with what they did once they return.
    """

    worker_report: EventHook[ReportListener]
    """
    Fired on the master when a report from a worker arrives; use it to aggregate what
    ``report_to_master`` listeners attached on the workers.

    :param client_id: the reporting worker's client id
    :param data: the report dict the worker sent
    """

    worker_connect: EventHook[WorkerConnectListener]
    """
    Fired on the master when a worker connects, right after the connection is made (the
    worker's own ``init`` may still be running).

    :param client_id: the connected worker's client id
    """

    spawning_complete: EventHook[SpawningCompleteListener]
    """
    Fired when every simulated user has been spawned; first on the master, then on workers.

    :param user_count: how many users were spawned in total (not per worker)
    """

    quitting: QuittingHook[QuittingListener]
    """
    Fired, last registered listener first, when the process starts to exit.

    :param environment: the Locust environment
    :param exit_code: the exit code the process would end with as known when the listener is
        called. A ``quitting`` listener may still change it (Locust's
        ``environment.process_exit_code``): listeners called after it see the change, those
        called before it do not; ``quit`` gets the final code. Where a fire passes no
        ``exit_code`` (as Locust's does), the hook's ``exit_code_source`` supplies it.

    Runs its listeners in place: spawned and batch listeners are refused (see
    :class:`InPlaceHook`), since Locust goes on with what they did once they return.
    """

    quit: QuitHook[QuitListener]
    """
    Fired after ``quitting``, just before the process exits.

    :param exit_code: the exit code the process ends with
    """

    init: InitHook[InitListener]
    """
    Fired once the environment and its runner exist: the place to register listeners that
    need the environment.

    :param environment: the Locust environment
    :param runner: the environment's runner, or ``None``
    :param web_ui: the environment's web UI, or ``None``

    Runs its listeners in place: spawned and batch listeners are refused (see
    :class:`InPlaceHook`), since Locust goes on with what they did once they return.
    """

    init_command_line_parser: InPlaceHook[InitCommandLineParserListener]
    """
    Fired while the command line parser is built, to add options of your own.

    :param parser: the ``argparse.ArgumentParser`` (Locust's ``configargparse`` subclass)

    Runs its listeners in place: spawned and batch listeners are refused (see
    :class:`InPlaceHook`), since Locust goes on with what they did once they return.
    """

    test_start: InPlaceHook[EnvironmentListener]
    """
    Fired on every node when a load test starts; not again when the user count changes.

    :param environment: the Locust environment

    Runs its listeners in place: spawned and batch listeners are refused (see
    :class:`InPlaceHook`), since Locust goes on with what they did once they return.
    """

    test_stopping: InPlaceHook[EnvironmentListener]
    """
    Fired on every node when a load test is about to stop, before its users are stopped.

    :param environment: the Locust environment

    Runs its listeners in place: spawned and batch listeners are refused (see
    :class:`InPlaceHook`), since Locust goes on with what they did once they return.
    """

    test_stop: EventHook[EnvironmentListener]
    """
    Fired on every node when a load test has stopped.

    :param environment: the Locust environment
    """

    reset_stats: EventHook[ResetStatsListener]
    """
    Fired when the statistics are reset (the web UI's Reset Stats button). Passes nothing.
    """

    cpu_warning: CpuWarningHook[CpuWarningListener]
    """
    Fired when the process's CPU usage exceeds the warning threshold (90% by default).

    :param environment: the Locust environment
    :param cpu_usage: the CPU usage in percent (Locust's name)
    :param usage_percent: the same value, under its documented name

    A fire that passes one of the two names passes the other too.
    """

    heartbeat_sent: EventHook[HeartbeatListener]
    """
    Fired on the master when it sends a heartbeat to a worker.

    :param client_id: the worker's client id
    :param timestamp: when, in seconds since the epoch
    """

    heartbeat_received: EventHook[HeartbeatListener]
    """
    Fired on a worker when it receives a heartbeat from the master.

    :param client_id: the worker's client id
    :param timestamp: when, in seconds since the epoch
    """

    usage_monitor: UsageMonitorHook[UsageMonitorListener]
    """
    Fired at a regular interval (5 seconds by default) with the process's resource usage.

    :param environment: the Locust environment
    :param cpu_usage: the CPU usage in percent
    :param memory_usage: the resident memory (RSS) in bytes
    :param stats: a dict holding ``cpu_usage`` and ``memory_usage`` as one value

    A fire that passes the flat values passes ``stats`` too, and the other way round.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declarations = collect_hook_declarations(cls)
        for name in declarations:
            _refuse_hook_shadowing_a_member(cls, name)
        cls.hook_declarations = MappingProxyType(declarations)

    def __init__(
        self,
        *,
        pass_through: Iterable[type[BaseException]] = (),
        strict: bool = False,
        pool: ListenerPool | None = None,
    ) -> None:
        self._policy = ErrorPolicy(tuple(pass_through), strict=strict)
        self._pool = pool
        self._profiler: Profiler | None = None
        #: Whether :meth:`shutdown` logs the profiler's table: profiling was asked for, not
        #: only started by the Listeners tab (which shows the figures itself).
        self._profile_reported = False
        #: What the first :meth:`shutdown` returned, once it ran.
        self._shut_down: bool | None = None
        self._shutting_down = False
        self._hooks: dict[str, EventHook[Any]] = {}
        for name, declaration in self.hook_declarations.items():
            self._attach(name, declaration.make_hook(name, **self._hook_options()))

    def _hook_options(self) -> dict[str, Any]:
        return {"policy": self._policy, "pool_source": lambda: self.pool}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} with {len(self._hooks)} hooks>"

    def _attach(self, name: str, hook: EventHook[Any]) -> None:
        self._hooks[name] = hook
        setattr(self, name, hook)
        if self._profiler is not None:
            hook._profile_with(self._profiler)

    @property
    def hooks(self) -> Mapping[str, EventHook[Any]]:
        """Every hook of this registry by name, custom ones added at run time included."""
        return MappingProxyType(self._hooks)

    @property
    def pool(self) -> ListenerPool:
        """The pool of this registry's spawned listeners (``spawn=True``), made on first use."""
        if self._pool is None:
            self._pool = ListenerPool(name=f"{type(self).__name__} listener pool")
        return self._pool

    @property
    def pools(self) -> frozenset[ListenerPool]:
        """Every pool this registry's spawned listeners run in, its own pool included."""
        pools = {pool for hook in self._hooks.values() for pool in hook.pools}
        if self._pool is not None:
            pools.add(self._pool)
        return frozenset(pools)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until every pool of :attr:`pools` has run all its calls.

        :param timeout: seconds for all pools together; ``None`` waits as long as it takes.
        :returns: True when everything was delivered, False when the timeout passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for pool in self.pools:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not pool.join(remaining):
                return False
        return True

    def drain(self, timeout: float = 10.0) -> bool:
        """:meth:`join` with a bound, logging one line of what was not delivered in time.

        For shutdown paths: returns whether everything was delivered.
        """
        if self.join(timeout):
            return True
        snapshots = {pool.name: pool.stats for pool in self.pools}
        undelivered = {name: stats for name, stats in snapshots.items() if stats.undelivered}
        log_safely(
            "warning",
            "Spawned listeners not delivered after %g s: %d call(s); %s",
            timeout,
            sum(stats.undelivered for stats in undelivered.values()),
            "; ".join(
                f"{name}: {stats.pending} pending, {stats.running} running, oldest waiting "
                f"{stats.oldest_pending_age:.1f} s"
                for name, stats in undelivered.items()
            ),
        )
        return False

    def shutdown(self, timeout: float = 10.0) -> bool:
        """The one way out: drain every pool within ``timeout``, then log the profile once.

        What is not delivered by then is summed up in one logged line (how many calls, per
        pool); when profiling was asked for (``LOCUST_EVENTS_PROFILE=1``, or
        :meth:`start_profiling`), the listener table is logged. Idempotent: only the first
        call does this, later ones return what it returned. ``Lifecycle.quit`` and the Locust
        integration (at ``quit``, or at exit when Locust never fired it) call it.

        :returns: whether every spawned call was delivered.
        """
        if self._shut_down is not None:
            return self._shut_down
        if self._shutting_down:
            # Another greenlet is shutting down (Locust's shutdown runs twice on SIGTERM):
            # wait with it, within this call's own timeout, but log nothing twice.
            return self.join(timeout)
        self._shutting_down = True
        try:
            delivered = self.drain(timeout)
            for pool in self.pools:
                pool.log_unreported_drops()
                pool.log_pressure()
            if self._profiler is not None and self._profile_reported:
                log_safely("info", "Listener profile:\n%s", self._profiler.table())
        finally:
            self._shutting_down = False
        self._shut_down = delivered
        return delivered

    @property
    def shut_down(self) -> bool:
        """Whether :meth:`shutdown` has run."""
        return self._shut_down is not None

    @property
    def error_log_interval(self) -> float:
        """Seconds between two log lines of one failing listener, after its first error
        (logged with its traceback); each line gives the count since. 10 by default."""
        return self._policy.log_interval

    @error_log_interval.setter
    def error_log_interval(self, seconds: float) -> None:
        self._policy.log_interval = seconds

    @property
    def error_count(self) -> int:
        """How many listener errors the hooks of this registry have logged so far."""
        return self._policy.error_count

    @property
    def strict(self) -> bool:
        """Whether listener errors are re-raised instead of logged (for test suites)."""
        return self._policy.strict

    @strict.setter
    def strict(self, value: bool) -> None:
        self._policy.strict = value

    @property
    def pass_through(self) -> tuple[type[BaseException], ...]:
        """Exception types that leave a fire at once, unlogged and uncounted."""
        return self._policy.pass_through

    @pass_through.setter
    def pass_through(self, types: Iterable[type[BaseException]]) -> None:
        self._policy.pass_through = tuple(types)

    @property
    def profiler(self) -> Profiler | None:
        """The running :class:`Profiler`, or ``None`` when not profiling."""
        return self._profiler

    def start_profiling(
        self, sample_every: int = 1, *, report_at_shutdown: bool = True
    ) -> Profiler:
        """Record calls, time, errors and queue wait per listener of every hook, from now on.

        Costs nothing while off: profiling swaps timed wrappers into the hooks' listener
        tuples, and :meth:`stop_profiling` swaps the plain listeners back. Starting again
        while running returns the running profiler.

        :param sample_every: time one call in this many (the first, then every
            ``sample_every``-th); every call and error is still counted. 1 times them all;
            100 makes profiling cheap enough to leave on for a whole load test.
        :param report_at_shutdown: log the table at :meth:`shutdown`. The Listeners tab
            passes False: it shows the figures itself, and a run with the web UI should not
            end with a table nobody asked for.
        """
        self._profile_reported = self._profile_reported or report_at_shutdown
        if self._profiler is None:
            self._profiler = Profiler(sample_every)
            for hook in self._hooks.values():
                hook._profile_with(self._profiler)
        return self._profiler

    def stop_profiling(self) -> Profiler | None:
        """Stop profiling; returns the profiler, whose figures stay readable."""
        profiler, self._profiler = self._profiler, None
        self._profile_reported = False
        for hook in self._hooks.values():
            hook._profile_with(None)
        return profiler

    @contextlib.contextmanager
    def profiling(self) -> Iterator[Profiler]:
        """Profile the listeners for the ``with`` block: ``with events.profiling() as p:``."""
        profiler = self.start_profiling()
        try:
            yield profiler
        finally:
            self.stop_profiling()

    def on_listener_error(self, callback: ErrorCallback) -> ErrorCallback:
        """Call ``callback(hook_name, listener, error)`` after each listener error is logged.

        Returns ``callback``, so this works as a decorator. The Locust integration uses it to
        make a listener error count towards Locust's exit code.
        """
        self._policy.callbacks.append(callback)
        return callback

    def add_hook(self, name: str, *passes: str, undeclared: bool = False) -> EventHook[Any]:
        """Create a custom hook at run time and attach it as attribute ``name``.

        :param passes: the keyword arguments its fires pass (checked at ``add_listener``).
        :param undeclared: accept any listener, whatever it passes (ignores ``passes``).
        :raises ValueError: the registry already has a hook or attribute of that name.
        """
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"Cannot add hook {name!r}: its name must be a public identifier")
        if name in self._hooks or hasattr(self, name):
            raise ValueError(
                f"Cannot add hook {name!r} to {self!r}: that name is taken; choose another"
            )
        hook: EventHook[Any] = EventHook(
            name, None if undeclared else passes, **self._hook_options()
        )
        self._attach(name, hook)
        return hook


def _refuse_hook_shadowing_a_member(cls: type[Events], name: str) -> None:
    """A declared hook may not hide what the registry itself offers (``drain``, ``pools``...):
    ``shutdown()`` and the integrations rely on those."""
    member = inspect.getattr_static(Events, name, None)
    if name.startswith("_") or (member is not None and name not in Events.hook_declarations):
        raise TypeError(
            f"Cannot declare hook {name!r} on {cls.__qualname__}: "
            + (
                "a hook's name must not start with an underscore"
                if name.startswith("_")
                else f"Events.{name} is part of the registry itself"
            )
            + f"; give the hook another name, e.g. {name.strip('_') + '_event'!r}"
        )


Events.hook_declarations = MappingProxyType(collect_hook_declarations(Events))
