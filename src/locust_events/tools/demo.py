"""``locust-events demo``: a real headless Locust run against the local target, explained.

Runs Locust in a child process with the examples' listeners, shows its progress, then
Locust's own summary and what the listeners saw: what spawning a slow listener saves the
users, the dispatcher's share of the CPU a request costs, and which calling loop ran. Every
line fits :data:`WIDTH` columns.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

__all__ = ["add_parser", "parse_timespan", "run", "run_demo"]

#: The target fails one ``/api/data`` request in this many, so the listeners see failures.
FAIL_EVERY = 40
#: The widest line the demo prints.
WIDTH = 100
#: What the demo says of the calling loop the Locust process ran, by what it reported.
_LOOPS = {
    "compiled": "compiled, the C extension (LOCUST_EVENTS_PURE=1 runs the pure-Python loop)",
    "pure Python": "pure Python (LOCUST_EVENTS_PURE=1 was set, or no compiled build is installed)",
}
#: Where the text of a summary line starts: after two spaces and its 16-column label.
_TEXT_COLUMN = 19
#: A timestamped record of Locust's log, as opposed to the plain summary lines among them.
_LOG_RECORD = re.compile(r"^\[\d{4}-\d\d-\d\d ")
_TIMESPAN = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")


def parse_timespan(text: str) -> int:
    """Seconds in a run time as Locust writes it: ``30``, ``30s``, ``1m``, ``1h30m``, ``2m10s``."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    match = _TIMESPAN.fullmatch(text)
    if not text or match is None:
        raise argparse.ArgumentTypeError(
            f"invalid run time {text!r}: write it as Locust does, e.g. 30s, 1m, 1h30m or 90"
        )
    return int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)


