"""The demo and the local target, as a user runs them: ``python -m locust_events ...``."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from locust_events import COMPILED

from .locust_support import GRACE, child_environment, get_json, needs_locust, running_target


def post_json(url: str, payload: object) -> int:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


def test_target_serves_the_examples_paths_and_counts_webhooks() -> None:
    with running_target(fail_every=2) as url:
        assert url.startswith("http://127.0.0.1:")
        for path in ("/", "/page", "/api/environment"):
            with urllib.request.urlopen(url + path, timeout=10) as response:
                assert response.status == 200
        assert get_json(f"{url}/api/data") == {"items": list(range(32))}
        with pytest.raises(urllib.error.HTTPError, match="503"):
            get_json(f"{url}/api/data")  # every second /api/data fails
        assert post_json(f"{url}/webhook", {"event": "error"}) == 204
        assert post_json(f"{url}/webhook", {"event": "error"}) == 204
        assert post_json(f"{url}/webhook", {"other": 1}) == 204
        assert get_json(f"{url}/webhook/count") == {
            "received": 3,
            "by_event": {"error": 2, "": 1},
        }
        assert get_json(f"{url}/served") == {
            "/": 1,
            "/page": 1,
            "/api/environment": 1,
            "/api/data": 2,
        }


def summary_lines(output: str) -> dict[str, str]:
    """The demo's closing lines, "  <label, 16 wide> <text>", by label; a text that goes on
    over the next lines (indented, no label) is joined back into one."""
    closing = output[output.index("\n  requests ") + 1 :]
    lines: dict[str, str] = {}
    label = ""
    for line in closing.splitlines():
        if line[2:18].strip():
            label = line[2:18].strip()
            lines[label] = line[19:]
        else:
            lines[label] += " " + line[19:]
    return lines


@needs_locust
def test_demo_runs_real_locust_with_its_flags_and_reports_what_the_listeners_saw() -> None:
    # Ends by count: once all 30 users started and Locust counted 60 requests. The run time
    # is only a guard, so what is asserted does not depend on how busy the machine is.
    run_time, requests = 60, 60
    command = [sys.executable, "-m", "locust_events", "demo", "-u", "30", "-r", "30"]
    command += ["-t", f"{run_time}s", "--stop-after-requests", str(requests)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=run_time + GRACE,
        check=False,
        env=child_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.startswith(
        "locust-events demo: real Locust, headless, 30 users (spawn rate 30/s) for 60 s "
        "or until 60 requests"
    )
    # Progress, as plain lines (the output is no terminal), the last one when Locust is done.
    progress = [line for line in out.splitlines() if re.match(r"\s+\d+\.\d s  ", line)]
    assert progress
    assert re.search(
        r"users 30/30  requests \d+ \(\d+ failed\)  queued listener calls \d+  \(done\)$",
        progress[-1],
    )
    # Locust's own summary tables, without its log records.
    assert "Locust's own summary:" in out
    assert re.search(r"^Type\s+Name\s+# reqs\s+# fails", out, re.M)
    assert "Response time percentiles (approximated)" in out
    assert re.search(r"^\s+Aggregated\s+\d+", out, re.M)
    assert not re.search(r"^\[\d{4}-", out, re.M)
    lines = summary_lines(out)
    assert set(lines) >= {"requests", "custom metrics", "response times", "webhook calls"}
    assert set(lines) >= {"listener pool", "listener errors", "dispatcher cost", "exit code"}
    seen, counted = (int(word) for word in lines["requests"].split() if word.isdigit())
    assert seen == counted >= requests
    assert re.fullmatch(r"<100ms: \d+, 100-500ms: \d+, >=500ms: \d+", lines["response times"])
    posted = int(lines["webhook calls"].split()[0])
    received = int(lines["webhook calls"].split("), ")[1].split()[0])
    assert posted == received >= 2  # test_start and test_complete at least
    errors = int(re.search(r"errors (\d+)", lines["custom metrics"]).group(1))  # type: ignore[union-attr]
    assert posted == errors + 2  # a webhook per failed request, not one queued per request
    assert lines["listener errors"] == "0"
    cost = re.match(
        r"(\d+) ns per request event on locust_events, (\d+) ns on Locust's own EventHook "
        r"\((\d+\.\d\d)x; medians.*each of the run's (\d+) request events",
        lines["dispatcher cost"],
    )
    assert cost is not None, lines["dispatcher cost"]
    assert int(cost.group(4)) == seen  # every request event of the run was timed
    assert lines["exit code"].startswith("0: ")
    assert "--exit-code-on-error 0" in lines["exit code"]
    assert max(len(line) for line in out.splitlines()) <= 100
    saves = re.match(
        r"the same listener, waiting 20 ms on I/O per request: (\d+\.\d) requests/s per user "
        r"when it runs in the user, (\d+\.\d) when spawned \((\d+\.\d)x\), 2 users each",
        lines["spawning saves"],
    )
    assert saves is not None, lines["spawning saves"]
    in_user, spawned = float(saves.group(1)), float(saves.group(2))
    assert 0 < in_user <= 1000 / 20  # a user waits 20 ms per request for the listener
    assert spawned > 0
    share = re.match(
        r"\d+ ns per request event is \d+\.\d\d% of the \d+ µs of CPU the Locust process "
        r"spent per request \((\d+) requests",
        lines["dispatcher share"],
    )
    assert share is not None, lines["dispatcher share"]
    assert int(share.group(1)) > 0
    # The Locust child ran the loop this process runs (the same build, the same variable).
    assert lines["calling loop"].startswith("compiled, " if COMPILED else "pure Python (")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30), ("30s", 30), ("1m", 60), ("2m10s", 130), ("1h30m", 5400), ("1H", 3600)],
)
def test_demo_reads_run_times_as_locust_writes_them(text: str, seconds: int) -> None:
    from locust_events.tools.demo import parse_timespan

    assert parse_timespan(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "10x", "m", "1.5m"])
def test_demo_refuses_a_run_time_locust_would_not_read(text: str) -> None:
    import argparse

    from locust_events.tools.demo import parse_timespan

    with pytest.raises(argparse.ArgumentTypeError, match="30s, 1m, 1h30m"):
        parse_timespan(text)


def test_demo_without_locust_says_how_to_install_it() -> None:
    # -c makes importing Locust fail, as where it is not installed.
    script = (
        "import sys; sys.modules['locust'] = None; from locust_events.tools.cli import main; "
        "sys.exit(main(['demo']))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    # What the locust extra needs, with this interpreter: it works while the package is not
    # on an index, where "pip install 'locust-events[locust]'" finds nothing.
    assert f"{sys.executable} -m pip install 'locust>=" in result.stdout


def test_locusts_summary_is_taken_out_of_its_log_without_the_log_records() -> None:
    from locust_events.tools.demo import locust_summary_tables

    log = "\n".join(
        [
            "[2026-01-01 10:00:00,000] host/INFO/locust.main: Run time limit set to 3 seconds",
            "Type     Name   # reqs      # fails |    Avg",
            "GET      /          10     0(0.00%) |      3",
            "[2026-01-01 10:00:03,000] host/INFO/locust.main: Shutting down (exit code 0)",
            "Type     Name   # reqs      # fails |    Avg",
            "GET      /          12     0(0.00%) |      3",
            "",
            "Response time percentiles (approximated)",
            "Type     Name   50%  # reqs",
            "[2026-01-01 10:00:03,100] host/INFO/locust_events: drained",
            "Error report",
        ]
    )
    assert locust_summary_tables(log).splitlines() == [
        "Type     Name   # reqs      # fails |    Avg",
        "GET      /          12     0(0.00%) |      3",
        "",
        "Response time percentiles (approximated)",
        "Type     Name   50%  # reqs",
        "Error report",
    ]
    assert locust_summary_tables("[2026-01-01 10:00:00,000] nothing") == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_demo_progress_refreshes_one_line_on_a_terminal_and_prints_lines_elsewhere() -> None:
    from locust_events.tools.demo import _Progress

    progress = {"users": 5, "requests": 12, "failures": 1, "queued": 3}
    terminal = Terminal()
    shown = _Progress(terminal, users=10)
    for elapsed in (0.25, 0.5, 6.0):
        shown.show(elapsed, progress)
    shown.finish(7.0, progress)
    assert terminal.getvalue().count("\r\033[K") == 4
    assert terminal.getvalue().count("\n") == 1  # the finished line only
    assert "users 5/10  requests 12 (1 failed)  queued listener calls 3  (done)" in (
        terminal.getvalue()
    )

    log = io.StringIO()
    shown = _Progress(log, users=10)
    for elapsed in (0.25, 0.5, 4.0, 5.5, 6.0):
        shown.show(elapsed, progress)
    shown.finish(7.0, progress)
    assert "\r" not in log.getvalue()
    lines = log.getvalue().splitlines()
    assert [line.split(" s ")[0].strip() for line in lines] == ["0.2", "5.5", "7.0"]
