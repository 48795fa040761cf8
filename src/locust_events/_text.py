"""Fitting names and paths into table columns: shortened in the middle, where they say least.

A listener's qualified name starts with its module and ends with the function, and a path
starts with the package and ends with the file: both ends are worth keeping.
"""

from __future__ import annotations

import os
import sys

__all__ = ["readable_path", "shorten_middle"]

#: Marks what was cut out of a shortened text.
ELLIPSIS = "…"


def shorten_middle(text: str, width: int) -> str:
    """``text`` if it fits ``width`` characters, else its start and end around an ellipsis."""
    if len(text) <= width:
        return text
    if width <= len(ELLIPSIS):
        return text[:width]
    kept = width - len(ELLIPSIS)
    head = (kept + 1) // 2
    return f"{text[:head]}{ELLIPSIS}{text[len(text) - (kept - head) :]}"


def readable_path(path: str) -> str:
    """``path`` as a person finds it: relative to the working directory when inside it, else
    relative to the import path entry that holds it (``locust_plugins/listeners.py`` rather
    than the whole ``site-packages`` path), else as given."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute.startswith(cwd + os.sep):
        return os.path.relpath(absolute, cwd)
    entries = [os.path.abspath(entry) for entry in sys.path if entry]
    holders = [entry for entry in entries if absolute.startswith(entry + os.sep)]
    if holders:
        return os.path.relpath(absolute, max(holders, key=len))
    return path
