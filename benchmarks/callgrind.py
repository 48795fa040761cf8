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

import gc
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from callgrind_count import callgrind_instructions

from locust_events import EventHook, Events, ListenerPool
from locust_events.tools.bench import CALLS_PER_ROUND, CASES, TARGETS, Timing, Timings, report

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


#: What the spawned-listener and batch-listener cases share: the request listener ``h`` and
#: ``nine(call)``, a round of 1,000 calls of ``call`` with Locust's nine keywords.
_REQUEST_ROUND = """
import sys
from locust_events import Events, ListenerPool
from locust_events._pool import queue_of

def h(request_type, name, response_time, response_length, exception=None, **kw):
    pass

def nine(call):
    def round_():
        for _ in range(1000):
            call(request_type="GET", name="/api", response_time=12.5, response_length=512,
                 exception=None, context={}, start_time=1.0, url="/api", response=None)
    return round_
"""


#: Builds one spawned-listener case, named by ``sys.argv[1]``, as ``round_``. Every case
#: fires or calls the request listener with Locust's nine keywords; the pool's workers are
#: started (one call run) before counting, so both loop lengths pay for that alike. The
#: "timeout" case gives the pool a call timeout no call reaches: what timing each call costs.
_POOL_SETUP = (
    _REQUEST_ROUND
    + """

case, rounds = sys.argv[1], int(sys.argv[2])
if case == "direct":
    round_ = nine(h)
else:
    timeout = 60.0 if case == "end to end, timeout" else None  # never reached: the cost alone
    pool = ListenerPool(size=8, maxsize=1_000 * (rounds + 1), timeout=timeout)
    hook = Events().request
    hook.add_listener(h, spawn=pool)
    hook.fire(request_type="GET", name="/api", response_time=12.5, response_length=512,
              exception=None, context={}, start_time=1.0, url="/api", response=None)
    pool.join()
    fire_round = nine(hook.fire)
    if case == "enqueue":
        # The workers never run (nothing here yields to them): each round empties the queue
        # itself, so every round fires with the queue as it is in use, not ever longer.
        queued = queue_of(pool).calls
        def round_():
            fire_round()
            queued.clear()
    else:
        def round_():
            fire_round()
            pool.join()
for _ in range(rounds):
    round_()
"""
)

#: Rounds of the spawned-listener cases (the counts repeat exactly: fewer rounds suffice).
POOL_ROUNDS = 20

#: The spawned-listener cases: (label, case), each compared with the direct call.
POOL_CASES: tuple[tuple[str, str], ...] = (
    ("direct call of the request listener", "direct"),
    ("fire into a spawned listener (the enqueue, 1,000 queued)", "enqueue"),
    ("fire, then run the call through the pool", "end to end"),
    ("  the same, each call under a timeout", "end to end, timeout"),
)


def case_instructions(
    setup: str, cases: tuple[tuple[str, str], ...], pure: bool
) -> dict[str, float]:
    """Instructions per call of each of ``cases`` (built by the script ``setup``) on one
    loop, by case: the count of ``POOL_ROUNDS`` rounds less the count of none."""
    env = {**os.environ, "LOCUST_EVENTS_PURE": "1" if pure else "0"}
    per_call: dict[str, float] = {}
    for _, case in cases:
        counts = [
            callgrind_instructions("-c", setup, case, str(rounds), env=env)
            for rounds in (POOL_ROUNDS, 0)
        ]
        per_call[case] = (counts[0] - counts[1]) / (POOL_ROUNDS * CALLS_PER_ROUND)
    return per_call


def print_cases(title: str, setup: str, cases: tuple[tuple[str, str], ...], unit: str) -> None:
    """Print ``cases`` on both loops, each as a ratio to the case named "direct"."""
    for pure in (False, True):
        per_call = case_instructions(setup, cases, pure)
        loop = "pure-Python loop" if pure else "compiled loop"
        print(f"{title}, {loop} (instructions/{unit}, ratio to the direct call)")
        for label, case in cases:
            ratio = per_call[case] / per_call["direct"]
            print(f"    {label:<50} {per_call[case]:9.1f}  {ratio:6.2f}x")


def pool_report() -> None:
    """Print the spawned-listener cases on both loops, then the timed figures."""
    print_cases("spawned listener", _POOL_SETUP, POOL_CASES, "call")
    logging.disable(logging.ERROR)  # closing a pool with calls queued says so: expected here
    timed = pool_timings()
    print("spawned listener, timed on one core (best of 5)")
    for label, value in timed.items():
        print(f"    {label:<50} {value}")


