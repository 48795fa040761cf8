"""Instructions per request of a real Locust run: stock, ours with the Listeners tab off, and on.

Run ``python benchmarks/listeners_tab_cost.py`` (valgrind on PATH, the locust extra
installed). Each mode runs Locust under callgrind, whole process, with its web UI on
127.0.0.1 and ``--autostart``: FastHttpUser users against the local target
(``python -m locust_events target``, outside valgrind) make a fixed number of requests each,
then the process shuts itself down. Two run lengths are counted and subtracted, so start-up
and shutdown cancel out and what is left is the cost of the extra requests. Hash
randomisation is off so that the counts repeat.

``--fire-only`` counts the request hook alone instead (no Locust, no network): what the tab
adds to each request, to the instruction.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfiles" / "listeners_tab_cost.py"
sys.path.insert(0, str(HERE.parent))

from benchmarks.callgrind_count import callgrind_instructions  # noqa: E402
from tests.e2e.locust_support import child_environment, free_port, running_target  # noqa: E402

USERS = 1  # one user: the same sequence of waits on every run, so the counts repeat best
SHORT, LONG = 200, 1000  # requests per user
REPEATS = 2  # rounds of every mode, interleaved so that machine drift touches each alike
MODES = {
    "stock Locust events": {"DISPATCHER": "stock"},
    "locust_events, tab off": {"LOCUST_EVENTS_LISTENERS_TAB": "0"},
    "locust_events, tab on": {},
}


def instructions(host: str, requests_per_user: int, extra: dict[str, str]) -> int:
    """What callgrind counts for one whole Locust process making USERS x requests_per_user."""
    env = child_environment(
        PYTHONHASHSEED="0", USERS=str(USERS), REQUESTS_PER_USER=str(requests_per_user), **extra
    )
    return callgrind_instructions(
        *("-m", "locust", "-f", str(LOCUSTFILE)),
        *("--web-host", "127.0.0.1", "--web-port", str(free_port()), "--autostart"),
        *("--users", str(USERS), "--spawn-rate", str(USERS), "--host", host),
        *("--loglevel", "WARNING"),
        env=env,
    )


# The request hook alone, with two listeners shaped like a Locust run's (Locust's statistics
# listener and the locustfile's), as the same whole-process count: no network, so it repeats
# to the instruction, and shows what the tab adds per request without the run's noise.
_FIRE_ONLY = """
import sys
from locust_events import Events
events = Events()
def on_request(request_type, name, response_time, response_length, exception, context, **kw):
    pass
def count_bytes(response_length, **kwargs):
    pass
events.request.add_listener(on_request)
events.request.add_listener(count_bytes)
if sys.argv[1] == "on":
    events.start_profiling(int(sys.argv[3]))
fire = events.request.fire
for _ in range(int(sys.argv[2])):
    fire(request_type="GET", name="/page", response_time=1.5, response_length=1024,
         exception=None, context={}, start_time=1.0, url="http://127.0.0.1/page", response=None)
"""


def fire_instructions(mode: str, fires: int, sample_every: int) -> int:
    return callgrind_instructions("-c", _FIRE_ONLY, mode, str(fires), str(sample_every))


def fire_only(sample_every: int = 100) -> None:
    short, long = 1_000, 11_000
    per_fire = {
        mode: (
            fire_instructions(mode, long, sample_every)
            - fire_instructions(mode, short, sample_every)
        )
        / (long - short)
        for mode in ("off", "on")
    }
    added = per_fire["on"] - per_fire["off"]
    print(
        f"request fire, 2 listeners: tab off {per_fire['off']:,.0f}, on {per_fire['on']:,.0f} "
        f"instructions; the tab adds {added:,.0f} per request ({added / 2:,.0f} per listener call)"
    )


def main() -> None:
    if "--fire-only" in sys.argv:
        fire_only()
        return
    extra_requests = USERS * (LONG - SHORT)
    rounds: dict[str, list[float]] = {mode: [] for mode in MODES}
    with running_target() as host:
        for round_ in range(1, REPEATS + 1):
            for mode, extra in MODES.items():
                short = instructions(host, SHORT, extra)
                long = instructions(host, LONG, extra)
                rounds[mode].append((long - short) / extra_requests)
                print(
                    f"round {round_}: {mode:<24} {rounds[mode][-1]:>10,.0f} instructions/request",
                    flush=True,
                )
    mean = {mode: sum(values) / len(values) for mode, values in rounds.items()}
    for mode, values in rounds.items():
        spread = (max(values) - min(values)) / mean[mode] * 100
        print(f"mean: {mode:<24} {mean[mode]:>10,.0f} instructions/request (spread {spread:.1f}%)")
    off = mean["locust_events, tab off"]
    on = mean["locust_events, tab on"]
    stock = mean["stock Locust events"]
    print(f"tab on / tab off: {on / off:.4f}  ({(on / off - 1) * 100:+.2f}%)")
    print(f"tab off / stock:  {off / stock:.4f}  ({(off / stock - 1) * 100:+.2f}%)")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
