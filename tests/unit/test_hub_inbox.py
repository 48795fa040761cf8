"""A hub's inbox: what other threads ask a hub to run, run there in the order asked."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import gevent
import pytest

from locust_events._hub_inbox import HubInbox


def asked_from_a_thread(inbox: HubInbox, ran: list[int], numbers: range) -> None:
    """Ask ``inbox``, from a thread of its own, to note each of ``numbers`` in ``ran``."""
    thread = threading.Thread(target=lambda: [inbox.ask(ran.append, n) for n in numbers])
    thread.start()
    thread.join()


def let_the_hub_run_until(done: Callable[[], bool]) -> None:
    """Yield to the hub until ``done()`` (bounded: a few seconds at most)."""
    for _ in range(5_000):
        if done():
            return
        gevent.sleep(0.001)


def test_what_a_thread_asks_runs_in_the_hub_in_the_order_asked() -> None:
    inbox = HubInbox(keeps_hub_alive=False)
    inbox.bind(gevent.get_hub())
    ran: list[int] = []
    asked_from_a_thread(inbox, ran, range(3))
    assert ran == []  # nothing here yielded to the hub yet
    assert inbox.waiting() == 3
    let_the_hub_run_until(lambda: len(ran) == 3)
    assert ran == [0, 1, 2]
    assert inbox.waiting() == 0
    inbox.close()


def test_what_was_asked_of_a_former_hub_runs_in_the_new_one() -> None:
    """A home thread that ended before running what it was asked leaves it to the next."""
    hub = gevent.get_hub()
    inbox = HubInbox(keeps_hub_alive=False)
    inbox.bind(hub)
    ran: list[int] = []
    asked_from_a_thread(inbox, ran, range(2))
    inbox.bind(hub)  # as a pool moving to a new home does
    let_the_hub_run_until(lambda: len(ran) == 2)
    assert ran == [0, 1]
    inbox.close()


@pytest.mark.parametrize("keeps_hub_alive", [True, False])
def test_it_keeps_the_hub_alive_while_listening_only_if_asked_to(keeps_hub_alive: bool) -> None:
    loop = gevent.get_hub().loop
    before = loop.activecnt
    inbox = HubInbox(keeps_hub_alive=keeps_hub_alive)
    inbox.bind(gevent.get_hub())
    assert inbox.listening
    assert loop.activecnt == before + keeps_hub_alive
    inbox.stop_listening()
    assert not inbox.listening
    assert loop.activecnt == before
    inbox.close()


def test_binding_a_new_hub_closes_the_former_watcher() -> None:
    """A pool that moves home, or starts afresh in a forked child, leaves no watcher behind
    on the former home's loop (counted here on one that keeps the loop alive)."""
    loop = gevent.get_hub().loop
    before = loop.activecnt
    inbox = HubInbox(keeps_hub_alive=True)
    inbox.bind(gevent.get_hub())
    inbox.bind(gevent.get_hub())
    assert loop.activecnt == before + 1
    inbox.close()
    assert loop.activecnt == before
    assert not inbox.listening


def test_a_call_that_raises_is_logged_and_the_rest_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = HubInbox(keeps_hub_alive=False)
    inbox.bind(gevent.get_hub())
    ran: list[str] = []

    def breaks() -> None:
        raise ValueError("broken")

    thread = threading.Thread(
        target=lambda: [
            inbox.ask(ran.append, "before"),
            inbox.ask(breaks),
            inbox.ask(ran.append, "after"),
        ]
    )
    thread.start()
    thread.join()
    with caplog.at_level(logging.ERROR):
        let_the_hub_run_until(lambda: len(ran) == 2)
    assert ran == ["before", "after"]
    assert "A call handed over from another thread raised" in caplog.text
    inbox.close()
