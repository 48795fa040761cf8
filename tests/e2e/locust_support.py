"""Running real Locust and the local target in child processes, bounded in time, on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LOCUSTFILES = Path(__file__).resolve().parent / "locustfiles"

#: Skips a test module cleanly where the locust extra is not installed. (Importing Locust
#: here would monkey-patch the test process, so only look for it.)
needs_locust = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="needs the locust extra"
)

#: No child process may outlive this many seconds beyond its own bounded run time.
GRACE = 60


def free_port() -> int:
    """A port nobody listens on right now on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


#: The port a Locust master binds unless told otherwise (on every interface): another run on a
#: busy machine may hold it, so no test may rely on it.
LOCUST_DEFAULT_MASTER_PORT = 5557


def processes_on_a_free_port(count: int) -> list[str]:
    """Options for ``--processes count`` whose master binds 127.0.0.1 on a free port and whose
    forked workers connect there (``--processes`` uses the master options for both ends),
    never Locust's default port on every interface."""
    port = str(free_port())
    return [
        *("--processes", str(count)),
        *("--master-bind-host", "127.0.0.1", "--master-bind-port", port),
        *("--master-host", "127.0.0.1", "--master-port", port),
    ]


@contextmanager
def locusts_default_port_taken() -> Iterator[None]:
    """Hold Locust's default master port on 127.0.0.1 while the block runs, as another run on
    a busy machine would; if somebody holds it already, that is the same."""
    with socket.socket() as holder:
        try:
            holder.bind(("127.0.0.1", LOCUST_DEFAULT_MASTER_PORT))
            holder.listen()
        except OSError:
            pass  # taken already
        yield


#: Kept for children: which calling loop this run tests (compiled or pure).
LOOP_SELECTION = ("LOCUST_EVENTS_PURE",)


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a child: ours, without Locust settings that could leak in, on the
    calling loop this run selected."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("LOCUST_") or k in LOOP_SELECTION
    }
    environment.update(extra)
    return environment


@contextmanager
def running_target(fail_every: int = 0) -> Iterator[str]:
    """Run ``python -m locust_events target`` and yield its base URL; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "locust_events", "target", "--fail-every", str(fail_every)],
        stdout=subprocess.PIPE,
        text=True,
        env=child_environment(),
    )
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=30):
                raise TimeoutError("the target printed no URL within 30 s")
        line = process.stdout.readline()
        assert "listening on " in line, line
        yield line.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def get_json(url: str) -> Any:
    """GET a JSON document from the local target."""
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def locust_command(locustfile: Path, *args: str) -> list[str]:
    """The command line that runs Locust on ``locustfile`` with our interpreter."""
    return [sys.executable, "-m", "locust", "-f", str(locustfile), *args]


def headless(host: str, users: int, run_time: int, *more: str) -> list[str]:
    """Options of a bounded headless run: ``users`` users, all at once, for ``run_time`` s."""
    return [
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{run_time}s",
        "--stop-timeout",
        "2",
        *more,
    ]


def run_locust(
    locustfile: Path,
    *args: str,
    cwd: Path,
    run_time: int,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run Locust to completion, killed if it outlives ``run_time`` + :data:`GRACE` seconds."""
    return subprocess.run(
        locust_command(locustfile, *args),
        cwd=cwd,
        env=env or child_environment(),
        capture_output=True,
        text=True,
        timeout=run_time + GRACE,
        check=False,
    )


def start_workers(
    locustfile: Path, master_port: str, *, cwd: Path, env: dict[str, str], count: int = 2
) -> list[subprocess.Popen[Any]]:
    """Start ``count`` Locust workers of ``locustfile``, each its own process, connecting to
    the master on 127.0.0.1:``master_port``; their output is discarded."""
    return [
        subprocess.Popen(
            locust_command(
                locustfile, "--worker", "--master-host", "127.0.0.1", "--master-port", master_port
            ),
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def run_distributed(
    locustfile: Path, host: str, *, cwd: Path, users: int, run_time: int, env: dict[str, str]
) -> tuple[int, str, dict[int, int]]:
    """Run a master and two workers, each its own process, on 127.0.0.1 to completion.

    Returns the master's exit code and log (stderr), and each worker's exit code by pid.
    """
    port = str(free_port())
    master = subprocess.Popen(
        locust_command(
            locustfile,
            *("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port),
            # The workers start beside the master: give them GRACE seconds to connect (a busy
            # machine can take long to import Locust three times), then the run's own time.
            *("--expect-workers", "2", "--expect-workers-max-wait", str(GRACE)),
            *headless(host, users, run_time),
        ),
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers = start_workers(locustfile, port, cwd=cwd, env=env)
    try:
        _, master_log = master.communicate(timeout=run_time + 2 * GRACE)
        worker_codes = {worker.pid: worker.wait(timeout=GRACE) for worker in workers}
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.communicate()
    return master.returncode, master_log, worker_codes
