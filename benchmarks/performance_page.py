"""Writes the docs' performance page from one benchmark run, so no figure is typed by hand.

``tox -e bench`` runs ``pytest benchmarks --benchmark-only --performance-page
docs/performance.md``: at the end of the run :func:`write_page` renders every group as ratios
against its baseline timed in the same run, with the spread of the rounds, the project's
targets, and the machine, the Python and the date it ran on. The few figures the README and
the docs' home page quote sit between ``<!-- figure: NAME -->`` and ``<!-- /figure -->``;
:func:`fill_figures` rewrites them from the same run.
"""

from __future__ import annotations

import datetime
import os
import platform
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from locust_events.tools.bench import Timing, Timings, group_baselines, verdicts

from .locust_run import DISPATCHERS

ROOT = Path(__file__).resolve().parent.parent
#: The pages that quote figures of the run, besides the performance page itself.
QUOTING_PAGES = (ROOT / "README.md", ROOT / "docs" / "index.md")
FIGURE = re.compile(r"(<!-- figure: (?P<name>[\w-]+) -->)(?P<value>.*?)(<!-- /figure -->)")


@dataclass(frozen=True)
class Machine:
    """Where and when the run happened, as the page states it."""

    cpu: str
    cpus: int
    system: str
    python: str
    calling_loop: str
    date: str
    #: The load average over 15 minutes, where the system tells it: how busy the machine was.
    load: float | None = None


