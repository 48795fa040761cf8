"""How many instructions callgrind counts for one command: the benchmarks' repeatable figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys

#: valgrind counting instructions, writing no profile file.
CALLGRIND = ("valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null")


def callgrind_instructions(
    *arguments: str, env: dict[str, str] | None = None, timeout: float = 900
) -> int:
    """Run ``python ARGUMENTS`` under ``valgrind --tool=callgrind`` and return its count.

    ``PYTHONHASHSEED=0`` keeps the count the same from run to run; ``env`` replaces the
    environment (the hash seed is still set).
    """
    result = subprocess.run(
        [*CALLGRIND, sys.executable, *arguments],
        env={**(os.environ if env is None else env), "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    match = re.search(r"Collected : (\d+)", result.stderr)
    if match is None:
        raise RuntimeError(f"callgrind gave no count:\n{result.stderr[-3000:]}")
    return int(match.group(1))
