"""The compiled calling loop and the pure-Python one do the same, fire by fire."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from locust_events import _native

_speedups = pytest.importorskip("locust_events._speedups")


class Failing(Exception):
    pass


class PassThrough(Exception):
    pass


def twin(core: type) -> Any:
    """A hook on ``core`` that logs every call and error to ``hook.log``."""

    class Hook(core):  # type: ignore[misc]
        __slots__ = ("log",)

        def __init__(self) -> None:
            super().__init__()
            self.log: list[object] = []

        def _listener_failed(self, listener: Any, error: Exception) -> None:
            self.log.append(("failed", listener.label, type(error).__name__, str(error)))
            if isinstance(error, PassThrough):
                raise error

    return Hook()


class Listener:
    def __init__(self, hook: Any, label: int, behaviour: str) -> None:
        self.hook, self.label, self.behaviour = hook, label, behaviour

    def __call__(self, **kwargs: Any) -> str:
        self.hook.log.append(("called", self.label, sorted(kwargs.items())))
        if self.behaviour == "fail":
            raise Failing(self.label)
        if self.behaviour == "pass through":
            raise PassThrough(self.label)
        if self.behaviour == "interrupt":
            raise KeyboardInterrupt(self.label)
        return "ignored"


behaviours = st.lists(st.sampled_from(["ok", "ok", "fail", "pass through", "interrupt"]))
keywords = st.dictionaries(st.sampled_from(["a", "b", "name", "reverse", "context"]), st.integers())


def run(core: type, listeners: list[str], kwargs: dict[str, Any]) -> list[object]:
    hook = twin(core)
    registered = tuple(Listener(hook, label, b) for label, b in enumerate(listeners))
    hook._listeners, hook._reversed_listeners = registered, registered[::-1]
    try:
        hook.fire(**kwargs)
    except BaseException as error:  # what leaves the fire is compared too
        hook.log.append(("raised", type(error).__name__, str(error)))
    return list(hook.log)


@given(behaviours, keywords)
def test_both_loops_call_and_fail_alike(listeners: list[str], kwargs: dict[str, Any]) -> None:
    assert run(_speedups.HookCore, listeners, kwargs) == run(_native.HookCore, listeners, kwargs)
