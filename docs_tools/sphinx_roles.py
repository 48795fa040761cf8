"""A griffe extension: the package's reStructuredText markup, made Markdown for mkdocstrings.

The docstrings are Sphinx-style (``:param x:`` fields, which mkdocstrings' ``sphinx`` style
parses into lists). What that style leaves as written is turned into Markdown here, once per
docstring when griffe loads the package:

- a role such as ``:meth:`~.EventHook.fire``` becomes a link to the object's entry in the API
  reference (an optional cross-reference: text without a link where the object has no entry,
  e.g. a private helper or another library);
- a paragraph ending in ``::`` and the indented block after it become a fenced Python block;
- the ``:param name:`` fields of a hook (an attribute: they are what the hook passes its
  listeners, not parameters of a signature) become a list under "Passes to its listeners".
"""

from __future__ import annotations

import html
import re
from functools import partial
from typing import Any

import griffe

#: ``:role:`target``` (the roles the package's docstrings use, Python domain or not).
ROLE = re.compile(
    r":(?:py:)?(?P<role>meth|class|func|attr|data|mod|exc|obj|const):`(?P<target>[^`]+)`"
)
#: A field ``:param name: text`` (its continuation lines are indented).
PARAM = re.compile(r"^:param (?P<name>\w+):\s*(?P<text>.*)$")
#: A line that ends in ``::`` (the literal block's introduction).
LITERAL_INTRO = re.compile(r"^(?P<text>.*?)(?P<colons> ?::)\s*$")


def _objects(obj: griffe.Object) -> list[griffe.Object]:
    """``obj`` and every object it holds, aliases (re-exports) left out."""
    found = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            found += _objects(member)  # type: ignore[arg-type]
    return found


def _public_names(package: griffe.Module) -> dict[str, str]:
    """Canonical path -> the path under which the API reference shows it (the re-export)."""
    names = {}
    for name, member in package.members.items():
        if member.is_alias and not name.startswith("_"):
            try:
                names[member.final_target.path] = f"{package.path}.{name}"
            except griffe.AliasResolutionError:
                continue
    return names


class SphinxRoles(griffe.Extension):
    """Rewrites the docstrings of the package as :mod:`docs_tools.sphinx_roles` says."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        objects = _objects(pkg)
        self.public = _public_names(pkg)
        # The re-exports too (``locust_events.Events``), as a docstring may name either.
        self.paths = {obj.path for obj in objects} | set(self.public.values())
        self.package = pkg.path
        for obj in objects:
            if obj.docstring is not None:
                text = literal_blocks(obj.docstring.value)
                if obj.is_attribute:
                    text = passed_names(text)
                obj.docstring.value = ROLE.sub(partial(self.link, obj=obj), text)

    def resolve(self, target: str, obj: griffe.Object) -> str | None:
        """The canonical path ``target`` names from ``obj``'s docstring, if it is the package's."""
        name = target.lstrip(".")
        scopes = [obj.path, obj.parent.path if obj.parent else "", obj.module.path, self.package]
        for scope in scopes:
            candidate = f"{scope}.{name}" if scope else name
            if candidate in self.paths:
                return candidate
        if name in self.paths:
            return name
        # ``~.X.y`` (relative) or a name re-exported elsewhere: the one object it ends.
        ends = sorted(path for path in self.paths if path.endswith(f".{name}"))
        return min(ends, key=len) if ends else None

    def public_path(self, path: str) -> str | None:
        """The path the reference documents ``path`` under, or None if it is private."""
        for canonical in sorted(self.public, key=len, reverse=True):
            if path == canonical or path.startswith(f"{canonical}."):
                path = self.public[canonical] + path[len(canonical) :]
                break
        private = any(part.startswith("_") for part in path.split(".")[1:])
        return None if private else path

    def link(self, match: re.Match[str], *, obj: griffe.Object) -> str:
        target = match.group("target").strip()
        bare = target.lstrip("~")
        shown = bare.rsplit(".", 1)[-1] if target.startswith("~") else bare.lstrip(".")
        resolved = self.resolve(bare, obj)
        public = self.public_path(resolved) if resolved else None
        code = f"<code>{html.escape(shown)}</code>"
        if public is None:
            return code
        return f'<autoref identifier="{html.escape(public)}" optional>{code}</autoref>'


def literal_blocks(text: str) -> str:
    """Each reStructuredText literal block (``::`` and an indented block) as a Python fence."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        intro = LITERAL_INTRO.match(line)
        if intro is None or ROLE.search(line[-4:]):
            out.append(line)
            index += 1
            continue
        prefix = intro.group("text")
        if prefix.strip():
            out.append(prefix + ("" if intro.group("colons") == " ::" else ":"))
        index += 1
        block: list[str] = []
        while index < len(lines) and (not lines[index].strip() or lines[index][:1] in " \t"):
            block.append(lines[index])
            index += 1
        while block and not block[-1].strip():
            block.pop()
        while block and not block[0].strip():
            block.pop(0)
        margins = [len(entry) - len(entry.lstrip()) for entry in block if entry.strip()]
        indent = min(margins, default=0)
        out += ["", "```python", *(entry[indent:] for entry in block), "```", ""]
    return "\n".join(out)


def passed_names(text: str) -> str:
    """A hook's ``:param name:`` fields as a Markdown list of the names it passes."""
    out: list[str] = []
    items: list[str] = []
    for line in text.splitlines():
        field = PARAM.match(line)
        if field is not None:
            items.append(f"- `{field.group('name')}`: {field.group('text')}")
        elif items and line[:1] in " \t" and line.strip():
            items[-1] += " " + line.strip()
        else:
            if items:
                out += ["", "**Passes to its listeners:**", "", *items, ""]
                items = []
            out.append(line)
    if items:
        out += ["", "**Passes to its listeners:**", "", *items]
    return "\n".join(out)