def this_machine(calling_loop: str) -> Machine:
    """The machine running this process, today (UTC)."""
    return Machine(
        cpu=_cpu_model(),
        cpus=os.cpu_count() or 1,
        system=platform.platform(terse=True),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        calling_loop=calling_loop,
        date=datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        load=os.getloadavg()[2] if hasattr(os, "getloadavg") else None,
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ratio(rows: Mapping[str, Timing], label: str, against: str) -> float | None:
    if label in rows and against in rows:
        return rows[label].median / rows[against].median
    return None


#: The figures other pages quote: name -> (group, row, baseline row).
QUOTED: dict[str, tuple[str, str, str]] = {
    "fire-ratio": ("1 listener", "compiled fire", "direct call of the listener"),
    "locust-fire-ratio": ("1 listener", "Locust's EventHook.fire", "direct call of the listener"),
    "spawn-ratio": ("spawned listener", "fire, spawned no-op listener (enqueue)", "direct call"),
    "profiling-ratio": ("profiling, 1 listener", "fire, profiling on", "fire, profiling off"),
}


#: What a group's figures need said beside them, by group.
GROUP_NOTES: dict[str, str] = {
    "enqueue by queue depth": (
        "The long fill runs on memory new to the process: each new 4 KiB page, which holds "
        "about a dozen queued calls, is a page fault the kernel serves, and that is most of "
        "the growth. "
        "`python benchmarks/callgrind.py --pool` times both fills again with an allocator "
        "that keeps what it freed, so that the long one runs on memory a first fill "
        "faulted in: the growth that is left is the enqueue's own."
    ),
}


def figures(timings: Timings) -> dict[str, str]:
    """Each quoted figure of this run, as the pages print it (``1.08``), where it was timed."""
    found = {}
    for name, (group, label, against) in QUOTED.items():
        ratio = _ratio(timings.get(group, {}), label, against)
        if ratio is not None:
            found[name] = f"{ratio:.2f}"
    return found


def fill_figures(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``<!-- figure: NAME -->`` span holding ``values[NAME]``.

    A figure this run did not time keeps the value it had; a name nobody knows is an error.
    """

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in QUOTED:
            raise ValueError(f"unknown figure {name!r}: known are {', '.join(QUOTED)}")
        value = values.get(name, match.group("value"))
        return f"{match.group(1)}{value}{match.group(4)}"

    return FIGURE.sub(fill, text)


def render(
    timings: Timings,
    baselines: Mapping[str, str],
    machine: Machine,
    locust_run: Mapping[str, Any] | None = None,
) -> str:
    """The performance page, in Markdown; ``locust_run`` is ``test_locust_run.py``'s record."""
    names = group_baselines(baselines)
    lines = [
        "# Performance",
        "",
        "<!-- Written by `tox -e bench` (benchmarks/performance_page.py): edit that, not this. -->",
        "",
        "What dispatching costs, measured with pytest-benchmark: every row is timed in rounds of",
        "calls and shown as the median time per call, the quartiles of its rounds (half the",
        "rounds took between them) and its ratio to its group's baseline, timed in the same",
        "run. Ratios carry from one machine to another far better than times do. Request",
        "events carry Locust's nine keyword arguments; listeners are no-ops, so what is",
        "measured is the dispatching alone.",
        "",
        "| measured on | |",
        "|---|---|",
        f"| date | {machine.date} |",
        f"| machine | {machine.cpu}, {machine.cpus} CPUs, {machine.system} |",
        f"| Python | {machine.python}, {machine.calling_loop} calling loop |",
        "| command | `tox -e bench` |",
    ]
    if machine.load is not None:
        load = f"{machine.load:.2f} on {machine.cpus} CPUs"
        lines.append(f"| load average, 15 minutes, at the end | {load} |")
    lines.append("")
    for group, rows in timings.items():
        baseline = names.get(group)
        base = rows.get(baseline or "")
        lines += [
            f"## {group[:1].upper()}{group[1:]}",
            "",
            f"Baseline: {baseline}." if base else "No baseline was timed in this group.",
            "",
            *([GROUP_NOTES[group], ""] if group in GROUP_NOTES else []),
            "| case | median, ns per call | quartiles, ns | rounds | ratio |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, timing in rows.items():
            ratio = f"{timing.median / base.median:.2f}" if base else "n/a"
            lines.append(
                f"| {label} | {timing.median * 1e9:,.1f} | {timing.q1 * 1e9:,.1f} to "
                f"{timing.q3 * 1e9:,.1f} | {timing.rounds} | {ratio} |"
            )
        lines.append("")
    lines += _locust_run_section(locust_run) if locust_run else []
    lines += [
        "## The project's targets",
        "",
        "Each a ratio of medians from the tables above, at most the limit.",
        "",
        "| group | case | against | ratio | limit | |",
        "|---|---|---|---:|---:|---|",
    ]
    for verdict in verdicts(timings):
        target = verdict.target
        lines.append(
            f"| {target.group} | {target.label} | {target.against} | {verdict.ratio:.2f} "
            f"| {verdict.limit:.2f} | {'met' if verdict.met else 'not met'} |"
        )
    lines += [
        "",
        "## Measuring on your machine",
        "",
        "- `python -m locust_events bench` times `fire` and `measure()` against direct calls",
        "  with nothing but the standard library, with the spread and the targets (`--json`",
        "  for one JSON document; it exits 1 when a target is not met).",
        "- `python benchmarks/callgrind.py` counts instructions under callgrind instead of time:",
        "  repeatable to the instruction, a second opinion on a busy machine.",
        "- `python benchmarks/locust_run.py` runs real Locust against the local target on",
        "  Locust's events and on ours, alternating, and prints requests per second and CPU",
        "  seconds per 10,000 requests side by side.",
        "- `python benchmarks/listeners_tab_cost.py` counts what the Listeners tab costs a whole",
        "  Locust process, per request.",
    ]
    return "\n".join(lines) + "\n"


def _locust_run_section(run: Mapping[str, Any]) -> list[str]:
    """Real Locust on its own events and on ours, alternating (``benchmarks/locust_run.py``)."""
    result = run["result"]
    stock, ours = result["stock"], result["ours"]
    lines = [
        "## A whole Locust run",
        "",
        f"Real Locust (FastHttpUser, {run['users']} users without waits, two request listeners)",
        f"against the local target, {run['rounds']} runs of {run['seconds']} s on each",
        "dispatcher, alternating; medians. The target runs on the same machine, so requests",
        "per second vary from run to run by more than the dispatcher changes them.",
        "",
        "| dispatcher | requests per second | CPU seconds per 10,000 requests |",
        "|---|---:|---:|",
    ]
    for name, label in DISPATCHERS.items():
        row = result[name]
        lines.append(f"| {label} | {row['requests_per_second']:,.0f} | {row['cpu_per_10k']:.3f} |")
    rate = ours["requests_per_second"] / stock["requests_per_second"]
    cpu = ours["cpu_per_10k"] / stock["cpu_per_10k"]
    return [*lines, f"| ratio, ours to Locust's | {rate:.3f} | {cpu:.3f} |", ""]


def write_page(
    page: Path,
    timings: Timings,
    baselines: Mapping[str, str],
    machine: Machine,
    quoting: tuple[Path, ...] = QUOTING_PAGES,
    locust_run: Mapping[str, Any] | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Write the page and refresh the figures the ``quoting`` pages take from this run."""
    page.write_text(render(timings, baselines, machine, locust_run), encoding="utf-8")
    say(f"wrote {page}")
    values = figures(timings)
    for other in quoting:
        text = other.read_text(encoding="utf-8")
        filled = fill_figures(text, values)
        if filled != text:
            other.write_text(filled, encoding="utf-8")
            say(f"updated the figures in {other}")
