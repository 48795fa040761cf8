"""Every Python block of the README and of the docs pages runs as a user would run it.

The convention, for every page of :data:`DOCUMENTS` (``README.md``, ``CONTRIBUTING.md`` and
every page in ``docs/``; a new page is picked up without a change here):

- Each fenced block marked ``python`` is a complete program: it is written to a file in an
  empty temporary directory and run there with this interpreter, in a process of its own (the
  blocks register listeners on the global ``events`` and may import Locust, which
  monkey-patches), and must exit with status 0 within :data:`TIME_LIMIT` seconds. Blocks
  marked ``bash`` or ``text`` are not run here (the quick start's commands are what CI runs).
- A block that needs something a reader sets up first names it in an HTML comment on the line
  right above its fence, ``<!-- readme-test: SETUP -->``, and the page says so in prose
  before the block. The setups this module supplies (:data:`SETUPS`):

  ``target``
      the local target (``python -m locust_events target``) runs on 127.0.0.1, and the
      block's environment has ``TARGET_URL`` (its base URL) and ``WEBHOOK_URL``
      (``TARGET_URL`` + ``/webhook``).
  ``locustfile``
      the block is a locustfile: real Locust runs it headless against the local target,
      ``-u 2 -r 2 -t 2s``, with ``TARGET_URL`` and ``WEBHOOK_URL`` set as for ``target``;
      Locust's exit status must be 0.
  ``type-error``
      the block runs as above, and ``mypy`` must report an error on each line marked with a
      ``# error:`` comment (and on no other line): the page shows what a type checker says.

- A block with no such comment needs nothing but the package and its extras. A setup name this
  module does not know fails the test, so a typo cannot skip a block.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from .locust_support import running_target

ROOT = Path(__file__).resolve().parents[2]
#: Every page a reader reads: the README, the contributors' guide and the docs site's pages.
DOCUMENTS = (
    ROOT / "README.md",
    ROOT / "CONTRIBUTING.md",
    *sorted((ROOT / "docs").glob("*.md")),
)
#: Seconds any one block may take, start-up included.
TIME_LIMIT = 120
SETUPS = ("target", "locustfile", "type-error")

_FENCE = re.compile(
    r"^(?:<!-- readme-test: (?P<setup>[\w-]+) -->\n)?```python\n(?P<code>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """One Python block of a page: its code, the setup it names and where it starts."""

    page: str
    code: str
    setup: str | None
    line: int
    section: str

    @property
    def id(self) -> str:
        return f"{self.page} line {self.line} ({self.section})"


def page_blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        sections = re.findall(r"^#+ (.+)$", before, re.MULTILINE)
        blocks.append(
            Block(
                page=page.name,
                code=match.group("code"),
                setup=match.group("setup"),
                line=before.count("\n") + 1,
                section=sections[-1] if sections else "top",
            )
        )
    return blocks


BLOCKS = [block for page in DOCUMENTS for block in page_blocks(page)]


def block_environment(**extra: str) -> dict[str, str]:
    """Ours, with Locust's own settings left out (this package's, such as the loop, kept)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LOCUST_") or key.startswith("LOCUST_EVENTS_")
    }
    return {**environment, **extra}


def run(command: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
        env=block_environment(**extra),
    )


@pytest.mark.parametrize("page", DOCUMENTS, ids=lambda page: page.name)
def test_the_pattern_finds_every_python_block_of_the_page(page: Path) -> None:
    fences = page.read_text(encoding="utf-8").count("```python\n")
    assert len(page_blocks(page)) == fences


def test_the_pages_have_python_blocks_and_every_setup_is_known() -> None:
    assert len(DOCUMENTS) > 10  # the docs pages are where this looks
    assert len(BLOCKS) >= 10
    unknown = [(block.id, block.setup) for block in BLOCKS if block.setup not in (None, *SETUPS)]
    assert not unknown


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_the_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    program = tmp_path / ("locustfile.py" if block.setup == "locustfile" else "readme_block.py")
    program.write_text(block.code, encoding="utf-8")
    if block.setup in ("target", "locustfile"):
        if block.setup == "locustfile" and importlib.util.find_spec("locust") is None:
            pytest.fail("the docs' Locust blocks need the locust extra installed")
        with running_target() as url:
            urls = {"TARGET_URL": url, "WEBHOOK_URL": f"{url}/webhook"}
            if block.setup == "locustfile":
                headless = ["--headless", "-u", "2", "-r", "2", "-t", "2s", "--host", url]
                command = [sys.executable, "-m", "locust", "-f", str(program), *headless]
            else:
                command = [sys.executable, str(program)]
            result = run(command, tmp_path, **urls)
    else:
        result = run([sys.executable, str(program)], tmp_path)
    assert result.returncode == 0, f"{block.id}:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, f"{block.id}:\n{result.stderr}"
    if block.setup == "type-error":
        check_type_errors(block, program, tmp_path)


def check_type_errors(block: Block, program: Path, workdir: Path) -> None:
    """mypy flags exactly the lines the block marks ``# error:``."""
    marked = {
        number for number, line in enumerate(block.code.splitlines(), 1) if "# error:" in line
    }
    assert marked, f"{block.id} is marked type-error but marks no line '# error:'"
    # The checkout's (or unpacked sdist's) package first, so an editable install is checked too.
    source = ROOT
    mypy_path = {"MYPYPATH": str(source / "src")} if (source / "src").is_dir() else {}
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", program.name]
    result = run(command, workdir, **mypy_path)
    flagged = {
        int(found.group(1))
        for found in re.finditer(rf"^{re.escape(program.name)}:(\d+): error:", result.stdout, re.M)
    }
    assert flagged == marked, result.stdout
