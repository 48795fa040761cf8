"""The README sells in one screen and sends the reader to the docs: its size, its two
quick-start commands (the test command is the one CI runs), links that lead somewhere and
images whose addresses work on a package index page."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
#: At most this many bytes: a page a reader takes in, not a manual.
MAX_BYTES = 10_000


def quick_start_commands() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## Quick start", 1)[1].split("\n## ")[0]
    return re.findall(r"^```bash\n(.*?)\n```$", section, re.MULTILINE | re.DOTALL)


def test_the_readme_is_at_most_ten_kilobytes() -> None:
    assert len(README.read_bytes()) <= MAX_BYTES


def test_the_quick_start_is_two_commands_one_for_the_demo_one_for_the_tests() -> None:
    demo, tests = quick_start_commands()
    assert "\n" not in demo
    assert "\n" not in tests
    assert demo.startswith("python3 -m venv .venv && ")
    assert demo.endswith("-m locust_events demo")
    assert tests.startswith("python3 -m venv .venv && ")
    assert "-m tox" in tests


def test_ci_runs_the_readmes_test_command() -> None:
    _, tests = quick_start_commands()
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci_lines


def test_every_relative_link_of_the_readme_leads_to_a_file() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    relative = [link for link in links if "://" not in link]
    assert relative, "the README links into the docs"
    assert [link for link in relative if not (ROOT / link).is_file()] == []


def test_images_have_addresses_that_work_on_a_package_index_page() -> None:
    text = README.read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text) + re.findall(
        r"<img [^>]*src=\"([^\"]+)\"", text
    )
    assert [image for image in images if not image.startswith("https://")] == []
