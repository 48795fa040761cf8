"""Thread-backed pools (``ListenerPool(threads=True)``) when their listeners misbehave.

A listener stuck in a real blocking wait, one that raises ``KeyboardInterrupt`` or
``SystemExit``, and one that fails on every call: ``close`` still returns by its timeout, an
interrupt reaches the main greenlet at most once, and failures are reported by the hook's
error policy only. Each scenario runs in a child process (``child_scenarios``): a regression
here hangs, or interrupts whoever runs it.
"""

from __future__ import annotations

import pytest

from .child_scenarios import outcome_of, run_child


def test_close_returns_by_its_timeout_while_a_thread_listener_is_stuck() -> None:
    """A close that never returns fails the child's time limit; how long it took is printed
    for the failure message only, never compared with a clock."""
    outcome = outcome_of(
        """
        import json, threading, time, gevent
        from locust_events import EventHook, ListenerPool
        hook, pool = EventHook("h"), ListenerPool(size=1, threads=True, name="writer pool")
        started, released = threading.Event(), threading.Event()  # real, unpatched
        def stuck(**kwargs):
            started.set()
            released.wait()  # a blocking wait nobody ends while close runs
        hook.add_listener(stuck, spawn=pool)
        hook.fire(n=1)
        for _ in range(15_000):  # capped at about 15 s; at once when it works
            if started.is_set():
                break
            gevent.sleep(0.001)
        began = time.monotonic()
        delivered = pool.close(1.0)
        took = time.monotonic() - began
        stats = pool.stats
        released.set()  # let the thread end, so the process can exit
        print(json.dumps({
            "started": started.is_set(), "delivered": delivered, "took": took,
            "failed": stats.failed, "completed": stats.completed,
            "pending": stats.pending, "running": stats.running,
        }))
        """
    )
    assert outcome["started"], outcome
    assert outcome["delivered"] is False, outcome
    assert (outcome["failed"], outcome["completed"]) == (1, 0), outcome
    assert (outcome["pending"], outcome["running"]) == (0, 0), outcome


@pytest.mark.parametrize("interruption", ["KeyboardInterrupt", "SystemExit"])
def test_an_interrupt_raised_in_a_thread_listener_reaches_the_main_greenlet_at_most_once(
    interruption: str,
) -> None:
    outcome = outcome_of(
        f"""
        import json, gevent
        from locust_events import EventHook, ListenerPool
        hook, pool = EventHook("h"), ListenerPool(size=1, threads=True, name="writer pool")
        def interrupted(**kwargs):
            raise {interruption}()
        hook.add_listener(interrupted, spawn=pool)
        hook.fire(n=1)
        caught, joined = [], None
        for attempt in range(3):  # each a clean-up join after catching Ctrl-C
            try:
                joined = pool.join(15)
                break
            except {interruption}:
                caught.append(attempt)
        stats = pool.stats
        print(json.dumps({{
            "caught": len(caught), "joined": joined, "failed": stats.failed,
            "completed": stats.completed, "pending": stats.pending, "running": stats.running,
        }}))
        """
    )
    assert outcome["caught"] <= 1, outcome
    assert outcome["joined"] is True, outcome
    assert (outcome["failed"], outcome["completed"]) == (1, 0), outcome
    assert (outcome["pending"], outcome["running"]) == (0, 0), outcome


def test_thread_listener_failures_are_logged_by_the_error_policy_not_printed_per_call() -> None:
    run = run_child(
        """
        import io, json, logging, sys
        from locust_events import EventHook, ListenerPool
        log = io.StringIO()
        logging.basicConfig(stream=log, level=logging.INFO)  # the log goes here, not stderr
        hook, pool = EventHook("h"), ListenerPool(size=2, threads=True, name="writer pool")
        def write(n, **kwargs):
            raise RuntimeError(f"database is down ({n})")
        hook.add_listener(write, spawn=pool)
        for n in range(20):
            hook.fire(n=n)
        joined = pool.join(15)
        print(json.dumps({
            "joined": joined, "failed": pool.stats.failed, "error_count": hook.error_count,
            "logged_tracebacks": log.getvalue().count("Traceback"),
            "logged_the_error": "database is down" in log.getvalue(),
        }))
        """
    )
    assert run.returncode == 0, str(run)
    outcome = run.outcome
    assert outcome["joined"], outcome
    assert (outcome["failed"], outcome["error_count"]) == (20, 20), outcome
    # The error policy: the first error logged with its traceback, then a count.
    assert outcome["logged_the_error"], outcome
    assert outcome["logged_tracebacks"] == 1, outcome
    assert "Traceback" not in run.stderr, str(run)
    assert "database is down" not in run.stderr, str(run)
