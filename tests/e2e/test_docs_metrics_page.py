"""Every Python block of ``docs/metrics-and-messages.md`` runs as written (the README's
convention, see :mod:`tests.e2e.test_readme`), and the locustfile's export says what it should."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from .locust_support import needs_locust, running_target
from .test_readme import _FENCE, run

PAGE = Path(__file__).resolve().parents[2] / "docs" / "metrics-and-messages.md"
BLOCKS = [(m.group("setup"), m.group("code")) for m in _FENCE.finditer(PAGE.read_text())]

pytestmark = needs_locust


def test_the_page_has_a_locustfile_and_a_plain_python_block() -> None:
    assert [setup for setup, _ in BLOCKS] == ["locustfile", None]
    assert PAGE.read_text().count("```python\n") == len(BLOCKS)


def test_the_locustfile_of_the_page_runs_and_exports_the_merged_figures(tmp_path: Path) -> None:
    (_, code), _ = BLOCKS
    program = tmp_path / "locustfile.py"
    program.write_text(code)
    with running_target() as url:
        headless = ["--headless", "-u", "2", "-r", "2", "-t", "2s", "--host", url]
        csv = ["--csv", str(tmp_path / "run")]
        result = run(
            [sys.executable, "-m", "locust", "-f", str(program), *headless, *csv], tmp_path
        )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    exported = json.loads((tmp_path / "metrics.json").read_text())
    assert exported["workers"] == ["local"]
    assert exported["gone"] == []
    assert exported["requests"] > 0
    assert exported["p95_ms"] > 0
    assert re.search(r"^Custom metrics$", result.stderr, re.M)
    assert (tmp_path / "run_custom_metrics.csv").read_text().startswith("Worker,Metric,Label")


def test_the_plain_python_block_of_the_page_prints_what_it_says(tmp_path: Path) -> None:
    _, (_, code) = BLOCKS
    program = tmp_path / "block.py"
    program.write_text(code)
    result = run([sys.executable, str(program)], tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["5", "12.1"]
    assert lines[2] == "Custom metrics"
