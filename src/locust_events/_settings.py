"""The package's environment variables, each read here, one way.

A switch is on for ``1``, ``true``, ``yes`` or ``on`` and off for ``0``, ``false``, ``no``,
``off`` or empty (any case); anything else is refused with an error naming the variable.
"""

from __future__ import annotations

import os
from typing import Final

__all__ = [
    "LISTENERS_TAB_VARIABLE",
    "PROFILE_VARIABLE",
    "PURE_LOOP_REQUESTED",
    "PURE_VARIABLE",
    "SAMPLE_EVERY_VARIABLE",
    "on_or_off",
    "switch",
    "whole_number",
]

#: Set to 1 to run the pure-Python calling loop even where the C extension is built.
PURE_VARIABLE: Final = "LOCUST_EVENTS_PURE"
#: Set to 1 to profile every listener from ``init`` on and log the table at ``quit``.
PROFILE_VARIABLE: Final = "LOCUST_EVENTS_PROFILE"
#: Set to 0 to leave the Listeners tab out of Locust's web UI.
LISTENERS_TAB_VARIABLE: Final = "LOCUST_EVENTS_LISTENERS_TAB"
#: One listener call in this many is timed for the Listeners tab.
SAMPLE_EVERY_VARIABLE: Final = "LOCUST_EVENTS_SAMPLE_EVERY"

_ON: Final = frozenset({"1", "true", "yes", "on"})
_OFF: Final = frozenset({"", "0", "false", "no", "off"})


def switch(variable: str, default: bool) -> bool:
    """The switch ``variable`` as set in the environment, ``default`` when it is not set.

    :raises ValueError: it is set to something that is neither on nor off.
    """
    text = os.environ.get(variable)
    if text is None:
        return default
    try:
        return on_or_off(text)
    except ValueError as error:
        raise ValueError(f"{variable}={error}, or unset it") from None


def on_or_off(text: str) -> bool:
    """The switch ``text`` names, as a variable or an option (``--listeners-tab off``) holds it.

    :raises ValueError: it is neither on nor off (the message starts with ``text``).
    """
    value = text.strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(
        f"{text!r} is neither on nor off: set it to 1 (or true, yes, on) or to 0 "
        "(or false, no, off)"
    )


def whole_number(variable: str, default: int) -> int:
    """The whole number (at least 1) ``variable`` holds, ``default`` when unset or empty.

    :raises ValueError: it is set to something else.
    """
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"{variable}={text!r}: give a whole number, at least 1 (1 times every listener "
            "call, 100 one call in a hundred)"
        )
    return int(text)


#: Whether the environment asked for the pure-Python loop when the package was imported.
PURE_LOOP_REQUESTED: Final = switch(PURE_VARIABLE, False)
