"""The oldest Locust the ``locust`` extra accepts is the one a tox environment tests against."""

from __future__ import annotations

import re

from .locust_support import ROOT


def test_the_declared_locust_minimum_is_the_version_tox_runs_the_locust_tests_on() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    tox = (ROOT / "tox.ini").read_text()
    declared = re.search(r'locust = \["locust>=([\d.]+)"\]', pyproject)
    assert declared is not None, "the locust extra declares no minimum"
    section = re.search(r"\[testenv:locust-min\](.*?)(?:\n\[|\Z)", tox, re.S)
    assert section is not None, "tox has no environment for the oldest Locust"
    pinned = re.search(r"locust==([\d.]+)", section.group(1))
    assert pinned is not None
    assert pinned.group(1).startswith(declared.group(1))
    assert "locust-min" in re.search(r"env_list = (.*)", tox).group(1)  # type: ignore[union-attr]
    # locust_events.locust imports StopTest, which Locust has from 2.43 on.
    assert tuple(int(part) for part in declared.group(1).split(".")[:2]) >= (2, 43)
