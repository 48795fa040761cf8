"""A real Locust run against the local target, on Locust's events and on ours, side by side.

``python benchmarks/locust_run.py [--seconds 10] [--rounds 4] [--users 10]``: alternates
the two dispatchers for ``rounds`` runs each and prints requests per second and CPU seconds
per 10,000 requests (medians), measured inside Locust between test_start and test_stopping.
Requests per second are bounded by the target, which shares the machine; CPU seconds per
10,000 requests is what the dispatcher can change.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

LOCUSTFILE = Path(__file__).resolve().parent / "locustfiles" / "throughput.py"
DISPATCHERS = {"stock": "Locust's events", "ours": "locust_events"}


def start_target() -> tuple[subprocess.Popen[str], str]:
    """Start ``python -m locust_events target`` on a free loopback port; return it and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "locust_events", "target"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on " not in line:
        process.kill()
        raise RuntimeError(f"the target did not start: {line!r}")
    return process, line.rsplit(" ", 1)[1].strip()


def run_once(
    dispatcher: str, url: str, seconds: int, users: int, stop_after: int = 0
) -> dict[str, Any]:
    """One headless Locust run on ``dispatcher``; what the locustfile measured.

    ``stop_after`` > 0 ends the run after that many requests; ``seconds`` is then only a cap.
    """
    with tempfile.TemporaryDirectory(prefix="locust-run-") as workdir:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("LOCUST_") or k == "LOCUST_EVENTS_PURE"
        }
        env["DISPATCHER"] = dispatcher
        env["STOP_AFTER_REQUESTS"] = str(stop_after)
        command = [
            *(sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"),
            *("--host", url, "--users", str(users), "--spawn-rate", str(users)),
            *("--run-time", f"{seconds}s", "--only-summary", "--stop-timeout", "2"),
            *("--exit-code-on-error", "0", "--loglevel", "WARNING"),
        ]
        result = subprocess.run(
            command,
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
        path = Path(workdir) / "throughput.json"
        if result.returncode != 0 or not path.exists():
            raise RuntimeError(f"Locust on {dispatcher} failed:\n{result.stderr}")
        measured: dict[str, Any] = json.loads(path.read_text())
    return measured


def compare(
    seconds: int = 10, rounds: int = 4, users: int = 10, stop_after: int = 0
) -> dict[str, dict[str, float]]:
    """Run both dispatchers ``rounds`` times each, alternating; medians per dispatcher.

    ``stop_after`` > 0 ends each run after that many requests (``seconds`` is then a cap).
    """
    target, url = start_target()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in DISPATCHERS}
    try:
        for round_ in range(rounds):
            # Alternate which goes first, so that a drift of the machine favours neither.
            order = list(DISPATCHERS) if round_ % 2 == 0 else list(reversed(DISPATCHERS))
            for name in order:
                runs[name].append(run_once(name, url, seconds, users, stop_after))
    finally:
        target.terminate()
        target.wait(timeout=10)
        if target.stdout is not None:
            target.stdout.close()
    result: dict[str, dict[str, float]] = {}
    for name, measured in runs.items():
        result[name] = {
            "requests": statistics.median(run["requests"] for run in measured),
            "requests_per_second": statistics.median(
                run["requests"] / run["wall_seconds"] for run in measured
            ),
            "cpu_per_10k": statistics.median(
                run["cpu_seconds"] / max(run["requests"], 1) * 10_000 for run in measured
            ),
        }
    return result


def table(result: dict[str, dict[str, float]], seconds: int, rounds: int, users: int) -> str:
    """The side-by-side table the script prints."""
    lines = [
        f"real Locust, FastHttpUser, {users} users, no wait, two request listeners; "
        f"{seconds} s per run, {rounds} run(s) each, medians",
        f"{'dispatcher':<18} {'requests/s':>11} {'CPU s / 10k requests':>21} {'requests':>9}",
    ]
    for name, label in DISPATCHERS.items():
        row = result[name]
        lines.append(
            f"{label:<18} {row['requests_per_second']:>11.0f} {row['cpu_per_10k']:>21.3f} "
            f"{row['requests']:>9.0f}"
        )
    ours, stock = result["ours"], result["stock"]
    lines.append(
        f"{'ours / stock':<18} {ours['requests_per_second'] / stock['requests_per_second']:>10.3f}x"
        f" {ours['cpu_per_10k'] / stock['cpu_per_10k']:>20.3f}x"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="run time of each run")
    parser.add_argument("--rounds", type=int, default=4, help="runs per dispatcher")
    parser.add_argument("--users", type=int, default=10, help="simulated users")
    args = parser.parse_args()
    result = compare(args.seconds, args.rounds, args.users)
    print(table(result, args.seconds, args.rounds, args.users))


if __name__ == "__main__":
    main()
