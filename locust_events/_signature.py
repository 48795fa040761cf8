"""Registration-time check that a listener can take what its hook passes."""

from __future__ import annotations

import inspect
from collections.abc import Collection

from ._errors import describe_listener

__all__ = ["check_listener_signature"]

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _quoted(names: Collection[str]) -> str:
    return ", ".join(repr(name) for name in sorted(names))


def check_listener_signature(hook_name: str, passes: frozenset[str], listener: object) -> None:
    """Raise ``TypeError`` when ``listener`` would fail on every fire of the hook.

    A hook passes exactly the keyword arguments ``passes``. A listener fails every fire when
    it requires a parameter the hook never passes, or when it has no ``**kwargs`` and lacks
    a parameter for something the hook passes. Listeners whose signature cannot be read
    (some builtins and C callables) are accepted: they are checked by their first fire.
    """
    try:
        signature = inspect.signature(listener)  # type: ignore[arg-type]
    except Exception:  # unreadable, or a __signature__ that raises: checked by its first fire
        return
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
    not_accepted = passes - accepted
    if not takes_any_keyword and not_accepted:
        problems.append(
            f"it cannot take {_quoted(not_accepted)}, which {hook_name!r} passes; add "
            "**kwargs to its parameters"
        )
    if problems:
        passed = _quoted(passes) or "nothing"
        raise TypeError(
            f"Cannot add listener {describe_listener(listener)}{signature} to hook "
            f"{hook_name!r}: {'; '.join(problems)}. The hook passes: {passed}."
        )
