"""The package's layout: the library never loads its tools, and every command has one shape."""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import locust_events
from locust_events.tools import cli

#: What a user imports: the library, its Locust integration and its Listeners tab.
LIBRARY_ENTRY_POINTS = ("locust_events", "locust_events.locust", "locust_events.webui")
#: ``python -m locust_events``: the command line's entry, which hands over to the tools.
COMMAND_LINE_ENTRY = "__main__.py"
PACKAGE = "locust_events"
TOOLS = "locust_events.tools"


@pytest.mark.parametrize("module", LIBRARY_ENTRY_POINTS)
def test_importing_the_library_loads_no_tool(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "print(sorted(name for name in sys.modules if name.startswith('locust_events.tools')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import {module} loaded {result.stdout.strip()}"


def _tool_imports(source: str) -> list[str]:
    """Every import (or module name in a string, as ``importlib`` takes) that reaches the tools."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith(TOOLS)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            # The library's modules sit right in the package: ``.`` is ``locust_events``.
            absolute = module if node.level == 0 else ".".join(filter(None, [PACKAGE, module]))
            names = [f"{absolute}.{alias.name}" for alias in node.names]
            found += [name for name in [absolute, *names] if name.startswith(TOOLS)]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(TOOLS)
        ):
            found.append(node.value)
    return found


def test_no_library_module_imports_the_tools() -> None:
    package = Path(locust_events.__file__).parent
    modules = sorted(path for path in package.glob("*.py") if path.name != COMMAND_LINE_ENTRY)
    assert len(modules) > 10  # the scan looks where the library is
    imports = {path.name: _tool_imports(path.read_text()) for path in modules}
    assert {name: found for name, found in imports.items() if found} == {}


def test_the_scan_sees_every_way_of_importing_the_tools() -> None:
    assert _tool_imports("from .tools import doctor") == [
        "locust_events.tools",
        "locust_events.tools.doctor",
    ]
    assert _tool_imports("from . import tools") == ["locust_events.tools"]
    assert _tool_imports("import locust_events.tools.cli") == ["locust_events.tools.cli"]
    assert _tool_imports("import_module('locust_events.tools.bench')") == [
        "locust_events.tools.bench"
    ]
    assert _tool_imports("from ._hooks import EventHook\nimport tooling") == []


#: The arguments each command needs to parse, beyond its name.
REQUIRED_ARGUMENTS = {"doctor": ["locustfile.py"]}


def test_every_command_is_a_module_with_add_parser_and_run() -> None:
    assert set(cli.COMMANDS) == {"bench", "demo", "doctor", "target"}
    for name, command in cli.COMMANDS.items():
        assert inspect.ismodule(command)
        assert command.__name__ == f"locust_events.tools.{name}"
        add_parser = inspect.signature(command.add_parser)
        run = inspect.signature(command.run)
        assert list(add_parser.parameters) == ["subparsers"], name
        assert add_parser.return_annotation == "None", name
        assert list(run.parameters) == ["args"], name
        assert run.parameters["args"].annotation == "argparse.Namespace", name
        assert run.return_annotation == "int", name


def test_each_command_adds_the_parser_of_its_name_and_nothing_else() -> None:
    for name, command in cli.COMMANDS.items():
        subparsers = argparse.ArgumentParser().add_subparsers(dest="command")
        command.add_parser(subparsers)
        assert list(subparsers.choices) == [name]
        parsed = subparsers.choices[name].parse_args(REQUIRED_ARGUMENTS.get(name, []))
        assert not hasattr(parsed, "run"), f"{name} sets a run of its own: cli dispatches"


@pytest.mark.parametrize("name", ["bench", "demo", "doctor", "target"])
def test_the_command_line_hands_each_command_to_its_run(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[Any] = []

    def run(args: argparse.Namespace) -> int:
        received.append(args)
        return 7

    monkeypatch.setattr(cli.COMMANDS[name], "run", run)
    assert cli.main([name, *REQUIRED_ARGUMENTS.get(name, [])]) == 7
    assert [args.command for args in received] == [name]


#: The contributors' guide, whose table "How the code is laid out" lists every module.
CONTRIBUTING = Path(__file__).resolve().parents[2] / "CONTRIBUTING.md"
#: What a module of the package is: Python, its stubs, the C and what Cython compiles.
MODULE_SUFFIXES = (".py", ".pyi", ".c", ".pxd")


def modules_in_the_tree() -> set[str]:
    """Every module of the source tree, as a path under ``src/locust_events/``."""
    package = CONTRIBUTING.parent / "src" / PACKAGE
    return {
        path.relative_to(package).as_posix()
        for path in package.rglob("*")
        if path.suffix in MODULE_SUFFIXES and "__pycache__" not in path.parts
    }


def modules_in_the_layout_table(text: str) -> set[str]:
    """The modules the first cell of each row of the layout table names."""
    section = text.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([^`]+)`", row.split("|")[1])}


def test_the_layout_table_reads_the_first_cell_of_each_row() -> None:
    text = (
        "## How the code is laid out\n\n| module | what |\n|---|---|\n"
        "| `a.py`, `tools/b.py` | holds `c.py` |\n| `d.c` | x |\n\n## Next\n| `e.py` | y |\n"
    )
    assert modules_in_the_layout_table(text) == {"a.py", "tools/b.py", "d.c"}


def test_contributing_lists_every_module_and_none_that_is_gone() -> None:
    listed = modules_in_the_layout_table(CONTRIBUTING.read_text(encoding="utf-8"))
    present = modules_in_the_tree()
    assert len(present) > 30  # the scan looks where the package is
    assert sorted(present - listed) == [], "modules missing from CONTRIBUTING.md's layout"
    assert sorted(listed - present) == [], "CONTRIBUTING.md lists modules that do not exist"
