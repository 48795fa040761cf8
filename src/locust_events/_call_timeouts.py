"""A spawned or batch listener's call under its timeout: run by the workers' round only for
sources that have one, so a pool without timeouts never comes here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gevent

from ._calls import Call

__all__ = ["CallAbandoned", "run_within"]

#: What runs a call in a thread of a thread-backed pool (``None``: in the worker itself).
InThread = Callable[[Callable[..., Any], Mapping[str, Any]], Any] | None


class CallAbandoned(Exception):
    """A call ran past its timeout and was left behind: the round counts it timed out."""


def run_within(call: Call, in_thread: InThread) -> None:
    """Run ``call`` under its source's timeout; raise :class:`CallAbandoned` once it passes.

    The timeout is raised in the worker: in a greenlet listener at its next cooperative wait
    (one that never yields cannot be interrupted), in a thread-backed pool in the worker's
    wait for the thread, which then finishes the call on its own. Only this timeout counts:
    one the listener started itself propagates as it would.
    """
    timer = gevent.Timeout(call[1].timeout)
    timer.start()
    try:
        if in_thread is None:
            call[2](**call[3])
        else:
            in_thread(call[2], call[3])
    except gevent.Timeout as error:
        if error is not timer:
            raise
        raise CallAbandoned() from None
    finally:
        timer.close()
