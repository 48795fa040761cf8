"""The compiled calling loop and the pure-Python one do the same, fire by fire.

Each test compares the compiled loop (the ``compiled_loop`` fixture: skipped where the
extension is not built) with :data:`PURE_LOOP`.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locust_events import _measure, _native

from .conftest import PURE_LOOP, CallingLoop

#: The fixture is the same object for every example: nothing of it is changed by a test.
same_fixture = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


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


@same_fixture
@given(behaviours, keywords)
def test_both_loops_call_and_fail_alike(
    compiled_loop: CallingLoop, listeners: list[str], kwargs: dict[str, Any]
) -> None:
    compiled = run(compiled_loop.HookCore, listeners, kwargs)
    assert compiled == run(PURE_LOOP.HookCore, listeners, kwargs)


# Twins: EventHook.measure (_hooks.py, the pure loop) and HookCore.measure (_speedups.c).
def _pure_measure_definition() -> ast.FunctionDef:
    """EventHook.measure as _hooks.py writes it, whichever loop this test runs on."""
    tree = ast.parse(Path(_native.__file__).with_name("_hooks.py").read_text(encoding="utf-8"))
    [event_hook] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "EventHook"]
    return next(
        node
        for node in ast.walk(event_hook)
        if isinstance(node, ast.FunctionDef) and node.name == "measure"
    )


def test_the_compiled_measure_has_the_signature_and_docstring_of_the_pure_one(
    compiled_loop: CallingLoop,
) -> None:
    pure = _pure_measure_definition()
    compiled = inspect.signature(compiled_loop.HookCore.measure)
    names = [argument.arg for argument in pure.args.args]
    defaults = [ast.literal_eval(default) for default in pure.args.defaults]
    assert list(compiled.parameters) == names
    assert [
        parameter.default
        for parameter in compiled.parameters.values()
        if parameter.default is not inspect.Parameter.empty
    ] == defaults
    assert all(
        parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        for parameter in list(compiled.parameters.values())[1:]
    )
    pure_doc = ast.get_docstring(pure)
    assert pure_doc is not None
    compiled_doc = str(compiled_loop.HookCore.measure.__doc__)
    assert " ".join(compiled_doc.split()) == " ".join(pure_doc.split())


def _measure_twin(core: type) -> Any:
    """A hook on ``core`` whose one listener logs what each fire passes (timings left out)."""
    hook = twin(core)

    def listener(**kwargs: Any) -> None:
        kwargs.pop("start_time")
        kwargs.pop("response_time")
        hook.log.append({key: repr(value) for key, value in kwargs.items()})

    hook._listeners = hook._reversed_listeners = (listener,)
    return hook


blocks = st.lists(
    st.tuples(
        st.sampled_from(["pass", "raise", "interrupt", "change", "add", "replace"]),
        st.sampled_from([(), (7,), (7, {"user": 1})]),
    ),
    max_size=5,
)


@same_fixture
@given(blocks)
def test_both_measurements_fire_alike(
    compiled_loop: CallingLoop, sequence: list[tuple[str, tuple[Any, ...]]]
) -> None:
    pure, compiled = _measure_twin(PURE_LOOP.HookCore), _measure_twin(compiled_loop.HookCore)
    for hook in (pure, compiled):
        for block, optional in sequence:
            if hook is pure:  # as EventHook.measure does on the pure loop
                defaults = (0, None)[len(optional) :]
                measurement = _measure.Measurement(hook, "GET", "/", *optional, *defaults)
            else:
                measurement = hook.measure("GET", "/", *optional)
            outcome = "none"
            try:
                with measurement as request_meta:
                    if block == "raise":
                        raise Failing("in the block")
                    if block == "interrupt":
                        raise KeyboardInterrupt
                    if block == "change":
                        request_meta["response_length"] = 12
                    if block == "add":
                        request_meta["status_code"] = 200
                    if block == "replace":
                        del request_meta["exception"]
                        request_meta["exception"] = None
            except KeyboardInterrupt:
                outcome = "interrupted"
            hook.log.append(outcome)
    assert pure.log == compiled.log


names = st.sampled_from(["a", "b", "name", "context", "url", "reverse"])


@same_fixture
@given(st.frozensets(names), st.lists(st.dictionaries(names, st.integers()), max_size=4))
def test_both_filtered_listeners_pass_the_same_keywords(
    compiled_loop: CallingLoop, takes: frozenset[str], calls: list[dict[str, Any]]
) -> None:
    def received(loop: CallingLoop) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        filtered = loop.FilteredListener(lambda **kwargs: got.append(kwargs), takes)
        for kwargs in calls:
            filtered(**kwargs)
        return got

    assert received(compiled_loop) == received(PURE_LOOP)
