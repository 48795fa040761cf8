"""Every Python block of ``docs/listeners-tab-figures.md`` runs as written, as the README's do
(``test_readme.py`` states the convention; this page's blocks need no setup)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from .test_readme import run

PAGE = Path(__file__).resolve().parents[2] / "docs" / "listeners-tab-figures.md"
_FENCE = re.compile(r"^(<!-- readme-test: [\w-]+ -->\n)?```python\n(.*?)^```$", re.M | re.S)
BLOCKS = [(match.group(1), match.group(2)) for match in _FENCE.finditer(PAGE.read_text())]


def test_the_page_has_its_python_block() -> None:
    assert len(BLOCKS) == PAGE.read_text().count("```python\n") == 1


@pytest.mark.parametrize(("setup", "code"), BLOCKS)
def test_the_pages_block_runs_as_written(setup: str | None, code: str, tmp_path: Path) -> None:
    assert setup is None  # none of this page's blocks needs a setup
    program = tmp_path / "page_block.py"
    program.write_text(code, encoding="utf-8")
    result = run([sys.executable, str(program)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "~" in result.stdout  # the sampled total is marked as an estimate