#: Builds one ``measure()`` case, named by ``sys.argv[1]``, as ``round_``: an empty ``with``
#: block on a registry's request hook with one listener, against a direct call of that
#: listener with the nine keywords the block's fire passes. "alternating" runs two call sites
#: by turns (other request_type and name each block), 500 times each per round.
_MEASURE_SETUP = """
import sys
from locust_events import Events

def h(request_type, name, response_time, response_length, exception=None, **kw):
    pass

CONTEXT = {}  # one dict for every call: the block's new one is not the baseline's cost

case, rounds = sys.argv[1], int(sys.argv[2])
if case == "direct":
    def round_():
        for _ in range(1000):
            # What measure() passes, as Locust's measure() does: no url, no response.
            h(request_type="GET", name="/x", response_length=0, context=CONTEXT,
              exception=None, start_time=1.0, response_time=12.5)
else:
    measure = Events().request
    measure.add_listener(h)
    measure = measure.measure
    if case == "measure":
        def round_():
            for _ in range(1000):
                with measure("GET", "/x"):
                    pass
    else:
        def round_():
            for _ in range(500):
                with measure("GET", "/x"):
                    pass
                with measure("POST", "/y"):
                    pass
for _ in range(rounds):
    round_()
"""

#: The ``measure()`` cases: (label, case), each compared with the direct call.
MEASURE_CASES: tuple[tuple[str, str], ...] = (
    ("direct call of the request listener", "direct"),
    ('with hook.measure("GET", "/x"): pass', "measure"),
    ("  the same, two call sites by turns", "alternating"),
)


def measure_report() -> None:
    """Print the ``measure()`` case on both loops, as instructions per block."""
    print_cases("measure(), one listener", _MEASURE_SETUP, MEASURE_CASES, "call")


#: Builds one batch-listener case, named by ``sys.argv[1]``, as ``round_``: the request
#: listener called directly with Locust's nine keywords, or a hook fired with them into a
#: no-op batch listener (batches of 1,000: one hand-over per round). The pool's workers are
#: started before counting, so both loop lengths pay for that alike.
_BATCH_SETUP = (
    _REQUEST_ROUND
    + """
def write(batch):
    pass

case, rounds = sys.argv[1], int(sys.argv[2])
if case == "direct":
    round_ = nine(h)
else:
    pool = ListenerPool(size=1, maxsize=1_000 * (rounds + 2))
    hook = Events().request
    hook.add_batch_listener(write, max_size=1_000, max_wait=3600.0, pool=pool)
    nine(hook.fire)()
    pool.join()
    fire_round = nine(hook.fire)
    if case == "fire":
        round_ = fire_round  # the workers never run: nothing here yields to them
    else:
        def round_():
            fire_round()
            pool.join()
for _ in range(rounds):
    round_()
"""
)

#: The batch-listener cases: (label, case), each compared with the direct call.
BATCH_CASES: tuple[tuple[str, str], ...] = (
    ("direct call of the request listener", "direct"),
    ("fire into a batch listener (per event)", "fire"),
    ("fire, then deliver the batch through the pool", "end to end"),
)


def batch_report() -> None:
    """Print the batch-listener cases on both loops (instructions per event), then the timed
    figure."""
    print_cases("batch listener", _BATCH_SETUP, BATCH_CASES, "event")
    print("batch listener, timed on one core (best of 5)")
    per_second = _batch_events_per_second()
    print(f"    {'fire, then deliver the batch through the pool':<50} {per_second:,.0f} events/s")


def _batch_events_per_second() -> float:
    """Events fired into a no-op batch listener (batches of 1,000) and delivered, per second."""
    pool = ListenerPool(size=1, maxsize=10_000)
    hook = Events().request
    hook.add_batch_listener(lambda batch: None, max_size=1_000, max_wait=3600.0, pool=pool)
    return _fired_and_run_per_second(hook, pool)


def _fired_and_run_per_second(hook: EventHook[Any], pool: ListenerPool) -> float:
    """Fires of ``hook`` per second, each run through ``pool`` (which is closed after):
    rounds of 1,000 fires and a join, best of 5 runs of 100 rounds."""

    def hundred_rounds() -> None:
        for _ in range(100):
            _fire_nine(hook.fire)
            pool.join()

    hundred_rounds()  # the workers started, the interpreter specialised the calls
    per_second = 100 * CALLS_PER_ROUND / _best(hundred_rounds, 5)
    pool.close()
    return per_second


def _request_listener(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    exception: BaseException | None = None,
    **kw: object,
) -> None:
    pass


def _fire_nine(call: Callable[..., object]) -> None:
    for _ in range(CALLS_PER_ROUND):
        call(
            request_type="GET",
            name="/api",
            response_time=12.5,
            response_length=512,
            exception=None,
            context={},
            start_time=1.0,
            url="/api",
            response=None,
        )


