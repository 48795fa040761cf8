"""The docs site builds with warnings as errors, and what it ships is what a reader should get.

The site is built once (``mkdocs build --strict``, as ``tox -e docs`` does) into a temporary
directory; then every page must be free of reStructuredText left raw (``:meth:`x```,
``:param x:`` lines, a lone ``::``), nothing may load from another host (highlighting is
Pygments', served with the site), and no build script or bytecode may be shipped.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: A role or a field list as reStructuredText writes it, once the HTML's tags are gone.
RAW_RST = re.compile(
    r":(?:py:)?(?:meth|class|func|attr|data|mod|exc|obj|const):`?\w"
    r"|^\s*:(?:param|type|returns?|rtype|raises)\b[^:\n]*:"
    r"|^\s*::\s*$",
    re.MULTILINE,
)
#: A script or a stylesheet fetched from elsewhere (``https://``, ``http://`` or ``//``).
EXTERNAL_ASSET = re.compile(
    r"<(?:script|link)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//[^\"']*[\"']", re.IGNORECASE
)


def build_site(site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    built = build_site(site)
    assert built.returncode == 0, built.stdout + built.stderr
    return site


def pages(site: Path) -> Iterator[Path]:
    yield from sorted(site.rglob("*.html"))


def text_of(page: Path) -> str:
    """What a reader sees of a page: its HTML without tags, scripts or styles."""
    markup = page.read_text(encoding="utf-8")
    markup = re.sub(r"<(script|style)\b.*?</\1>", "", markup, flags=re.DOTALL | re.IGNORECASE)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def raw_rst(site: Path) -> list[str]:
    """Each place in the site where reStructuredText shows as written."""
    found = []
    for page in pages(site):
        text = text_of(page)
        for match in RAW_RST.finditer(text):
            start = max(0, match.start() - 40)
            where = text[start : match.end() + 40].replace("\n", " ")
            found.append(f"{page.relative_to(site)}: ...{where}...")
    return found


def external_assets(site: Path) -> list[str]:
    return [
        f"{page.relative_to(site)}: {match.group(0)}"
        for page in pages(site)
        for match in EXTERNAL_ASSET.finditer(page.read_text(encoding="utf-8"))
    ]


def shipped_build_files(site: Path) -> list[str]:
    """Python sources, bytecode and ``__pycache__`` directories in the built site."""
    return sorted(
        str(path.relative_to(site))
        for path in site.rglob("*")
        if path.name == "__pycache__" or path.suffix in (".py", ".pyc")
    )


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    page = tmp_path / "api" / "index.html"
    page.parent.mkdir()
    page.write_text(
        '<link rel="stylesheet" href="https://cdn.example/x.css">'
        "<p>See :meth:`fire` and :class:<code>Events</code></p>\n"
        "<p>:param timeout: seconds\n:returns: True</p>\n<pre>::\n</pre>"
        '<script src="../js/local.js"></script>'
    )
    (tmp_path / "hooks.py").write_text("")
    (tmp_path / "__pycache__").mkdir()
    assert len(raw_rst(tmp_path)) == 5
    assert len(external_assets(tmp_path)) == 1
    assert shipped_build_files(tmp_path) == ["__pycache__", "hooks.py"]


def test_no_page_shows_raw_restructuredtext(site: Path) -> None:
    assert raw_rst(site) == []


def test_nothing_loads_from_another_host(site: Path) -> None:
    assert external_assets(site) == []
    assert "highlight" in (site / "css" / "pygments.css").read_text()
    assert 'class="highlight"' in (site / "getting-started" / "index.html").read_text()


def test_no_build_script_or_bytecode_is_shipped(site: Path) -> None:
    assert shipped_build_files(site) == []


def test_the_api_reference_lists_parameters_and_links_names(site: Path) -> None:
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    # Parameters as a list, not a paragraph of fields.
    assert re.search(r"Parameters:</(?:th|span)>\s*(?:</p>|<td[^>]*>)\s*<ul\b", api)
    # EventHook's docstring names Events with a role: it is a link to Events' entry.
    hook = api[api.index('id="locust_events.EventHook"') :]
    assert re.search(r'<a class="autorefs[^>]*href="#locust_events\.Events"', hook)
    # A hook's fields are the names it passes, listed.
    request = api[api.index('id="locust_events.Events.request"') :]
    assert "Passes to its listeners:" in request[:3000]


def test_every_page_of_the_docs_folder_is_in_the_site(site: Path) -> None:
    for page in (ROOT / "docs").glob("*.md"):
        built = site / "index.html" if page.stem == "index" else site / page.stem / "index.html"
        assert built.is_file(), page.name
