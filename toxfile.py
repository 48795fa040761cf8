"""Lets tox find every Python that pyenv installed, not only the one pyenv selects.

pyenv's shims answer only for the selected version, so tox would skip ``py310`` and friends on
a machine that has them. This plugin hands their executables to tox's discovery, as
``tox --discover`` would, whenever pyenv is present; elsewhere it does nothing.

Kept over the alternatives: the ``virtualenv-pyenv`` discovery plugin finds nothing under tox
4.67 (its own discovery moved to ``python-discovery``), and pyenv's multi-version selection
works only through a ``.python-version`` file naming exact versions, which would change the
Python every user of the checkout gets.
"""

from __future__ import annotations

import os
from pathlib import Path

from tox.config.sets import ConfigSet
from tox.plugin import impl
from tox.session.state import State


def _pyenv_pythons() -> list[str]:
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if not root.is_dir():
        return []
    return sorted(str(python) for python in root.glob("3.*/bin/python3") if python.is_file())


@impl
def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
    options = state.conf.options
    options.discover = [*getattr(options, "discover", []), *_pyenv_pythons()]
