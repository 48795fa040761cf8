"""Instructions per call under callgrind: a repeatable second opinion on the timed ratios.

Run ``python benchmarks/callgrind.py`` (valgrind on PATH). Each case of
``locust_events.tools.bench`` runs as 100 rounds of 1,000 calls, and once as none to subtract the
interpreter's start-up; hash randomisation is off so that dict probing repeats exactly.

Then the listener-signature cases below, on a registry's real ``request`` hook: a ``**kwargs``
listener and one that names all nine keywords are called with what the fire passes; a
listener that names only some of them is called with just those (filtered), and is compared
with a direct call of it with those names.
"""

from __future__ import annotations

import subprocess
import sys

from callgrind_count import callgrind_instructions

from locust_events.tools.bench import CALLS_PER_ROUND, CASES, TARGETS, report

ROUNDS = 100

_RUN_CASE = """
import sys
from locust_events.tools.bench import CASES
round_ = CASES[int(sys.argv[1])].make()
for _ in range(int(sys.argv[2])):
    round_()
"""


#: Builds one listener-signature case, named by ``sys.argv[1]``, as ``round_``.
_SIGNATURE_SETUP = """
import sys
from locust_events import Events

def kwargs_listener(**kwargs):
    pass

def every_name(request_type, name, response_time, response_length, exception, context,
               start_time, url, response):
    pass

def four_names(request_type, name, response_time, response_length):
    pass

def nine(call):
    def round_():
        for _ in range(1000):
            call(request_type="GET", name="/api", response_time=12.5, response_length=512,
                 exception=None, context=None, start_time=1.0, url="/api", response=None)
    return round_

def four(call):
    def round_():
        for _ in range(1000):
            call(request_type="GET", name="/api", response_time=12.5, response_length=512)
    return round_

def fire_into(listener):
    hook = Events().request
    hook.add_listener(listener)
    return nine(hook.fire)

case = sys.argv[1]
if case == "kwargs direct":
    round_ = nine(kwargs_listener)
elif case == "kwargs fire":
    round_ = fire_into(kwargs_listener)
elif case == "every name direct":
    round_ = nine(every_name)
elif case == "every name fire":
    round_ = fire_into(every_name)
elif case == "four names direct":
    round_ = four(four_names)
elif case == "four names fire":
    round_ = fire_into(four_names)
elif case == "four names fire of four":
    hook = Events().request
    hook.add_listener(four_names)
    round_ = four(hook.fire)
elif case == "four names undeclared fire of four":
    from locust_events import EventHook
    hook = EventHook("undeclared")
    hook.add_listener(four_names)
    round_ = four(hook.fire)
for _ in range(int(sys.argv[2])):
    round_()
"""

#: The listener-signature cases: (label, case, the case it is compared with).
SIGNATURE_CASES: tuple[tuple[str, str, str], ...] = (
    ("**kwargs listener: direct call", "kwargs direct", "kwargs direct"),
    ("**kwargs listener: fire", "kwargs fire", "kwargs direct"),
    ("listener naming all nine: direct call", "every name direct", "every name direct"),
    ("listener naming all nine: fire", "every name fire", "every name direct"),
    ("listener naming four: direct call with them", "four names direct", "four names direct"),
    ("listener naming four: fire (filtered)", "four names fire", "four names direct"),
    ("  the same, the fire passing those four", "four names fire of four", "four names direct"),
    (
        "  unfiltered, on an undeclared hook",
        "four names undeclared fire of four",
        "four names direct",
    ),
)


def instructions(case_index: int | str, rounds: int, program: str = _RUN_CASE) -> int:
    """What valgrind counts for one process running ``rounds`` rounds of one case."""
    return callgrind_instructions("-c", program, str(case_index), str(rounds))


def signature_instructions() -> dict[str, float]:
    """Instructions per call of each listener-signature case, by case."""
    per_call: dict[str, float] = {}
    for _, case, _ in SIGNATURE_CASES:
        try:
            count = instructions(case, ROUNDS, _SIGNATURE_SETUP)
        except subprocess.CalledProcessError:  # a build that refuses the listener
            continue
        per_call[case] = (count - instructions(case, 0, _SIGNATURE_SETUP)) / (
            ROUNDS * CALLS_PER_ROUND
        )
    return per_call


def main() -> None:
    """Print every case; ``--signatures`` prints the listener-signature cases only."""
    if "--signatures" not in sys.argv[1:]:
        _main_cases()
    print("listener signatures, on a registry's request hook (fire passes nine names)")
    per_call = signature_instructions()
    for label, case, against in SIGNATURE_CASES:
        if case in per_call and against in per_call:
            ratio = per_call[case] / per_call[against]
            print(f"    {label:<45} {per_call[case]:9.1f} instructions/call  {ratio:6.2f}x")
        else:
            print(f"    {label:<45}       n/a (refused here)")


def _main_cases() -> None:
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
