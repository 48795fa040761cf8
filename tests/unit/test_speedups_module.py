"""The compiled module keeps no static state: each load is a module of its own, with its types."""

from __future__ import annotations

import gc
import importlib.util
import subprocess
import sys
import textwrap
import weakref
from types import ModuleType
from typing import Any

import pytest

_speedups = pytest.importorskip("locust_events._speedups")

#: ``type.__flags__`` bit of a type allocated on the heap (``Py_TPFLAGS_HEAPTYPE``).
HEAP_TYPE = 1 << 9


def load_again() -> ModuleType:
    """A fresh module object from the same shared library, as another interpreter would get."""
    spec = importlib.util.spec_from_file_location(_speedups.__name__, _speedups.__file__)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_load_makes_its_own_types() -> None:
    # A single-phase module hands every load the same static types; a multi-phase one
    # builds them again for each module object.
    again = load_again()
    assert again is not _speedups
    for name in ("HookCore", "FilteredListener", "Measurement"):
        assert getattr(again, name) is not getattr(_speedups, name)


def test_types_are_heap_types_that_cannot_be_changed() -> None:
    for kind in (_speedups.HookCore, _speedups.FilteredListener, _speedups.Measurement):
        assert kind.__flags__ & HEAP_TYPE
        with pytest.raises(TypeError):
            kind.added_later = 1


def test_a_second_load_works_on_its_own() -> None:
    again = load_again()
    calls: list[dict[str, Any]] = []
    hook = again.HookCore()
    hook._listeners = (lambda **kwargs: calls.append(kwargs),)
    hook.fire(a=1)
    with again.Measurement(hook, "GET", "/", 0, None):
        pass
    assert calls[0] == {"a": 1}
    assert calls[1]["name"] == "/"


def test_a_python_subclass_and_its_instances_are_freed() -> None:
    # Instances of a heap type hold a reference to their type, which the dealloc must drop
    # and the collector must see: otherwise the class below would never be freed.
    def make() -> tuple[weakref.ref[Any], weakref.ref[Any]]:
        class Hook(_speedups.HookCore):  # type: ignore[misc]
            __slots__ = ("__dict__", "__weakref__")

        hook = Hook()
        hook.myself = hook  # a cycle only the collector can free
        hook._listeners = (hook.fire,)
        return weakref.ref(Hook), weakref.ref(hook)

    kind, hook = make()
    gc.collect()
    assert hook() is None
    assert kind() is None


def test_measure_and_filtered_listeners_free_their_type_references() -> None:
    again = load_again()
    types = weakref.ref(again.Measurement), weakref.ref(again.FilteredListener)
    hook = again.HookCore()
    hook._listeners = (again.FilteredListener(lambda a=None: None, frozenset({"a"})),)
    with again.Measurement(hook, "GET", "/", 0, None):
        hook.fire(a=1, b=2)
    del again, hook
    gc.collect()
    assert [ref() for ref in types] == [None, None]


_IN_SUBINTERPRETER = """
import importlib.util
spec = importlib.util.spec_from_file_location("locust_events._speedups", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
hook = module.HookCore()
calls = []
hook._listeners = (lambda **kwargs: calls.append(kwargs),)
hook.fire(a=1)
assert calls == [{{"a": 1}}], calls
"""

_RUN_ISOLATED = """
import sys
code = sys.stdin.read()
try:
    import _interpreters
except ImportError:  # 3.12
    import _xxsubinterpreters as interpreters
    interpreter = interpreters.create(isolated=True)
    interpreters.run_string(interpreter, code)  # raises RunFailedError
else:
    interpreter = _interpreters.create("isolated")
    failure = _interpreters.exec(interpreter, code)
    if failure is not None:
        sys.exit(failure.formatted)
    _interpreters.destroy(interpreter)
print("loaded")
"""


@pytest.mark.skipif(
    sys.version_info < (3, 12), reason="interpreters with their own GIL came with 3.12"
)
def test_loads_in_a_subinterpreter_with_its_own_gil() -> None:
    # In a child process: the subinterpreter modules are private, and a crash must not take
    # the test run down. The package itself (gevent) is not loaded there, only the module.
    result = subprocess.run(
        [sys.executable, "-c", _RUN_ISOLATED],
        input=textwrap.dedent(_IN_SUBINTERPRETER.format(path=_speedups.__file__)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip() == "loaded", result.stderr
