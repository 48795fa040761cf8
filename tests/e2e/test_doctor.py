"""``python -m locust_events doctor``, run as a user runs it, on locustfiles the tests write.

Each test's locustfile is a scenario declared just above it; the doctor runs on all of them
at once (one process each, as many at a time as there are CPUs) the first time a test asks.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="the doctor needs Locust (the locust extra)"
)

Completed = subprocess.CompletedProcess[str]

#: name: (locustfile source, arguments after the command, how Python runs the package).
SCENARIOS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}


def scenario(
    name: str,
    source: str,
    *args: str,
    python: tuple[str, ...] = ("-m", "locust_events"),
    locustfile: tuple[str, ...] = ("locustfile.py",),
) -> None:
    """Declare a run of the doctor on the locustfile ``source`` with ``args``; ``locustfile``
    says how the command names it (alone, or after ``-f`` as Locust takes it)."""
    SCENARIOS[name] = (source, (*locustfile, *args), python)


def line_of(source: str, text: str) -> int:
    """The line number, in the locustfile ``source``, of the first line holding ``text``."""
    return next(number for number, line in enumerate(source.splitlines(), 1) if text in line)


def row(output: str, listener: str) -> str:
    """The table row of ``listener``, named as the doctor names it (``locustfile.func``)."""
    return next(line for line in output.splitlines() if f" {listener} " in line)


@pytest.fixture(scope="module")
def listening_socket() -> Iterator[socket.socket]:
    """A server on 127.0.0.1 that a listener will try to reach: nothing may connect to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, listening_socket: socket.socket
) -> dict[str, Completed]:
    """Every scenario's finished run of the doctor, by name."""
    port = str(listening_socket.getsockname()[1])

    def run(name: str) -> Completed:
        source, args, python = SCENARIOS[name]
        directory = tmp_path_factory.mktemp(name)
        (directory / "locustfile.py").write_text(source.replace("LISTENING_PORT", port))
        command = [sys.executable, *python, "doctor"]
        return subprocess.run(
            [*command, *args], cwd=directory, capture_output=True, text=True, timeout=60
        )

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as executor:
        return dict(zip(SCENARIOS, executor.map(run, SCENARIOS), strict=True))


CLEAN = """\
import locust_events.locust  # Locust on locust_events: both names are the same hooks

from locust import HttpUser, events, task

import locust_events
from locust_events import ListenerPool

webhooks = ListenerPool(size=2, name="webhooks")


class Visitor(HttpUser):
    host = "http://127.0.0.1"

    @task
    def index(self):
        self.client.get("/")


@locust_events.events.request.add_listener
def count_request(request_type, name, response_time, response_length, **kwargs):
    pass


def post_to_webhook(**kwargs):
    pass


locust_events.events.request.add_listener(post_to_webhook, spawn=webhooks, timeout=5)


@locust_events.events.test_stop.spawn_listener
def write_report(environment, **kwargs):
    pass


@events.request.add_listener
def on_locust_request(**kwargs):
    pass


@events.request.add_listener
def on_grpc_request(name, response_time, grpc_status):  # its own client passes grpc_status
    pass
"""
scenario("clean", CLEAN, locustfile=("-f", "locustfile.py"))
scenario("clean json", CLEAN, "--json", locustfile=("-f", "locustfile.py"))


def test_a_clean_locustfile_exits_0_listing_each_listener_where_it_is_and_how_it_runs(
    runs: dict[str, Completed],
) -> None:
    clean = runs["clean"]
    assert clean.returncode == 0, clean.stdout + clean.stderr
    count = row(clean.stdout, "locustfile.count_request")
    assert "locust_events.events" in count
    # A decorated function's line is its first decorator's, as in a traceback.
    assert f"locustfile.py:{line_of(CLEAN, 'def count_request') - 1}" in count
    assert " sync " in count
    assert "ok, " in count
    webhook = row(clean.stdout, "locustfile.post_to_webhook")
    assert f"locustfile.py:{line_of(CLEAN, 'def post_to_webhook')}" in webhook
    assert "spawned, pool 'webhooks', timeout 5 s" in webhook
    grpc = row(clean.stdout, "locustfile.on_grpc_request")
    assert "needs 'grpc_status' from each fire (see notes); not timed" in grpc
    assert "Notes (accepted, as on Locust; the exit status ignores them):" in clean.stdout
    assert "1. undeclared keyword: locustfile.on_grpc_request on locust_events.events.request" in (
        clean.stdout
    )
    assert "it requires 'grpc_status', which 'request' does not declare: the fires must" in (
        clean.stdout
    )
    assert "for fires without it: give it a default value" in clean.stdout
    report = row(clean.stdout, "locustfile.write_report")
    assert report.startswith("test_stop ")
    assert "spawned, pool 'Events listener pool'" in report
    assert "timeout" not in report
    locusts = row(clean.stdout, "locustfile.on_locust_request")
    assert "locust_events.events" in locusts  # Locust's name for the same hook
    assert "ok, " in locusts
    assert "Verdict: clean" in clean.stdout


