"""Listing every hook's listeners, in both registries, and checking each signature."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from ..._events import Events
from ..._hooks import EventHook
from ..._pool import ListenerPool
from ..._signature import SignatureCheck, examine_listener_signature
from ..._unswitched import FIX, warn_if_unswitched
from .report import LOCUSTS, OURS, Hook, Listener, Problem, Report

__all__ = [
    "check_signatures",
    "collect_hooks",
    "registrations_of",
    "report_never_called",
    "signature_problem",
]


def collect_hooks(
    ours: Events, locusts: object, leave_out: Collection[tuple[str, int]] = ()
) -> list[Hook]:
    """Every hook of ``ours`` and, unless they are the same objects, of Locust's ``locusts``.

    Hooks come in our registry's order, a hook of Locust's right after ours of the same name.
    ``leave_out``: listeners not to list, by (hook name, ``id``): those Locust's own runner
    registered while the doctor replayed the start-up. The start-up warning's own listener
    is never listed.
    """

    def listed(name: str, listener: object) -> bool:
        return listener is not warn_if_unswitched and (name, id(listener)) not in leave_out

    hooks = [_our_hook(ours, name, hook, OURS, listed) for name, hook in ours.hooks.items()]
    our_hooks = {id(hook) for hook in ours.hooks.values()}
    for name, hook in vars(locusts).items():
        if id(hook) in our_hooks:
            continue
        if isinstance(hook, EventHook):
            hooks.append(_our_hook(ours, name, hook, LOCUSTS, listed))
        elif isinstance(handlers := getattr(hook, "_handlers", None), list):
            # Locust's hooks declare nothing: check and time them as our hook of that name.
            ours_of_that_name = ours.hooks.get(name)
            passes = None if ours_of_that_name is None else _passes(ours, ours_of_that_name)
            listeners = [
                Listener(name, LOCUSTS, handler) for handler in handlers if listed(name, handler)
            ]
            hooks.append(Hook(name, LOCUSTS, passes, listeners))
    order = {name: index for index, name in enumerate(dict.fromkeys(h.name for h in hooks))}
    return sorted(hooks, key=lambda hook: order[hook.name])


def registrations_of(hook: EventHook[Any]) -> list[tuple[Callable[..., Any], ListenerPool | None]]:
    """Each listener registered on ``hook``, in order, with the pool it is spawned into
    (``None`` when it runs synchronously, in the greenlet that fires)."""
    return [(registration.listener, registration.pool) for registration in hook.registrations]


def _our_hook(
    ours: Events,
    name: str,
    hook: EventHook[Any],
    registry: str,
    listed: Callable[[str, object], bool],
) -> Hook:
    listeners = []
    for registration in hook.registrations:
        if not listed(name, registration.listener):
            continue
        listener = Listener(name, registry, registration.listener)
        if registration.pool is not None:
            listener.runs, listener.pool = "spawned", registration.pool.name
            listener.timeout = registration.timeout
        if registration.batch is not None:
            listener.runs = "batched"
            listener.batch_max_size = registration.batch.max_size
            listener.batch_max_wait = registration.batch.max_wait
        listeners.append(listener)
    return Hook(name, registry, _passes(ours, hook), listeners)


def _passes(ours: Events, hook: EventHook[Any]) -> tuple[str, ...] | None:
    """What ``hook`` passes, in the order its declaration gives (else alphabetical)."""
    if hook.passes is None:
        return None
    declaration = type(ours).hook_declarations.get(hook.name)
    if declaration is not None and frozenset(declaration.passes or ()) == hook.passes:
        return declaration.passes
    return tuple(sorted(hook.passes))


def check_signatures(report: Report) -> None:
    """Check every listener against what its hook passes, as ``add_listener`` does."""
    for hook in report.hooks:
        if hook.passes is None:
            continue
        for listener in hook.listeners:
            if listener.runs == "batched":
                continue  # it takes one batch, not the hook's keyword arguments
            check = examine_listener_signature(hook.name, frozenset(hook.passes), listener.func)
            if check.problems:
                listener.signature = "invalid"
                report.problems.append(signature_problem(listener, check))
                continue
            listener.takes = check.takes
            if check.requires_undeclared:
                # Accepted, as add_listener accepts it: its own client's fires may pass them.
                listener.signature = "needs undeclared"
                listener.requires_undeclared = check.requires_undeclared
                report.notes.append(
                    Problem(
                        "undeclared keyword",
                        listener,
                        f"{check.undeclared_text()}.",
                        check.undeclared_fix(),
                    )
                )
            else:
                listener.signature = "ok"


def signature_problem(listener: Listener, check: SignatureCheck) -> Problem:
    """The doctor's problem for a listener the signature check rejects: every reason, with
    what the hook passes, and every fix."""
    what = "; ".join(found.problem for found in check.problems)
    fix = "; ".join(found.fix for found in check.problems)
    return Problem(
        "invalid signature", listener, f"{what}. The hook passes: {check.passes_text}.", fix
    )


def report_never_called(report: Report) -> None:
    """While Locust's hooks are its own, Locust never calls a listener of ours: each is a
    problem, with the one line that fixes it (as the run's start-up warning says)."""
    if report.shared:
        return
    for listener in report.listeners:
        if listener.registry == OURS:
            report.problems.append(
                Problem(
                    "never called",
                    listener,
                    "Locust never calls it: the locustfile does not import locust_events.locust, "
                    f"so Locust fires its own {LOCUSTS}, not {OURS}",
                    f"add '{FIX}' at the top of the locustfile, above the code that registers "
                    "listeners",
                )
            )
