"""MkDocs hook: the user's guide is the README, whose links to files under ``docs/`` are
written from the repository's root; in the site they are relative to ``docs/`` itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: How ``docs/index.md`` includes the README (a pymdownx.snippets line).
README_SNIPPET = '--8<-- "README.md"'


def on_page_markdown(markdown: str, *, config: Any, **kwargs: Any) -> str:
    """Include the README here, its ``](docs/...)`` links pointing where the site has them."""
    if README_SNIPPET not in markdown:
        return markdown
    readme = Path(config["config_file_path"]).parent / "README.md"
    return markdown.replace(README_SNIPPET, readme.read_text().replace("](docs/", "]("))
