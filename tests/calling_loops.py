"""Runs each unit-test module on both calling loops, compiled and pure Python, in one process.

The loop is chosen once, when ``locust_events`` is imported (``_implementation``), and
``EventHook`` *inherits* from the chosen ``HookCore``: the pure loop is not a function to swap
in, as in markupsafe's suite, but a second import of the whole package made with
``LOCUST_EVENTS_PURE=1``. Each import is a :class:`LoopWorld`: its ``locust_events`` and
``locust_events.*`` modules, plus the unit-test modules imported in it.

Each unit-test module is collected once per world, ``test_x.py[compiled]`` and
``test_x.py[pure]`` (``-k pure`` picks one loop). While the module is imported, and around each
of its tests' setup, call and teardown, its world's modules are the ones in ``sys.modules``, so
a lazy import inside the library or a test resolves in the same world, and
``LOCUST_EVENTS_PURE`` says its loop, so a child interpreter a test starts runs it too.

Where the extension is not built, or ``LOCUST_EVENTS_PURE=1`` is set for the whole run, the
only world is the pure one; with ``LOCUST_EVENTS_EXPECT_COMPILED=1`` a missing build stops the
run instead. The hooks below are imported by ``tests/unit/conftest.py``, so they apply there.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import os
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

PACKAGE = "locust_events"
UNIT_TESTS = Path(__file__).resolve().parent / "unit"
#: Loaded once for the whole run, whatever the world: pytest keeps them as plugins.
SHARED_FILES = ("conftest.py", "__init__.py")


def _in_a_world(name: str, module: ModuleType | None) -> bool:
    """Whether ``module`` is imported once per world: the library, and the unit-test modules."""
    if name == PACKAGE or name.startswith(PACKAGE + "."):
        return True
    file = getattr(module, "__file__", None)
    if file is None:
        return False
    path = Path(file).resolve()
    return path.parent == UNIT_TESTS and path.name not in SHARED_FILES


def _take_world_modules() -> dict[str, ModuleType]:
    """Remove the modules of the current world from ``sys.modules`` and return them."""
    names = [name for name, module in list(sys.modules.items()) if _in_a_world(name, module)]
    return {name: sys.modules.pop(name) for name in names}


class LoopWorld:
    """One import of ``locust_events`` on one calling loop, with the test modules run in it."""

    def __init__(self, name: str, pure: bool, modules: dict[str, ModuleType]) -> None:
        #: ``"compiled"`` or ``"pure"``: the suffix of its test modules' names.
        self.name = name
        #: The value ``LOCUST_EVENTS_PURE`` has while this world is entered (None: unset).
        self.pure_variable: str | None = "1" if pure else _initial_pure_variable
        #: Its modules, while another world is entered.
        self.modules = modules

    @property
    def package(self) -> ModuleType:
        """This world's ``locust_events``."""
        return self.modules.get(PACKAGE) or sys.modules[PACKAGE]

    @contextlib.contextmanager
    def entered(self) -> Iterator[None]:
        """Make this world's modules and loop variable the process's for the block."""
        global _current
        previous = _current
        if previous is self:
            yield
            return
        previous.modules = _take_world_modules()
        sys.modules.update(self.modules)
        _set_pure_variable(self.pure_variable)
        _current = self
        try:
            yield
        finally:
            # Keep what was imported meanwhile (lazy imports): it belongs to this world.
            self.modules = _take_world_modules()
            sys.modules.update(previous.modules)
            _set_pure_variable(previous.pure_variable)
            _current = previous

    def __repr__(self) -> str:
        return f"<LoopWorld {self.name}>"


def _set_pure_variable(value: str | None) -> None:
    if value is None:
        os.environ.pop("LOCUST_EVENTS_PURE", None)
    else:
        os.environ["LOCUST_EVENTS_PURE"] = value


_initial_pure_variable = os.environ.get("LOCUST_EVENTS_PURE")
_worlds: list[LoopWorld] = []
_current: LoopWorld


def loop_worlds() -> list[LoopWorld]:
    """The worlds the unit tests run in: compiled then pure, or pure alone."""
    global _current
    if _worlds:
        return _worlds
    default = importlib.import_module(PACKAGE)
    if not default.COMPILED:
        if os.environ.get("LOCUST_EVENTS_EXPECT_COMPILED"):
            raise pytest.UsageError(
                "LOCUST_EVENTS_EXPECT_COMPILED=1, but locust_events runs its pure-Python loop:"
                " the C extension was not built (see the install's build output), or"
                " LOCUST_EVENTS_PURE is set"
            )
        _current = LoopWorld("pure", pure=True, modules={})
        _worlds.append(_current)
        return _worlds
    _current = LoopWorld("compiled", pure=False, modules={})
    compiled_modules = _take_world_modules()
    _set_pure_variable("1")
    try:
        importlib.import_module(PACKAGE)
        pure = LoopWorld("pure", pure=True, modules=_take_world_modules())
    finally:
        sys.modules.update(compiled_modules)
        _set_pure_variable(_current.pure_variable)
    _worlds.extend([_current, pure])
    return _worlds


class LoopModule(pytest.Module):
    """A unit-test module imported, collected and run in one :class:`LoopWorld`."""

    world: LoopWorld

    @classmethod
    def in_world(cls, parent: pytest.Collector, path: Path, world: LoopWorld) -> LoopModule:
        name = f"{path.name}[{world.name}]"
        nodeid = f"{path.relative_to(parent.config.rootpath).as_posix()}[{world.name}]"
        module: LoopModule = cls.from_parent(parent, path=path, name=name, nodeid=nodeid)
        module.world = world
        return module

    def _getobj(self) -> Any:
        with self.world.entered():
            return super()._getobj()

    def collect(self) -> Any:
        with self.world.entered():
            return list(super().collect())


def _is_test_module(path: Path, parent: pytest.Collector) -> bool:
    """What pytest's own collection would import as a test module."""
    if path.suffix != ".py":
        return False
    patterns = parent.config.getini("python_files")
    return parent.session.isinitpath(path) or any(fnmatch.fnmatch(path.name, p) for p in patterns)


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> LoopModule:
    """The module's copy in the first world (pytest's own collection asks for it)."""
    return LoopModule.in_world(parent, module_path, loop_worlds()[0])


@pytest.hookimpl(trylast=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> LoopModule | None:
    """The module's copy in the second world, if there is one (pure, after compiled)."""
    worlds = loop_worlds()
    if len(worlds) < 2 or not _is_test_module(file_path, parent):
        return None
    return LoopModule.in_world(parent, file_path, worlds[1])


def world_of(node: pytest.Item | pytest.Collector) -> LoopWorld:
    module = node.getparent(LoopModule)
    assert module is not None, f"{node.nodeid} is not in a unit-test module"
    return module.world


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    with world_of(item).entered():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    with world_of(item).entered():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    with world_of(item).entered():
        return (yield)


@pytest.fixture
def calling_loop(request: pytest.FixtureRequest) -> LoopWorld:
    """The world (``.name``: ``"compiled"`` or ``"pure"``) the requesting test runs in."""
    return world_of(request.node)
