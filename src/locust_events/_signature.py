"""Registration-time check of a listener's signature, and the names to call it with."""

from __future__ import annotations

import inspect
from collections.abc import Collection

from ._errors import describe_listener

__all__ = ["check_listener_signature"]

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _quoted(names: Collection[str]) -> str:
    return ", ".join(repr(name) for name in sorted(names))


def check_listener_signature(
    hook_name: str, passes: frozenset[str], listener: object
) -> frozenset[str] | None:
    """Raise ``TypeError`` when ``listener`` would fail on every fire of the hook; else say
    which keyword arguments to call it with.

    A hook passes the keyword arguments ``passes``. A listener fails every fire when it
    requires a parameter the hook never passes, or a positional-only one. Any other listener
    is accepted, as Locust accepts it: one without ``**kwargs`` that lacks a parameter for
    some of what the hook passes is called with only the names it takes.

    :returns: ``None`` to call the listener with everything a fire passes (it has
        ``**kwargs``, takes every name of ``passes``, or its signature cannot be read, as for
        some builtins and C callables); else the names it takes, to which each fire's keyword
        arguments are narrowed.
    """
    try:
        signature = inspect.signature(listener)  # type: ignore[arg-type]
    except Exception:  # unreadable, or a __signature__ that raises: checked by its first fire
        return None
    accepted: set[str] = set()
    takes_any_keyword = False
    required_but_never_passed: list[str] = []
    positional_only: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            takes_any_keyword = True
        elif parameter.kind in _KEYWORD_KINDS:
            accepted.add(parameter.name)
            if parameter.default is inspect.Parameter.empty and parameter.name not in passes:
                required_but_never_passed.append(parameter.name)
        elif (
            parameter.kind is inspect.Parameter.POSITIONAL_ONLY
            and parameter.default is inspect.Parameter.empty
        ):
            positional_only.append(parameter.name)

    problems: list[str] = []
    if positional_only:
        problems.append(
            f"it requires positional-only parameter(s) {_quoted(positional_only)}, but hooks "
            "pass keyword arguments only; make them ordinary parameters"
        )
    if required_but_never_passed:
        problems.append(
            f"it requires {_quoted(required_but_never_passed)}, which {hook_name!r} never "
            "passes; give them a default value or remove them"
        )
    if problems:
        passed = _quoted(passes) or "nothing"
        raise TypeError(
            f"Cannot add listener {describe_listener(listener)}{signature} to hook "
            f"{hook_name!r}: {'; '.join(problems)}. The hook passes: {passed}."
        )
    if takes_any_keyword or passes <= accepted:
        return None
    return frozenset(accepted)