def test_a_listener_requiring_an_undeclared_name_is_a_note_in_the_json_not_a_problem(
    runs: dict[str, Completed],
) -> None:
    completed = runs["clean json"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    document = json.loads(completed.stdout)
    assert document["problems"] == []
    [note] = document["notes"]
    assert (note["kind"], note["listener"], note["hook"]) == (
        "undeclared keyword",
        "locustfile.on_grpc_request",
        "request",
    )
    listeners = {listener["name"]: listener for listener in document["listeners"]}
    grpc = listeners["locustfile.on_grpc_request"]
    assert (grpc["signature"], grpc["requires_undeclared"], grpc["timing"]) == (
        "needs undeclared",
        ["grpc_status"],
        None,
    )


TROUBLED = """\
import socket
import time

import gevent
from locust import events


@events.request.add_listener  # Locust's own hook takes it; every fire fails it
def takes_too_little(request_type, name, /):
    pass


@events.request.add_listener
def busy_wait(**kwargs):
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass


@events.request.add_listener
def sleeps(**kwargs):
    gevent.sleep(0.01)


@events.request.add_listener
def connects(**kwargs):
    try:
        socket.create_connection(("127.0.0.1", LISTENING_PORT), timeout=1)
    except OSError:
        pass  # swallowed: the doctor still reports the attempt


@events.request.add_listener
def raises(**kwargs):
    raise ValueError("no such user")
"""
scenario("troubled", TROUBLED)
scenario("troubled json", TROUBLED, "--json")


def test_an_invalid_listener_on_locusts_own_hook_is_reported_with_its_fix(
    runs: dict[str, Completed],
) -> None:
    troubled = runs["troubled"]
    assert troubled.returncode == 1
    assert "INVALID signature" in row(troubled.stdout, "locustfile.takes_too_little")
    assert "invalid signature: locustfile.takes_too_little on locust.events.request" in (
        troubled.stdout
    )
    assert (
        "it requires positional-only parameter(s) 'name', 'request_type', but hooks pass "
        "keyword arguments only" in troubled.stdout
    )
    assert "fix: make them ordinary parameters" in troubled.stdout


def test_a_listener_over_the_budget_is_flagged_with_the_advice_to_spawn_it(
    runs: dict[str, Completed],
) -> None:
    troubled = runs["troubled"]
    assert "OVER BUDGET" in row(troubled.stdout, "locustfile.busy_wait")
    assert "over the budget of 50 us" in troubled.stdout
    assert "add_listener(func, spawn=True)" in troubled.stdout


SLOW = """\
import time

from locust import events


@events.request.add_listener
def busy_wait(**kwargs):
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
"""
scenario("slow under a large budget", SLOW, "--budget", "100000")


def test_the_same_slow_listener_is_clean_under_a_large_enough_budget(
    runs: dict[str, Completed],
) -> None:
    slow = runs["slow under a large budget"]
    assert slow.returncode == 0, slow.stdout + slow.stderr
    assert "ok, " in row(slow.stdout, "locustfile.busy_wait")
    assert "budget 100000 us per call" in slow.stdout


def test_a_listener_sleeping_through_gevent_is_reported_as_blocking(
    runs: dict[str, Completed],
) -> None:
    troubled = runs["troubled"]
    assert "BLOCKS" in row(troubled.stdout, "locustfile.sleeps")
    assert "it yields to the gevent hub during the call" in troubled.stdout


def test_a_listener_reaching_for_the_network_is_reported_and_connects_nowhere(
    runs: dict[str, Completed], listening_socket: socket.socket
) -> None:
    troubled = runs["troubled"]
    port = listening_socket.getsockname()[1]
    assert "NETWORK" in row(troubled.stdout, "locustfile.connects")
    assert f"tried to connect to 127.0.0.1:{port}; the doctor blocked it" in troubled.stdout
    with pytest.raises(BlockingIOError):
        listening_socket.accept()


def test_a_listener_that_raises_is_reported_with_the_error_not_propagated(
    runs: dict[str, Completed],
) -> None:
    troubled = runs["troubled"]
    assert "RAISES" in row(troubled.stdout, "locustfile.raises")
    assert "raises ValueError: no such user" in troubled.stdout
    assert "Traceback" not in troubled.stdout
    assert "ValueError" not in troubled.stderr


TEST_START = """\
import time

from locust import events


@events.test_start.add_listener
def busy_wait(environment, **kwargs):
    assert environment.host.startswith("http://127.0.0.1")
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass


@events.user_error.add_listener
def busy_on_every_error(**kwargs):
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
"""
scenario("test_start not timed", TEST_START)
scenario("test_start timed", TEST_START, "--hook", "test_start")
scenario("user_error timed", TEST_START, "--hook", "user_error")


def test_hook_option_times_the_listeners_of_that_hook_too(runs: dict[str, Completed]) -> None:
    untimed, timed = runs["test_start not timed"], runs["user_error timed"]
    assert untimed.returncode == 0, untimed.stdout + untimed.stderr
    assert row(untimed.stdout, "locustfile.busy_on_every_error").endswith(" ok")
    assert timed.returncode == 1, timed.stdout + timed.stderr
    assert "OVER BUDGET" in row(timed.stdout, "locustfile.busy_on_every_error")
    assert "synchronous listeners of request, user_error" in timed.stdout


def test_a_run_once_hook_is_called_once_and_not_held_to_the_per_request_budget(
    runs: dict[str, Completed],
) -> None:
    timed = runs["test_start timed"]
    assert timed.returncode == 0, timed.stdout + timed.stderr
    busy = row(timed.stdout, "locustfile.busy_wait")
    assert busy.startswith("test_start ")
    assert " us once" in busy
    assert "OVER BUDGET" not in timed.stdout


SPINS = """\
from locust import events


@events.request.add_listener
def spins_forever(**kwargs):
    try:
        while True:
            pass
    except Exception:
        pass
"""
scenario("spins", SPINS, "--time-limit", "0.3")


def test_a_listener_that_never_returns_or_yields_is_stopped_at_the_time_limit(
    runs: dict[str, Completed],
) -> None:
    spins = runs["spins"]
    assert spins.returncode == 1
    assert "TIMEOUT" in row(spins.stdout, "locustfile.spins_forever")
    assert "did not return within the time limit of 0.3 s" in spins.stdout


def test_json_report_holds_hooks_listeners_problems_timings_and_a_verdict(
    runs: dict[str, Completed],
) -> None:
    completed = runs["troubled json"]
    document = json.loads(completed.stdout)
    assert document["verdict"] == {
        "exit_status": 1,
        "clean": False,
        "summary": document["verdict"]["summary"],
    }
    assert completed.returncode == 1
    request_hooks = [hook for hook in document["hooks"] if hook["name"] == "request"]
    assert {hook["registry"] for hook in request_hooks} == {"locust_events.events", "locust.events"}
    assert document["locust_hooks_shared"] is False
    listeners = {listener["name"]: listener for listener in document["listeners"]}
    busy_wait = listeners["locustfile.busy_wait"]
    assert Path(busy_wait["file"]).is_absolute()
    assert Path(busy_wait["file"]).name == "locustfile.py"
    assert busy_wait["line"] == line_of(TROUBLED, "def busy_wait") - 1  # its decorator
    assert (busy_wait["registry"], busy_wait["runs"], busy_wait["pool"]) == (
        "locust.events",
        "sync",
        None,
    )
    kinds = {problem["listener"]: problem["kind"] for problem in document["problems"]}
    assert kinds == {
        "locustfile.takes_too_little": "invalid signature",
        "locustfile.busy_wait": "over budget",
        "locustfile.sleeps": "blocks",
        "locustfile.connects": "network",
        "locustfile.raises": "raises",
    }
    timings = {timing["listener"]: timing for timing in document["timings"]}
    assert timings["locustfile.busy_wait"]["median_us"] > 50
    assert timings["locustfile.busy_wait"]["calls"] > 1
    assert "locustfile.takes_too_little" not in timings  # invalid listeners are not called


PRINTS = """\
from locust import events

print("imported")


@events.request.add_listener
def prints(**kwargs):
    print("a request")
"""
scenario("prints json", PRINTS, "--json")


def test_json_output_is_one_document_whatever_the_locustfile_prints(
    runs: dict[str, Completed],
) -> None:
    completed = runs["prints json"]
    assert completed.returncode == 0, completed.stdout + completed.stderr
    document = json.loads(completed.stdout)
    assert document["verdict"]["clean"] is True
    assert "imported" in completed.stderr


SHARED = """\
import locust
import locust_events

# What the Locust integration does: Locust's hooks become the hooks of locust_events.events.
for name, hook in locust_events.events.hooks.items():
    setattr(locust.events, name, hook)


@locust.events.request.add_listener
def on_request(**kwargs):
    pass
"""
scenario("shared", SHARED)


def test_hooks_shared_with_locust_are_listed_once(runs: dict[str, Completed]) -> None:
    shared = runs["shared"]
    assert shared.returncode == 0, shared.stdout + shared.stderr
    assert "the Locust integration is on" in shared.stdout
    assert shared.stdout.count("locustfile.on_request") == 1
    assert "locust_events.events" in row(shared.stdout, "locustfile.on_request")


BROKEN = """\
import locust

RATE = 1 / 0
"""
scenario("broken", BROKEN)


def test_an_unimportable_locustfile_exits_2_with_the_error_and_where_it_was_raised(
    runs: dict[str, Completed],
) -> None:
    broken = runs["broken"]
    assert broken.returncode == 2
    assert broken.stdout == ""
    assert "cannot import" in broken.stderr
    assert "ZeroDivisionError: division by zero" in broken.stderr
    assert f'locustfile.py", line {line_of(BROKEN, "1 / 0")}, in <module>' in broken.stderr


# ``-c`` makes ``import locust`` fail as it does where Locust is not installed.
WITHOUT_LOCUST = (
    "-c",
    "import runpy, sys; sys.modules['locust'] = None; "
    "runpy.run_module('locust_events', run_name='__main__')",
)
scenario("without locust", CLEAN, python=WITHOUT_LOCUST)


def test_without_locust_the_doctor_exits_2_naming_the_extra(runs: dict[str, Completed]) -> None:
    without = runs["without locust"]
    assert without.returncode == 2
    assert "Locust is not installed" in without.stderr
    assert "the 'locust' extra" in without.stderr
    assert f"{sys.executable} -m pip install 'locust>=2.43'" in without.stderr


def test_each_signature_problem_is_reported_as_what_is_wrong_and_its_fix() -> None:
    from locust_events._signature import examine_listener_signature
    from locust_events.tools.doctor.listing import signature_problem
    from locust_events.tools.doctor.report import Listener

    def listener(user, /, tag):
        pass

    check = examine_listener_signature("test_start", frozenset({"environment"}), listener)
    problem = signature_problem(Listener("test_start", "locust_events.events", listener), check)
    assert problem.kind == "invalid signature"
    assert problem.message == (
        "it requires positional-only parameter(s) 'user', but hooks pass keyword arguments only. "
        "The hook passes: 'environment'."
    )
    assert problem.fix == "make them ordinary parameters"
    assert check.requires_undeclared == ("tag",)  # a note, not a problem: fires may pass it


#: Builds the doctor's request payload in a child (its HTTP response imports ``requests``,
#: and so ``ssl``, which must not be imported before a later in-process Locust import patches
#: it) and prints what the test checks.
_REQUEST_PAYLOAD_CHECK = """
import json
from locust_events.tools.doctor import synthetic_payload
from locust_events.tools.request_payload import REQUEST_NAMES, REQUEST_PAYLOAD

payload = synthetic_payload("request", REQUEST_NAMES, environment=None)
fixed = set(REQUEST_NAMES) - {"context", "start_time", "response"}
response = payload["response"]
print(json.dumps({
    "names": list(payload) == list(REQUEST_NAMES),
    "own context": payload["context"] == {}
    and payload["context"] is not REQUEST_PAYLOAD["context"],
    "shared rest": {n: payload[n] for n in fixed} == {n: REQUEST_PAYLOAD[n] for n in fixed},
    "status": [response.status_code, response.ok],
    "content type": response.headers["content-type"],
    "length": [len(response.content), payload["response_length"]],
    "body": response.json() == {"data": "x" * 500},
    "url": response.url == payload["url"],
    "method": response.request.method,
}))
"""


def test_the_doctor_fires_request_listeners_with_the_one_request_payload() -> None:
    # Its own context to write to, a start time of now, and (for an HTTP request type) a
    # response as Locust's HTTP users pass it; the rest is the shared payload.
    completed = subprocess.run(
        [sys.executable, "-c", _REQUEST_PAYLOAD_CHECK],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {
        "names": True,
        "own context": True,
        "shared rest": True,
        "status": [200, True],
        "content type": "application/json",
        "length": [512, 512],
        "body": True,
        "url": True,
        "method": "GET",
    }


#: A listener from an installed package deep in a site-packages directory, with a long name.
FAR_AWAY = """\
import pathlib
import sys

import locust_events
import locust_events.locust

installed = pathlib.Path.cwd().parent / ("venv-" + "x" * 60) / "lib" / "site-packages"
(installed / "team_plugins").mkdir(parents=True)
(installed / "team_plugins" / "__init__.py").write_text(
    "class ExternalIntegrationReporterForTheStagingEnvironment:\\n"
    "    def on_request_that_failed_or_took_too_long(self, **kwargs):\\n"
    "        pass\\n"
)
sys.path.insert(0, str(installed))
from team_plugins import ExternalIntegrationReporterForTheStagingEnvironment as Reporter

locust_events.events.request.add_listener(Reporter().on_request_that_failed_or_took_too_long)
"""
scenario("far away", FAR_AWAY)


def test_long_names_and_installed_paths_are_shortened_to_fit_the_table(
    runs: dict[str, Completed],
) -> None:
    far = runs["far away"]
    assert far.returncode == 0, far.stdout + far.stderr
    (row,) = [line for line in far.stdout.splitlines() if line.startswith("request ")]
    # The name keeps its module and its method, the path starts at the installed package.
    name = row.split()[2]
    assert len(name) == 48
    assert name.startswith("team_plugins.External")
    assert name.endswith("…failed_or_took_too_long")
    assert " team_plugins/__init__.py:2 " in row
    assert "site-packages" not in row
    assert len(row) < 160


# The README's first listener, pasted into a locustfile without the switch.
NEVER_CALLED = """\
from locust import HttpUser, task

from locust_events import events


class Visitor(HttpUser):
    host = "http://127.0.0.1"

    @task
    def index(self):
        self.client.get("/")


@events.request.add_listener
def on_request(request_type, name, response_time, response_length, exception=None, **kwargs):
    pass
"""
scenario("never called", NEVER_CALLED)


def test_listeners_locust_never_calls_are_a_problem_with_the_line_that_fixes_it(
    runs: dict[str, Completed],
) -> None:
    never = runs["never called"]
    assert never.returncode == 1, never.stdout + never.stderr
    assert "never called: locustfile.on_request on locust_events.events.request" in never.stdout
    assert "Locust never calls it" in never.stdout
    assert "fix: add 'import locust_events.locust' at the top of the locustfile" in never.stdout
    assert "Verdict: clean" not in never.stdout


# How locust-plugins works: an option from the parser hook, listeners added in ``init``.
PLUGIN = """\
import time

import locust_events.locust

from locust import events


@events.init_command_line_parser.add_listener
def add_options(parser, **kwargs):
    parser.add_argument("--report-every", type=int, default=5)


@events.init.add_listener
def on_locust_init(environment, runner, **kwargs):
    assert environment.parsed_options.report_every == 5  # the parser hook's option
    assert runner is not None

    def per_request(**kwargs):
        end = time.perf_counter() + 0.002
        while time.perf_counter() < end:
            pass

    environment.events.request.add_listener(per_request)
    environment.events.test_stop.add_listener(write_summary)


def write_summary(environment, **kwargs):
    pass


@events.report_to_master.add_listener
def attach_counts(client_id, data, **kwargs):
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
"""
scenario("plugin", PLUGIN, "--hook", "report_to_master")


def test_listeners_added_by_init_listeners_are_listed_and_timed_as_locust_starts_them(
    runs: dict[str, Completed],
) -> None:
    plugin = runs["plugin"]
    assert plugin.returncode == 1, plugin.stdout + plugin.stderr
    assert "Fired as Locust does at start-up: init_command_line_parser, init" in plugin.stdout
    assert " us once" in row(plugin.stdout, "locustfile.add_options")
    assert " us once" in row(plugin.stdout, "locustfile.on_locust_init")
    added = row(plugin.stdout, "locustfile.on_locust_init.<locals>.per_request")
    assert added.startswith("request ")
    assert "OVER BUDGET" in added
    assert row(plugin.stdout, "locustfile.write_summary").startswith("test_stop ")
    # Locust's own listeners (its runner's) are not the locustfile's: not listed.
    assert "locust.runners" not in plugin.stdout


def test_the_doctor_never_advises_spawning_where_spawning_is_refused(
    runs: dict[str, Completed],
) -> None:
    plugin = runs["plugin"]
    assert "OVER BUDGET" in row(plugin.stdout, "locustfile.attach_counts")
    problems = plugin.stdout.split("Problems:", 1)[1]
    report_problem = problems.split("locust_events.events.report_to_master", 1)[1]
    fix = report_problem.split("fix: ", 1)[1].splitlines()[0]
    assert "spawn=True" not in fix
    assert "'report_to_master' before it goes on, so they cannot be spawned" in fix
    request_problem = problems.split("locust_events.events.request", 1)[1]
    assert "spawn it: add_listener(func, spawn=True)" in request_problem.split("\n")[2]


REALISTIC = """\
import locust_events.locust

from locust import events


@events.request.add_listener
def log_content_type(response, **kwargs):
    if response.status_code == 200:
        response.headers["Content-Type"]
        response.json()


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("cannot print this")


@events.request.add_listener
def raises_unprintable(**kwargs):
    raise Unprintable()
"""
scenario("realistic", REALISTIC)


def test_request_listeners_get_a_response_as_locusts_http_users_pass_it(
    runs: dict[str, Completed],
) -> None:
    realistic = runs["realistic"]
    assert "ok, " in row(realistic.stdout, "locustfile.log_content_type")


def test_an_exception_that_cannot_be_printed_is_reported_not_a_crash(
    runs: dict[str, Completed],
) -> None:
    realistic = runs["realistic"]
    assert realistic.returncode == 1, realistic.stdout + realistic.stderr
    assert "RAISES" in row(realistic.stdout, "locustfile.raises_unprintable")
    assert "raises Unprintable: <its message cannot be printed" in realistic.stdout
    assert "Verdict: 1 problem(s): 1 raises" in realistic.stdout


SNEAKY = """\
import _socket
import os
import subprocess
import sys

import locust_events.locust

from locust import events

CONNECT = "import socket; socket.create_connection(('127.0.0.1', LISTENING_PORT), timeout=5)"


@events.request.add_listener
def through_low_level_socket(**kwargs):
    sock = _socket.socket()
    try:
        sock.connect(("127.0.0.1", LISTENING_PORT))
    except OSError:
        pass
    finally:
        sock.close()


@events.request.add_listener
def through_os_system(**kwargs):
    os.system(f'{sys.executable} -c "{CONNECT}"')


@events.request.add_listener
def through_subprocess(**kwargs):
    subprocess.run([sys.executable, "-c", CONNECT], check=False)
"""
scenario("sneaky", SNEAKY)


def test_traffic_through_low_level_sockets_and_child_processes_is_blocked_and_reported(
    runs: dict[str, Completed], listening_socket: socket.socket
) -> None:
    sneaky = runs["sneaky"]
    port = listening_socket.getsockname()[1]
    assert sneaky.returncode == 1, sneaky.stdout + sneaky.stderr
    assert "NETWORK" in row(sneaky.stdout, "locustfile.through_low_level_socket")
    assert f"tried to connect to 127.0.0.1:{port}" in sneaky.stdout
    for listener in ("through_os_system", "through_subprocess"):
        assert "NETWORK" in row(sneaky.stdout, f"locustfile.{listener}")
    assert sneaky.stdout.count("tried to run the command") == 2
    with pytest.raises(BlockingIOError):
        listening_socket.accept()


def test_the_locustfile_is_taken_with_f_or_alone_but_not_both(
    runs: dict[str, Completed], tmp_path: Path
) -> None:
    assert runs["clean"].returncode == 0  # given with -f
    (tmp_path / "a.py").write_text("")
    both = subprocess.run(
        [sys.executable, "-m", "locust_events", "doctor", "-f", "a.py", "b.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert both.returncode == 2
    assert "give one locustfile, not two (a.py and b.py)" in both.stderr
    neither = subprocess.run(
        [sys.executable, "-m", "locust_events", "doctor"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert neither.returncode == 2
    assert "locust-events doctor -f locustfile.py" in neither.stderr