def _best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _spawning_hook(pool: ListenerPool) -> EventHook[Any]:
    hook = Events().request
    hook.add_listener(_request_listener, spawn=pool)
    return hook


def _calls_per_second_end_to_end() -> float:
    pool = ListenerPool(size=8, maxsize=10_000)
    return _fired_and_run_per_second(_spawning_hook(pool), pool)


def _enqueue_seconds(queued: int) -> float:
    """Seconds per enqueue, averaged over filling the queue from empty to ``queued`` calls
    (nothing yields to the workers meanwhile), the cycle collector on as in a real run."""
    pool = ListenerPool(size=8, maxsize=queued + CALLS_PER_ROUND)
    hook = _spawning_hook(pool)
    _fire_nine(hook.fire)
    pool.join()  # the workers started
    started = time.perf_counter()
    for _ in range(queued // CALLS_PER_ROUND):
        _fire_nine(hook.fire)
    seconds = (time.perf_counter() - started) / queued
    pool.close(timeout=0)
    gc.collect()
    return seconds


def _page_faults() -> int:
    """Page faults this process has taken so far that the kernel served without disk."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


#: An allocator that keeps what is freed: glibc's malloc for every object, told never to give
#: memory back to the kernel. A second fill of the queue then runs on memory the first one
#: already faulted in.
_RETAINING_ALLOCATOR = {"PYTHONMALLOC": "malloc", "MALLOC_TRIM_THRESHOLD_": str(2**40)}

#: The queue lengths the timed enqueue compares.
_FEW, _MANY = 1_000, 1_000_000


def _enqueue_growth() -> tuple[float, float, float]:
    """Seconds per enqueue filling to :data:`_FEW` (best of 5) and to :data:`_MANY`, and the
    page faults per enqueue of the long fill."""
    few = min(_enqueue_seconds(_FEW) for _ in range(5))
    faults_before = _page_faults()
    many = _enqueue_seconds(_MANY)
    return few, many, (_page_faults() - faults_before) / _MANY


def _enqueue_growth_on_used_memory() -> tuple[float, float, float]:
    """:func:`_enqueue_growth` in a process with :data:`_RETAINING_ALLOCATOR`, its long fill
    run once before: the enqueue's own growth, without the kernel's cost of new memory."""
    program = (
        "import logging, callgrind\n"
        "logging.disable(logging.ERROR)\n"
        "callgrind._enqueue_seconds(callgrind._MANY)\n"
        "print(*callgrind._enqueue_growth())"
    )
    printed = subprocess.run(
        [sys.executable, "-c", program],
        env={**os.environ, **_RETAINING_ALLOCATOR},
        cwd=os.path.dirname(os.path.abspath(__file__)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    few, many, faults = (float(word) for word in printed.split())
    return few, many, faults


def pool_timings() -> dict[str, str]:
    """Calls per second end to end, and the enqueue's time with 1,000 vs 1,000,000 queued:
    as Python allocates (its memory new to the process, each new page a fault the kernel
    serves), and on memory a first fill already faulted in."""
    rows = {"fire, then run through the pool": f"{_calls_per_second_end_to_end():,.0f} calls/s"}
    for memory, (few, many, faults) in (
        ("new memory", _enqueue_growth()),
        ("memory in use", _enqueue_growth_on_used_memory()),
    ):
        rows[f"enqueue with {_FEW:,} queued, {memory}"] = f"{few * 1e6:.3f} us/call"
        rows[f"enqueue with {_MANY:,} queued, {memory}"] = (
            f"{many * 1e6:.3f} us/call  {many / few:.2f}x  ({faults:.3f} page faults/call)"
        )
    return rows


#: Fills a pool's queue from empty with ``sys.argv[1]`` spawned calls (nothing yields to the
#: workers meanwhile), the cycle collector on as in a real run: the instructions per enqueue,
#: averaged over the whole fill, are compared between a short queue and a long one.
_FILL_SETUP = (
    _REQUEST_ROUND
    + """
import logging, os
logging.disable(logging.ERROR)
queued = int(sys.argv[1])
pool = ListenerPool(size=8, maxsize=queued + 2_000)
hook = Events().request
hook.add_listener(h, spawn=pool)
fire_round = nine(hook.fire)
fire_round()
pool.join()  # the workers started
for _ in range(queued // 1_000):
    fire_round()
os._exit(0)  # the queued calls are the process's: no clean-up to count
"""
)

#: The queue lengths the fill compares.
FILLS = (10_000, 1_000_000)


def fill_report() -> None:
    """Print the instructions per enqueue while filling to each of :data:`FILLS`."""
    empty = callgrind_instructions("-c", _FILL_SETUP, "0")
    per_enqueue = {
        queued: (callgrind_instructions("-c", _FILL_SETUP, str(queued)) - empty) / queued
        for queued in FILLS
    }
    short = per_enqueue[FILLS[0]]
    print("enqueue, averaged over filling the queue from empty (instructions/enqueue)")
    for queued, count in per_enqueue.items():
        print(f"    filling to {queued:>9,} queued {count:9.1f}  {count / short:6.2f}x")


#: Builds one thread-backed pool case, named by ``sys.argv[1]``, as ``round_``: 1,000 calls of
#: a no-op listener run in threads and waited for, through a ``ListenerPool(8,
#: threads=True)`` or through gevent's own ``ThreadPool(8)``.
_THREADS_SETUP = """
import sys
import gevent.threadpool
from locust_events import EventHook, ListenerPool

def h(**kw):
    pass

case, rounds = sys.argv[1], int(sys.argv[2])
if case == "direct":
    threads = gevent.threadpool.ThreadPool(8)
    threads.spawn(h, n=1).get()
    def round_():
        for result in [threads.spawn(h, n=1) for _ in range(1000)]:
            result.get()
else:
    pool = ListenerPool(size=8, maxsize=10_000, threads=True)
    hook = EventHook("writes")
    hook.add_listener(h, spawn=pool)
    hook.fire(n=1)
    pool.join()
    fire = hook.fire
    def round_():
        for _ in range(1000):
            fire(n=1)
        pool.join()
for _ in range(rounds):
    round_()
"""

#: The thread-backed pool cases: gevent's ``ThreadPool`` is the baseline ("direct").
THREAD_CASES: tuple[tuple[str, str], ...] = (
    ("gevent's ThreadPool(8): spawn, then get", "direct"),
    ("ListenerPool(8, threads=True): fire, then join", "pool"),
)

#: Builds one Listeners-tab case as ``round_``: fire into a spawned listener and run the
#: call, with the registry profiled as the tab profiles it (one call in 100 timed) or not.
_TAB_SETUP = (
    _REQUEST_ROUND
    + """

case, rounds = sys.argv[1], int(sys.argv[2])
events = Events()
pool = ListenerPool(size=8, maxsize=10_000)
events.request.add_listener(h, spawn=pool)
if case == "tab on":
    events.start_profiling(sample_every=100)
fire_round = nine(events.request.fire)
fire_round()
pool.join()
def round_():
    fire_round()
    pool.join()
for _ in range(rounds):
    round_()
"""
)

#: The Listeners-tab cases: the tab off is the baseline ("direct").
TAB_CASES: tuple[tuple[str, str], ...] = (
    ("spawned call, fired and run, tab off", "direct"),
    ("spawned call, fired and run, tab on", "tab on"),
)


def main() -> None:
    """Print every case; ``--signatures`` prints the listener-signature cases only,
    ``--pool`` the spawned-listener cases only, ``--batch`` the batch-listener cases only,
    ``--measure`` the ``measure()`` case only, ``--threads`` the thread-backed pool against
    gevent's ``ThreadPool``, ``--tab`` a spawned call with the Listeners tab on and off,
    ``--fill`` the enqueue's cost with a short and a long queue."""
    if "--pool" in sys.argv[1:]:
        pool_report()
        return
    if "--batch" in sys.argv[1:]:
        batch_report()
        return
    if "--measure" in sys.argv[1:]:
        measure_report()
        return
    if "--threads" in sys.argv[1:]:
        print_cases("thread-backed pool", _THREADS_SETUP, THREAD_CASES, "call")
        return
    if "--fill" in sys.argv[1:]:
        fill_report()
        return
    if "--tab" in sys.argv[1:]:
        print_cases("Listeners tab", _TAB_SETUP, TAB_CASES, "call")
        return
    if "--signatures" not in sys.argv[1:]:
        _main_cases()
        measure_report()
        pool_report()
        batch_report()
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
    results: Timings = {}
    for index, case in enumerate(CASES):
        if (case.group, case.label) not in wanted or case.make() is None:
            continue
        calls = ROUNDS * CALLS_PER_ROUND
        count = instructions(index, ROUNDS) - instructions(index, 0)
        # One count: callgrind repeats to the instruction, there is no spread to show.
        results.setdefault(case.group, {})[case.label] = Timing.of([count / calls])
    print(f"instructions per call under callgrind, {ROUNDS * CALLS_PER_ROUND:,} calls each")
    report(results, print, unit="instructions/call", scale=1.0)


if __name__ == "__main__":
    main()
