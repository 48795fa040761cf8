"""Install commands that work on the machine reading them: for an extra's requirements, and
for rebuilding the compiled modules from wherever this copy of the package was installed.

While the package is not on an index, ``pip install 'locust-events[monitor]'`` finds nothing:
an extra's hint names its requirements themselves (``psutil>=5.9``), read from this copy's
metadata, and the rebuild names the checkout (or archive, or repository) it came from.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = [
    "InstallSource",
    "extra_install_command",
    "extra_requirements",
    "install_source",
    "rebuild_command",
]

#: The distribution's name, as ``pyproject.toml`` gives it.
DISTRIBUTION = "locust-events"


@dataclass(frozen=True)
class InstallSource:
    """Where this copy was installed from."""

    #: "checkout" (the package runs from a source tree: editable, or built in place),
    #: "directory" (pip installed a copy of a source tree), "archive" (a wheel or sdist
    #: file or URL), "vcs" (a repository URL), "index", or "unknown" (an unpacked sdist
    #: being built, as setup.py sees one).
    kind: str
    #: The checkout or directory path, the archive's path or URL, or the VCS requirement URL
    #: (``git+https://...@commit``); empty for "index" and "unknown".
    location: str = ""


def _checkout_root(package_dir: Path) -> Path | None:
    """The source tree the package runs from (``<root>/src/locust_events``), if it does."""
    root = package_dir.parent.parent
    pyproject = root / "pyproject.toml"
    if package_dir.parent.name == "src" and pyproject.is_file():
        try:
            if f'name = "{DISTRIBUTION}"' in pyproject.read_text(encoding="utf-8"):
                return root
        except OSError:
            return None
    return None


def _direct_url() -> dict[str, object] | None:
    """What pip recorded of a direct (non-index) install (``direct_url.json``, PEP 610)."""
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
        return None if text is None else dict(json.loads(text))
    except (metadata.PackageNotFoundError, ValueError, TypeError):
        return None


def install_source(package_dir: Path | None = None) -> InstallSource:
    """Where this copy came from: the source tree it runs from, else pip's record of a direct
    install, else an index."""
    package_dir = Path(__file__).resolve().parent if package_dir is None else package_dir
    root = _checkout_root(package_dir)
    if root is not None:
        return InstallSource("checkout", str(root))
    direct = _direct_url()
    if direct is None:
        return InstallSource("index")
    url = str(direct.get("url", ""))
    vcs_info = direct.get("vcs_info")
    if isinstance(vcs_info, dict):
        commit = vcs_info.get("commit_id")
        return InstallSource("vcs", f"{vcs_info.get('vcs', 'git')}+{url}@{commit}")
    parsed = urlparse(url)
    path = unquote(parsed.path) if parsed.scheme == "file" else url
    if "dir_info" in direct:
        return InstallSource("directory", path)
    return InstallSource("archive", path)


#: What a rebuild installs from when the source is unknown, or a wheel (which has no C).
_SOURCE_PLACEHOLDER = "<a checkout or sdist of locust-events>"


def _pip(*arguments: str) -> str:
    """``pip install`` run by this very interpreter, so it installs where this copy is."""
    command = shlex.join([sys.executable, "-m", "pip", "install", *arguments])
    return command.replace(shlex.quote(_SOURCE_PLACEHOLDER), _SOURCE_PLACEHOLDER)


def extra_requirements(extra: str) -> list[str]:
    """What the extra ``extra`` installs (``["psutil>=5.9"]``), from this copy's metadata;
    empty when the copy has none (it runs from a source tree never installed)."""
    try:
        requires = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        return []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    found = []
    for requirement in requires:
        name, _, markers = requirement.partition(";")
        if marker.search(markers):
            found.append(name.strip())
    return found


def _requirement(source: InstallSource, extra: str | None) -> str:
    """The requirement that installs this copy again (with ``extra``) from its source."""
    extras = f"[{extra}]" if extra else ""
    if source.kind in ("checkout", "directory") or source.location.startswith("/"):
        return f"{source.location}{extras}"  # a path: pip takes it as it is
    if source.kind in ("archive", "vcs"):
        return f"{DISTRIBUTION}{extras} @ {source.location}"
    return f"{DISTRIBUTION}{extras}"


def extra_install_command(extra: str, source: InstallSource | None = None) -> str:
    """The command that installs what ``extra`` (``"monitor"``, ``"locust"``) needs::

        /usr/bin/python3 -m pip install 'psutil>=5.9'

    Its requirements themselves, which an index has, whether this copy came from one or
    not; a copy without metadata gets the extra of the source tree it runs from.
    """
    requirements = extra_requirements(extra)
    if requirements:
        return _pip(*requirements)
    source = install_source() if source is None else source
    if source.kind == "checkout":
        return _pip("-e", _requirement(source, extra))
    return _pip(_requirement(source, extra))


def rebuild_command(source: InstallSource | None = None) -> str:
    """The command that compiles this copy's C and Cython modules again, once a C compiler
    and the Python headers are installed."""
    source = install_source() if source is None else source
    if source.kind == "checkout":  # built in place: rebuild there
        python = shlex.quote(sys.executable)
        return f"cd {shlex.quote(source.location)} && {python} setup.py build_ext --inplace"
    reinstall = ("--force-reinstall", "--no-deps", "--no-cache-dir")
    if source.kind == "index":
        return _pip(*reinstall, "--no-binary", DISTRIBUTION, DISTRIBUTION)
    if source.kind == "unknown" or source.location.endswith(".whl"):
        return _pip(*reinstall, _SOURCE_PLACEHOLDER)
    return _pip(*reinstall, _requirement(source, None))
