"""Registration-time check of a listener's signature, and the names to call it with."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Collection
from dataclasses import dataclass
from types import FunctionType, MethodType

from ._errors import describe_listener, log_safely

__all__ = [
    "SignatureCheck",
    "SignatureProblem",
    "check_listener_signature",
    "examine_listener_signature",
]

#: How many undeclared-keyword warnings are remembered (to warn once each) before forgetting.
_WARNINGS_KEPT = 1024
#: The warnings given so far, by hook, names and the code behind the listener (its function
#: or class): a listener registered for every user (a new bound method, partial or object
#: each time) warns once.
_warned: dict[tuple[str, tuple[str, ...], object], None] = {}

_KEYWORD_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _quoted(names: Collection[str]) -> str:
    return ", ".join(repr(name) for name in sorted(names))


@dataclass(frozen=True, slots=True)
class SignatureProblem:
    """One reason a listener would fail on every fire of a hook, and what to do about it."""

    #: What is wrong, e.g. "it requires positional-only parameter(s) 'user', but hooks pass
    #: keyword arguments only".
    problem: str
    #: What to change in the listener, e.g. "make them ordinary parameters".
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
    #: Names it requires that the hook does not declare: accepted, as Locust accepts them, for
    #: a custom client may pass them on every fire; a fire without one is a listener error.
    requires_undeclared: tuple[str, ...] = ()

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

    def undeclared_text(self) -> str:
        """What the listener requires beyond the hook's declaration and what that means, for
        the registration's warning and the doctor's listing."""
        names = _quoted(self.requires_undeclared)
        close = [
            f"{name!r} for {match[0]!r}"
            for name in self.requires_undeclared
            if (match := difflib.get_close_matches(name, self.passes, n=1))
        ]
        typo = f" (a misspelling? {', '.join(close)})" if close else ""
        return (
            f"it requires {names}, which {self.hook_name!r} does not declare{typo}: the fires "
            "must pass it (as a custom client's own fires can); a fire without it fails this "
            f"listener, one listener error as on Locust. The hook declares: {self.passes_text}"
        )

    def undeclared_fix(self) -> str:
        """How to make the listener take the fires that do not pass what it requires."""
        return "give it a default value, or take **kwargs and read it with kwargs.get()"


def check_listener_signature(
    hook_name: str, passes: frozenset[str], listener: object
) -> frozenset[str] | None:
    """Raise ``TypeError`` when ``listener`` would fail on every fire of the hook; else say
    which keyword arguments to call it with.

    A hook passes the keyword arguments ``passes``. A listener fails every fire when it
    requires a positional-only parameter. Any other listener is accepted, as Locust accepts
    it: one without ``**kwargs`` that lacks a parameter for some of what the hook passes is
    called with only the names it takes. One that requires a name the hook does not declare
    (a custom client's ``grpc_status``) is accepted with a warning, logged once: the fires
    must pass it, and a fire without it is one listener error, as on Locust.

    :returns: ``None`` to call the listener with everything a fire passes (it has
        ``**kwargs``, takes every name of ``passes``, or its signature cannot be read, as for
        some builtins and C callables); else the names it takes, to which each fire's keyword
        arguments are narrowed.
    """
    check = examine_listener_signature(hook_name, passes, listener)
    if check.problems:
        raise TypeError(check.message())
    if check.requires_undeclared:
        _warn_once(check)
    return check.takes


def _code_behind(listener: object) -> object:
    """The function (or, for a callable object, the class) a listener runs, through bound
    methods and partials: what stays the same when it is registered anew for each user."""
    for _ in range(10):
        if isinstance(listener, functools.partial):
            listener = listener.func
        elif isinstance(listener, MethodType):
            listener = listener.__func__
        else:
            break
    return listener if isinstance(listener, FunctionType) else type(listener)


def _warn_once(check: SignatureCheck) -> None:
    """Log, once per hook, names and listener code, that the fires must pass what it
    requires."""
    key = (check.hook_name, check.requires_undeclared, _code_behind(check.listener))
    try:
        if key in _warned:
            return
        if len(_warned) >= _WARNINGS_KEPT:
            _warned.clear()
        _warned[key] = None
    except TypeError:  # a class whose hash raises: warn each time rather than never
        pass
    log_safely(
        "warning",
        "Listener %s added to hook %r: %s. For fires without it: %s.",
        describe_listener(check.listener),
        check.hook_name,
        check.undeclared_text(),
        check.undeclared_fix(),
    )


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
    required_undeclared: list[str] = []
    positional_only: list[str] = []
    for parameter in signature.parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            takes_any_keyword = True
        elif parameter.kind in _KEYWORD_KINDS:
            accepted.add(parameter.name)
            if parameter.default is inspect.Parameter.empty and parameter.name not in passes:
                required_undeclared.append(parameter.name)
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
    takes = None if takes_any_keyword or passes <= accepted else frozenset(accepted)
    return SignatureCheck(
        hook_name,
        passes,
        listener,
        signature,
        tuple(problems),
        takes,
        tuple(sorted(required_undeclared)),
    )
