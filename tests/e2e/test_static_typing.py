"""Typed hooks: mypy and pyright accept listeners that fit and flag those that cannot."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parent / "typing_samples"
ROOT = SAMPLES.parents[2]


def expected_error_lines(sample: Path) -> set[int]:
    return {
        number
        for number, line in enumerate(sample.read_text().splitlines(), start=1)
        if line.rstrip().endswith("# expect-error")
    }


def mypy_error_lines(sample: Path, tmp_path: Path) -> tuple[set[int], str]:
    api = pytest.importorskip("mypy.api")
    stdout, stderr, _ = api.run(
        [
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
            "--no-error-summary",
            "--show-error-codes",
            str(sample),
        ]
    )
    lines = {
        int(match.group(1))
        for match in re.finditer(rf"^\S*{re.escape(sample.name)}:(\d+): error:", stdout, re.M)
    }
    return lines, stdout + stderr


def pyright_error_lines(sample: Path) -> tuple[set[int], str]:
    pyright = shutil.which("basedpyright") or shutil.which(
        "basedpyright", path=str(Path(sys.executable).parent)
    )
    if pyright is None:
        pytest.skip("basedpyright (pyright, packaged with its Node.js) is not installed")
    completed = subprocess.run(
        [
            pyright,
            "--outputjson",
            *("-p", str(SAMPLES / "pyrightconfig.json")),
            # The interpreter running the tests, so pyright sees the package installed there
            # (not a checkout on PYTHONPATH: the source is under src/).
            *("--pythonpath", sys.executable),
            str(sample),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    report = json.loads(completed.stdout)
    lines = {
        diagnostic["range"]["start"]["line"] + 1
        for diagnostic in report["generalDiagnostics"]
        if diagnostic["severity"] == "error"
    }
    return lines, completed.stdout


@pytest.mark.parametrize("sample", ["pass_listeners.py", "fail_listeners.py"])
def test_mypy_flags_exactly_the_listeners_that_cannot_fit(sample: str, tmp_path: Path) -> None:
    path = SAMPLES / sample
    flagged, output = mypy_error_lines(path, tmp_path)
    assert flagged == expected_error_lines(path), output


@pytest.mark.parametrize("sample", ["pass_listeners.py", "fail_listeners.py"])
def test_pyright_flags_exactly_the_listeners_that_cannot_fit(sample: str) -> None:
    path = SAMPLES / sample
    flagged, output = pyright_error_lines(path)
    assert flagged == expected_error_lines(path), output
