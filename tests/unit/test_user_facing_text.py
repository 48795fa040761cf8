"""What users read speaks of the product: no internal words in the README, the examples, the
package's docstrings and messages, or the docs site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import locust_events

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(locust_events.__file__).resolve().parent
#: Words from the project's own planning that mean nothing to a user.
INTERNAL = re.compile(r"(?i:\bthe spec\b|\bspec's\b|\bto the spec\b|\bissue \d+)|\bMISSED\b")


def user_facing_files() -> list[Path]:
    files = [*sorted(PACKAGE.glob("*.py")), *sorted(PACKAGE.glob("*.pyi"))]
    for name in ("README.md", "CHANGELOG.md"):
        files.append(ROOT / name)
    files += sorted((ROOT / "examples").glob("*.py"))
    files += sorted((ROOT / "docs").glob("*.md"))
    return files


@pytest.mark.parametrize("path", user_facing_files(), ids=lambda path: path.name)
def test_no_internal_words(path: Path) -> None:
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INTERNAL.search(line)
    ]
    assert not found, "\n".join(found)
