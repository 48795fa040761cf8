"""The package's environment variables are read in one place, one way."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from locust_events._settings import PURE_VARIABLE, switch, whole_number


@pytest.mark.parametrize("text", ["1", "true", "YES", " on "])
def test_a_switch_is_on_for_the_usual_yes_words(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCUST_EVENTS_X", text)
    assert switch("LOCUST_EVENTS_X", False) is True


@pytest.mark.parametrize("text", ["0", "false", "No", "off", ""])
def test_a_switch_is_off_for_the_usual_no_words(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCUST_EVENTS_X", text)
    assert switch("LOCUST_EVENTS_X", True) is False


def test_an_unset_switch_keeps_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCUST_EVENTS_X", raising=False)
    assert switch("LOCUST_EVENTS_X", True) is True
    assert switch("LOCUST_EVENTS_X", False) is False


def test_a_switch_set_to_anything_else_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCUST_EVENTS_X", "maybe")
    with pytest.raises(ValueError, match=r"LOCUST_EVENTS_X='maybe' is neither on nor off"):
        switch("LOCUST_EVENTS_X", False)


def test_a_whole_number_is_read_or_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCUST_EVENTS_N", "10")
    assert whole_number("LOCUST_EVENTS_N", 100) == 10
    monkeypatch.setenv("LOCUST_EVENTS_N", "")
    assert whole_number("LOCUST_EVENTS_N", 100) == 100
    monkeypatch.setenv("LOCUST_EVENTS_N", "0")
    with pytest.raises(ValueError, match="LOCUST_EVENTS_N='0'"):
        whole_number("LOCUST_EVENTS_N", 100)


def _compiled_in_a_child(pure: str) -> str:
    env = {**os.environ, PURE_VARIABLE: pure}
    result = subprocess.run(
        [sys.executable, "-c", "import locust_events; print(locust_events.COMPILED)"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    return result.stdout.strip()


def test_pure_set_to_false_keeps_the_compiled_loop_where_it_is_built() -> None:
    """``LOCUST_EVENTS_PURE=false`` once picked the pure loop (anything but "" and "0" did)."""
    assert _compiled_in_a_child("false") == _compiled_in_a_child("0")
    assert _compiled_in_a_child("true") == "False"
