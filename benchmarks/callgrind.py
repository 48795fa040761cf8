"""Instructions per call under callgrind: a repeatable second opinion on the timed ratios.

Run ``python benchmarks/callgrind.py`` (valgrind on PATH). Each case of
``locust_events._bench`` runs as 100 rounds of 1,000 calls, and once as none to subtract the
interpreter's start-up; hash randomisation is off so that dict probing repeats exactly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from locust_events._bench import CALLS_PER_ROUND, CASES, TARGETS, report

ROUNDS = 100

_RUN_CASE = """
import sys
from locust_events._bench import CASES
round_ = CASES[int(sys.argv[1])].make()
for _ in range(int(sys.argv[2])):
    round_()
"""


def instructions(case_index: int, rounds: int) -> int:
    """What valgrind counts for one process running ``rounds`` rounds of one case."""
    result = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            _RUN_CASE,
            str(case_index),
            str(rounds),
        ],
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    match = re.search(r"Collected : (\d+)", result.stderr)
    assert match, result.stderr
    return int(match.group(1))


def main() -> None:
    wanted = {(t.group, t.label) for t in TARGETS} | {(t.group, t.against) for t in TARGETS}
    results: dict[str, dict[str, float]] = {}
    for index, case in enumerate(CASES):
        if (case.group, case.label) not in wanted or case.make() is None:
            continue
        calls = ROUNDS * CALLS_PER_ROUND
        count = instructions(index, ROUNDS) - instructions(index, 0)
        results.setdefault(case.group, {})[case.label] = count / calls
    print(f"instructions per call under callgrind, {ROUNDS * CALLS_PER_ROUND:,} calls each")
    report(results, print, unit="instructions/call", scale=1.0)


if __name__ == "__main__":
    main()
