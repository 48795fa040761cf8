"""Every Python block of ``docs/pressure-and-timeouts.md`` runs as a user would run it, under
the README's convention (see ``test_readme``): each block a complete program, a block that
needs a setup naming it right above its fence."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from .locust_support import running_target
from .test_readme import _FENCE, SETUPS, run

PAGE = Path(__file__).resolve().parents[2] / "docs" / "pressure-and-timeouts.md"
TEXT = PAGE.read_text(encoding="utf-8")
BLOCKS = [(match.group("setup"), match.group("code")) for match in _FENCE.finditer(TEXT)]


def test_the_page_has_its_python_blocks_and_knows_their_setups() -> None:
    assert len(BLOCKS) == TEXT.count("```python\n") >= 3
    assert all(setup in (None, *SETUPS) for setup, _ in BLOCKS)
    assert not re.search(r"\bspec\b|#\d", TEXT)


@pytest.mark.parametrize(("setup", "code"), BLOCKS, ids=[f"block {i}" for i in range(len(BLOCKS))])
def test_the_page_block_runs_as_written(setup: str | None, code: str, tmp_path: Path) -> None:
    program = tmp_path / ("locustfile.py" if setup == "locustfile" else "page_block.py")
    program.write_text(code, encoding="utf-8")
    if setup == "locustfile":
        assert importlib.util.find_spec("locust") is not None, "needs the locust extra"
        with running_target() as url:
            headless = ["--headless", "-u", "2", "-r", "2", "-t", "2s", "--host", url]
            result = run([sys.executable, "-m", "locust", "-f", str(program), *headless], tmp_path)
    else:
        assert setup is None, setup  # the page names no other setup
        result = run([sys.executable, str(program)], tmp_path)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
