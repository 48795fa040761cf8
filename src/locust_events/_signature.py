"""Registration-time check of a listener's signature, and the names to call it with."""

from __future__ import annotations

import inspect
from collections.abc import Collection
from dataclasses import dataclass

from ._errors import describe_listener

__all__ = [
    "SignatureCheck",
    "SignatureProblem",
    "check_listener_signature",
    "examine_listener_signature",
]

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _quoted(names: Collection[str]) -> str:
    return ", ".join(repr(name) for name in sorted(names))


@dataclass(frozen=True, slots=True)
class SignatureProblem:
    """One reason a listener would fail on every fire of a hook, and what to do about it."""

    #: What is wrong, e.g. "it requires 'tag', which 'test_start' never passes".
    problem: str
    #: What to change in the listener, e.g. "give them a default value or remove them".
    fix: str


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """What checking one listener against what one hook passes found."""

    hook_name: str
    #: The keyword arguments the hook's fires pass.
    passes: frozenset[str]
    listener: object
    #: The listener's signature; ``None`` when it cannot be read (then nothing is wrong).
    signature: inspect.Signature | None
    #: Why every fire would fail; empty when the listener is accepted.
    problems: tuple[SignatureProblem, ...]
    #: ``None`` to call the listener with everything a fire passes, else the names it takes.
    takes: frozenset[str] | None

    @property
    def passes_text(self) -> str:
        """What the hook passes, as a person reads it: ``'environment'``, or ``nothing``."""
        return _quoted(self.passes) or "nothing"

    def message(self) -> str:
        """The error ``add_listener`` raises: the listener, the hook, each problem and its fix,
        then what the hook passes."""
        problems = "; ".join(f"{found.problem}; {found.fix}" for found in self.problems)
        return (
            f"Cannot add listener {describe_listener(self.listener)}{self.signature} to hook "
            f"{self.hook_name!r}: {problems}. The hook passes: {self.passes_text}."
        )


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
    check = examine_listener_signature(hook_name, passes, listener)
    if check.problems:
        raise TypeError(check.message())
    return check.takes


def examine_listener_signature(
    hook_name: str, passes: frozenset[str], listener: object
) -> SignatureCheck:
    """Check ``listener`` against the keyword arguments ``passes`` of the hook ``hook_name``,
    and return what was found, problems and fixes as data (see :func:`check_listener_signature`)."""
    try:
        signature = inspect.signature(listener)  # type: ignore[arg-type]
    except Exception:  # unreadable, or a __signature__ that raises: checked by its first fire
        return SignatureCheck(hook_name, passes, listener, None, (), None)
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

    problems: list[SignatureProblem] = []
    if positional_only:
        problems.append(
            SignatureProblem(
                f"it requires positional-only parameter(s) {_quoted(positional_only)}, but "
                "hooks pass keyword arguments only",
                "make them ordinary parameters",
            )
        )
    if required_but_never_passed:
        problems.append(
            SignatureProblem(
                f"it requires {_quoted(required_but_never_passed)}, which {hook_name!r} never "
                "passes",
                "give them a default value or remove them",
            )
        )
    takes = None if takes_any_keyword or passes <= accepted else frozenset(accepted)
    return SignatureCheck(hook_name, passes, listener, signature, tuple(problems), takes)
