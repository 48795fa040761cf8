"""Fixtures shared by the unit tests.

The tests of the calling loop itself (fire, reverse, listener errors, keyword passing,
``FilteredListener``, ``measure()``) take the ``calling_loop`` fixture, parametrised over the
implementations available: the pure-Python one (``_native``, ``_measure``) and, where built,
the compiled one (``_speedups``), as markupsafe's suite does. Every other test runs once, on
the loop ``locust_events`` picked at import (tox's ``pure`` environment runs them all again with
``LOCUST_EVENTS_PURE=1``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

from locust_events import EventHook, Events, _measure, _native
from locust_events.tools.request_payload import REQUEST_PAYLOAD as REQUEST_PAYLOAD


def _compiled_module() -> tuple[ModuleType | None, ImportError | None]:
    """``_speedups`` where built, else why it cannot be imported."""
    try:
        from locust_events import _speedups
    except ImportError as error:
        return None, error
    return _speedups, None


def pytest_configure(config: pytest.Config) -> None:
    """With ``LOCUST_EVENTS_EXPECT_COMPILED=1``, a missing extension stops the run."""
    expected = os.environ.get("LOCUST_EVENTS_EXPECT_COMPILED", "") not in ("", "0")
    if expected and _not_built is not None:
        raise pytest.UsageError(
            "LOCUST_EVENTS_EXPECT_COMPILED=1, but locust_events._speedups cannot be imported"
            f" ({_not_built}): the C extension was not built (see the install's build output);"
            " build it, or unset LOCUST_EVENTS_EXPECT_COMPILED to test pure Python alone"
        )


@dataclass(frozen=True)
class CallingLoop:
    """One implementation of the calling loop, with a bare hook class built on its HookCore."""

    #: ``"compiled"`` or ``"pure"``.
    name: str
    HookCore: type
    FilteredListener: type
    Measurement: type
    #: A subclass of ``HookCore`` with nothing of ``EventHook``: see :func:`_loop_hook_type`.
    Hook: type
    #: How a spawned call's keyword arguments are packed without a dict, and called with.
    keywords_to: Callable[[Callable[[tuple[Any, ...]], Any]], Callable[..., Any]]
    call_with: Callable[[Callable[..., Any], tuple[Any, ...]], Any]

    def hook(self, *listeners: Callable[..., Any], name: str = "loop_hook") -> Any:
        """A hook of this loop calling ``listeners``."""
        return self.Hook(*listeners, name=name)


def _loop_hook_type(core: type, measurement: type) -> type:
    """A hook on ``core`` alone: its listeners are set as tuples, and ``_listener_failed``
    keeps each error in ``failures`` (re-raising those of ``pass_through``), as an
    ``EventHook`` with an error policy would, without anything else of it."""

    class LoopHook(core):  # type: ignore[misc, valid-type]
        __slots__ = ("failures", "name", "pass_through")

        def __init__(
            self,
            *listeners: Callable[..., Any],
            name: str = "loop_hook",
            pass_through: tuple[type[BaseException], ...] = (),
        ) -> None:
            super().__init__()
            self.name = name
            self.pass_through = pass_through
            self.failures: list[tuple[Any, Exception]] = []
            self.set_listeners(*listeners)

        def set_listeners(self, *listeners: Callable[..., Any]) -> None:
            """Replace the tuples fire walks, as ``EventHook`` does on each change."""
            self._listeners = listeners
            self._reversed_listeners = listeners[::-1]

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            self.failures.append((listener, error))
            if isinstance(error, self.pass_through):
                raise error

        if not hasattr(core, "measure"):  # as EventHook.measure does on the pure loop

            def measure(
                self,
                request_type: str,
                name: str,
                response_length: int = 0,
                context: dict[str, Any] | None = None,
            ) -> Any:
                return measurement(self, request_type, name, response_length, context)

    LoopHook.__qualname__ = LoopHook.__name__ = f"LoopHook_{core.__module__.rpartition('.')[2]}"
    return LoopHook


def _calling_loop(name: str, module: ModuleType, measurement: type) -> CallingLoop:
    return CallingLoop(
        name,
        module.HookCore,
        module.FilteredListener,
        measurement,
        _loop_hook_type(module.HookCore, measurement),
        module.keywords_to,
        module.call_with,
    )


_speedups, _not_built = _compiled_module()
PURE_LOOP = _calling_loop("pure", _native, _measure.Measurement)
COMPILED_LOOP = (
    None if _speedups is None else _calling_loop("compiled", _speedups, _speedups.Measurement)
)
#: Every calling loop available, the compiled one first.
CALLING_LOOPS: list[CallingLoop] = [] if COMPILED_LOOP is None else [COMPILED_LOOP]
CALLING_LOOPS.append(PURE_LOOP)


@pytest.fixture(params=CALLING_LOOPS, ids=lambda loop: loop.name)
def calling_loop(request: pytest.FixtureRequest) -> CallingLoop:
    """Each implementation of the calling loop in turn (``-k pure`` or ``-k compiled`` picks)."""
    loop: CallingLoop = request.param
    return loop


@pytest.fixture
def compiled_loop() -> CallingLoop:
    """The compiled loop, for the differential tests that compare it with :data:`PURE_LOOP`."""
    if COMPILED_LOOP is None:
        pytest.skip("the C extension is not built")
    return COMPILED_LOOP


@pytest.fixture
def hook() -> EventHook:
    """A standalone hook that accepts any listener."""
    return EventHook("my_event")


@pytest.fixture
def registry() -> Events:
    """A fresh registry, so no test sees another's listeners."""
    return Events()


class Recorder:
    """A listener that remembers every call it got, for asserting on order and payloads."""

    def __init__(self, label: str = "recorder", log: list[str] | None = None) -> None:
        self.label = label
        self.calls: list[dict[str, Any]] = []
        self.log = log

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.log is not None:
            self.log.append(self.label)


@pytest.fixture
def recorder_factory() -> Callable[..., Recorder]:
    return Recorder


@pytest.fixture(autouse=True, scope="session")
def _no_locust_in_the_unit_tests() -> Iterator[None]:
    """Importing Locust monkey-patches the process (``time.sleep`` turns cooperative), which
    would change what the other unit tests see: they never import it (the e2e tests do)."""
    yield
    assert "locust" not in sys.modules, "a unit test imported Locust: move it to tests/e2e"
