"""The doctor's report as a person reads it on a terminal, or as one JSON document."""

from __future__ import annotations

import json
from typing import Final

from ..._text import shorten_middle
from .report import LOCUSTS, OURS, Listener, Problem, Report

__all__ = ["render_json", "render_text"]

#: The widest LISTENER and WHERE cells of the table; longer ones are shortened in the middle.
_NAME_WIDTH: Final = 48
_WHERE_WIDTH: Final = 40


def _state(listener: Listener) -> str:
    if listener.signature == "invalid":
        return "INVALID signature"
    timing = listener.timing
    if timing is None and listener.signature == "needs undeclared":
        needs = ", ".join(repr(name) for name in listener.requires_undeclared)
        return f"needs {needs} from each fire (see notes); not timed"
    if timing is None:
        return "ok" if listener.signature == "ok" else "not checked"
    if timing.verdict == "ok":
        return (
            f"ok, {timing.median_us:.1f} us once"
            if timing.once
            else (f"ok, {timing.median_us:.1f} us/call")
        )
    if timing.once and timing.verdict == "network":
        return "ok, runs once (reached for the network: blocked)"
    if timing.once and timing.verdict == "blocks":
        return "ok, runs once (waits for I/O)"
    if timing.verdict == "over budget":
        return f"OVER BUDGET, {timing.median_us:.1f} us/call"
    return timing.verdict.upper()


def render_text(report: Report) -> str:
    """The report as a person reads it on a terminal: a table, then the problems and fixes."""
    if report.shared:
        registries = f"{LOCUSTS} has the same hooks as {OURS} (the Locust integration is on)"
    else:
        registries = (
            f"{LOCUSTS} has Locust's own hooks (the integration is off): both registries listed"
        )
    lines = [
        f"locust_events doctor: {report.locustfile}",
        f"Locust {report.locust_version}; {registries}",
        f"Fired as Locust does at start-up: {', '.join(report.fired_hooks)} (an Environment "
        "with a local runner, host http://127.0.0.1); each listener called once",
        f"Timed: synchronous listeners of {', '.join(report.timed_hooks)}; "
        f"budget {report.budget_us:g} us per call (run-once hooks: called once, no budget); "
        f"time limit {report.time_limit:g} s",
        "",
    ]
    rows = [("HOOK", "REGISTRY", "LISTENER", "WHERE", "RUNS", "CHECK")]
    for listener in report.listeners:
        runs = "sync" if listener.pool is None else f"spawned, pool {listener.pool!r}"
        if listener.batch_max_size is not None:
            runs = (
                f"batches of up to {listener.batch_max_size} events or "
                f"{listener.batch_max_wait:g} s, pool {listener.pool!r}"
            )
        if listener.timeout is not None:
            runs += f", timeout {listener.timeout:g} s"
        state = _state(listener)
        name = shorten_middle(listener.name, _NAME_WIDTH)
        where = shorten_middle(listener.where, _WHERE_WIDTH)
        rows.append((listener.hook, listener.registry, name, where, runs, state))
    if len(rows) == 1:
        lines.append("No listener is registered on any hook.")
    else:
        widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            lines.append("  ".join([*cells, row[-1]]).rstrip())
    empty = sum(1 for hook in report.hooks if not hook.listeners)
    if empty and len(rows) > 1:
        lines.append(f"({empty} hook(s) without listeners not shown)")
    if report.problems:
        lines += ["", "Problems:", *_numbered(report.problems, "fix")]
    if report.notes:
        lines += [
            "",
            "Notes (accepted, as on Locust; the exit status ignores them):",
            *_numbered(report.notes, "for fires without it"),
        ]
    lines += ["", f"Verdict: {report.summary()} (exit status {report.exit_status})"]
    return "\n".join(lines)


def _numbered(found: list[Problem], fix_label: str) -> list[str]:
    """Each problem (or note) numbered: what, whose and where, then why and the fix."""
    lines = []
    for number, problem in enumerate(found, 1):
        listener = problem.listener
        lines.append(
            f"{number}. {problem.kind}: {listener.name} on {listener.registry}.{listener.hook}"
            f" ({listener.where})"
        )
        lines.append(f"   {problem.message}")
        lines.append(f"   {fix_label}: {problem.fix}")
    return lines


def render_json(report: Report) -> str:
    """The report as one JSON document: hooks, listeners, problems, timings, verdict."""
    document = {
        "locustfile": report.locustfile,
        "locust_version": report.locust_version,
        "locust_hooks_shared": report.shared,
        "budget_us": report.budget_us,
        "time_limit_s": report.time_limit,
        "timed_hooks": report.timed_hooks,
        "fired_hooks": report.fired_hooks,
        "hooks": [
            {
                "name": hook.name,
                "registry": hook.registry,
                "passes": None if hook.passes is None else list(hook.passes),
                "listeners": len(hook.listeners),
                "timed": hook.name in report.timed_hooks,
            }
            for hook in report.hooks
        ],
        "listeners": [listener.as_json() for listener in report.listeners],
        "problems": [problem.as_json() for problem in report.problems],
        "notes": [note.as_json() for note in report.notes],
        "timings": [
            {
                "hook": listener.hook,
                "registry": listener.registry,
                "listener": listener.name,
                **vars(listener.timing),
            }
            for listener in report.listeners
            if listener.timing is not None
        ],
        "verdict": {
            "exit_status": report.exit_status,
            "clean": not report.problems,
            "summary": report.summary(),
        },
    }
    return json.dumps(document, indent=2)