def add_parser(subparsers: SubParsers) -> None:
    """Add the ``demo`` command to the command line."""
    parser = subparsers.add_parser(
        "demo",
        help="run a real headless Locust test against a local target and show what the "
        "listeners saw (needs the locust extra)",
        description="Runs real Locust, headless, against a local target on 127.0.0.1, with "
        "listeners on this dispatcher; the flags are Locust's own.",
    )
    parser.add_argument(
        "-u", "--users", type=int, default=300, help="peak number of users (default 300)"
    )
    parser.add_argument(
        "-r", "--spawn-rate", type=float, default=100, help="users started per second (100)"
    )
    parser.add_argument(
        "-t",
        "--run-time",
        type=parse_timespan,
        default=15,
        metavar="TIME",
        help="how long the users run, e.g. 30s, 1m (default 15s)",
    )
    parser.add_argument(
        "--stop-after-requests",
        type=int,
        default=0,
        metavar="N",
        help="end the run early, once every user started and Locust counted N requests "
        "(the run time still bounds it); a quick check whose outcome does not depend on "
        "how busy the machine is",
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo with the users, spawn rate, run time and request count ``args`` give."""
    return run_demo(
        users=args.users,
        spawn_rate=args.spawn_rate,
        run_time=args.run_time,
        stop_after_requests=args.stop_after_requests,
    )


def run_demo(
    users: int = 300, spawn_rate: float = 100, run_time: int = 15, stop_after_requests: int = 0
) -> int:
    """Run the demo and print its summary; returns 0 when the run went as it should.

    ``stop_after_requests`` (when above 0) ends the run once every user started and Locust
    counted that many requests, ``run_time`` then only bounding it.
    """
    if importlib.util.find_spec("locust") is None:
        print("The demo runs real Locust, which is not installed here. Install it with")
        from .._install import extra_install_command

        print(f"    {extra_install_command('locust')}")
        return 1
    import gevent

    from .target import Target

    target = Target(fail_every=FAIL_EVERY).start()
    locustfile = Path(__file__).with_name("demo_locustfile.py")
    with tempfile.TemporaryDirectory(prefix="locust-events-demo-") as workdir:
        report_path = Path(workdir) / "report.json"
        progress_path = Path(workdir) / "progress.json"
        summary_path = Path(workdir) / "summary.txt"
        log_path = Path(workdir) / "locust.log"
        command = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(locustfile),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{run_time}s",
            "--host",
            target.url,
            "--only-summary",
            "--exit-code-on-error",
            "0",
            "--stop-timeout",
            "5",
        ]
        environment = {
            **os.environ,
            "LOCUST_EVENTS_DEMO_REPORT": str(report_path),
            "LOCUST_EVENTS_DEMO_PROGRESS": str(progress_path),
            "LOCUST_EVENTS_DEMO_STOP_AFTER_REQUESTS": str(stop_after_requests),
        }
        until = f" or until {stop_after_requests} requests" if stop_after_requests > 0 else ""
        print(
            textwrap.fill(
                f"locust-events demo: real Locust, headless, {users} users (spawn rate "
                f"{spawn_rate:g}/s) for {run_time} s{until} against the local target "
                f"{target.url}",
                width=WIDTH,
                break_on_hyphens=False,
            )
        )
        progress = _Progress(sys.stdout, users)
        started = time.monotonic()
        deadline = started + run_time + 60
        with open(log_path, "w") as log, open(summary_path, "w") as summary:
            # A fixed argument list: our own interpreter running Locust on our own locustfile.
            process = subprocess.Popen(  # noqa: S603
                command, cwd=workdir, env=environment, stdout=summary, stderr=log
            )
            while process.poll() is None:
                if time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    break
                gevent.sleep(0.25)  # the target serves meanwhile
                progress.show(time.monotonic() - started, _read_json(progress_path))
        progress.finish(time.monotonic() - started, _read_json(progress_path))
        target.stop()
        if not report_path.exists():
            print(f"Locust exited with {process.returncode} and wrote no report; its log:")
            print(log_path.read_text())
            return 1
        report = json.loads(report_path.read_text())
        locust_summary = locust_summary_tables(log_path.read_text())
        printed = summary_path.read_text().strip()  # what listeners printed, if anything
    print()
    print("Locust's own summary:")
    print(fit_lines(locust_summary or "(Locust printed no summary; its log was empty)"))
    if printed:
        print(f"\nThe listeners printed:\n{printed}")
    print()
    _print_summary(report, target, elapsed=time.monotonic() - started, exit_code=process.returncode)
    complete = report["api_calls"] == report["locust_requests"]
    return 0 if complete and process.returncode == 0 else 1


def locust_summary_tables(log: str) -> str:
    """Locust's final summary (requests, percentiles, errors) out of its log, log lines left out.

    Locust prints it with a plain format on stderr, among its timestamped log records; the
    final one is the last table that starts with a ``Type  Name  # reqs`` header.
    """
    lines = log.splitlines()
    headers = [index for index, line in enumerate(lines) if re.match(r"Type\s+Name\s+# reqs", line)]
    if not headers:
        return ""
    # The summary has two such tables (requests, then response time percentiles): the first
    # of them after the last timestamped record that precedes the summary.
    start = headers[-1]
    while start > 0 and not _LOG_RECORD.match(lines[start - 1]):
        start -= 1
    shown = [line for line in lines[start:] if not _LOG_RECORD.match(line)]
    return "\n".join(shown).strip("\n")


def fit_lines(text: str, width: int = WIDTH) -> str:
    """``text`` with each line cut to ``width`` columns (an ellipsis marks a cut one)."""
    return "\n".join(
        line if len(line) <= width else line[: width - 1] + "…" for line in text.splitlines()
    )


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data


class _Progress:
    """Shows the run's progress: one refreshed line on a terminal, a plain line every 5 s else."""

    def __init__(self, stream: IO[str], users: int) -> None:
        self._stream = stream
        self._users = users
        self._on_terminal = stream.isatty()
        self._next_line_at = 0.0

    def _line(self, elapsed: float, progress: dict[str, Any] | None) -> str:
        if progress is None:
            return f"  {elapsed:5.1f} s  starting Locust..."
        return (
            f"  {elapsed:5.1f} s  users {progress['users']}/{self._users}  "
            f"requests {progress['requests']} ({progress['failures']} failed)  "
            f"queued listener calls {progress['queued']}"
        )

    def show(self, elapsed: float, progress: dict[str, Any] | None) -> None:
        if self._on_terminal:
            self._stream.write("\r\033[K" + self._line(elapsed, progress))
            self._stream.flush()
        elif elapsed >= self._next_line_at and progress is not None:
            self._stream.write(self._line(elapsed, progress) + "\n")
            self._stream.flush()
            self._next_line_at = elapsed + 5.0

    def finish(self, elapsed: float, progress: dict[str, Any] | None) -> None:
        end = "\r\033[K" if self._on_terminal else ""
        self._stream.write(end + self._line(elapsed, progress) + "  (done)\n")
        self._stream.flush()


def _print_summary(report: dict[str, Any], target: Any, *, elapsed: float, exit_code: int) -> None:
    requests = report["api_calls"]
    error_rate = report["error_count"] / max(requests, 1) * 100
    buckets = ", ".join(f"{label}: {count}" for label, count in report["buckets"])
    received = target.webhook_count
    by_event = ", ".join(f"{name} {count}" for name, count in sorted(target.webhooks.items()))
    ours, theirs = report["dispatch_ns"], report["locust_dispatch_ns"]
    ours_mean, theirs_mean = report["dispatch_mean_ns"], report["locust_dispatch_mean_ns"]
    ratio = f"{ours / theirs:.2f}x" if theirs > 0 else "n/a"
    listeners = report["request_listeners"]
    users, slow_ms = report["compared_users"], report["slow_listener_ms"]
    seconds = max(report["compared_seconds"], 1e-9) * users
    in_user, spawned = report["sync_requests"] / seconds, report["spawned_requests"] / seconds
    saved = f"{spawned / in_user:.1f}x" if in_user > 0 else "n/a"
    cpu_per_request = report["run_cpu_seconds"] / max(report["run_requests"], 1)
    share = ours_mean * 1e-9 / cpu_per_request if cpu_per_request > 0 else 0.0
    lines = [
        ("requests", f"{requests} seen by the listeners, {report['locust_requests']} counted "
         f"by Locust ({requests / max(elapsed, 1e-9):.0f} per second over the whole run)"),
        ("custom metrics", f"api_calls {requests}, errors {report['error_count']} "
         f"({error_rate:.2f}%), average {report['average_response_time']:.2f} ms, "
         f"max {report['max_response_time']:.1f} ms"),
        ("response times", buckets or "none"),
        ("webhook calls", f"{report['webhooks_posted']} posted by the spawned listener "
         f"({report['webhooks_failed']} failed), {received} received by the target ({by_event}); "
         "only failed requests are queued for a webhook"),
        ("listener pool", f"{report['pool_submitted']} calls queued, "
         f"{report['pool_completed']} completed, at most {report['pool_high_water']} waiting"),
        ("listener errors", str(report["listener_errors"])),
        ("dispatcher cost", f"{ours:.0f} ns per request event on locust_events, {theirs:.0f} ns "
         f"on Locust's own EventHook ({ratio}; medians, means {ours_mean:.0f} and "
         f"{theirs_mean:.0f} ns): each of the run's {report['timed_fires']} request events "
         f"dispatched again to {listeners} no-op listeners on both, in the user that fired it"),
        ("spawning saves", f"the same listener, waiting {slow_ms:g} ms on I/O per request: "
         f"{in_user:.1f} requests/s per user when it runs in the user, {spawned:.1f} when "
         f"spawned ({saved}), {users} users each, one run; a user that waits for it never "
         f"exceeds {1000 / slow_ms:.0f}/s ({report['spawned_dropped']} spawned calls dropped)"),
        ("dispatcher share", f"{ours_mean:.0f} ns per request event is {share:.2%} of the "
         f"{cpu_per_request * 1e6:.0f} µs of CPU the Locust process spent per request "
         f"({report['run_requests']} requests, {report['run_cpu_seconds']:.2f} s of CPU)"),
        ("calling loop", _LOOPS.get(report["calling_loop"], report["calling_loop"])),
        ("exit code", f"{exit_code}: Locust's exit code. The target fails one /api/data "
         f"request in {FAIL_EVERY} on purpose, so the demo runs Locust with "
         "--exit-code-on-error 0 (failed requests alone would make it 1); "
         "a listener error would make it 2"),
    ]  # fmt: skip
    for label, text in lines:
        print(
            textwrap.fill(
                text,
                width=WIDTH,
                initial_indent=f"  {label:<16} ",
                subsequent_indent=" " * _TEXT_COLUMN,
                break_on_hyphens=False,
            )
        )
