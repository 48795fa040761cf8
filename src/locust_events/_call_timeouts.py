"""A spawned or batch listener's call under its timeout: run by the workers' round only for
sources that have one, so a pool without timeouts never comes here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gevent

from ._calls import Arguments, Call
from ._implementation import call_with

__all__ = ["CallAbandoned", "run_within"]

#: What runs a call in a thread of a thread-backed pool (``None``: in the worker itself).
InThread = Callable[[Callable[..., Any], Arguments], Any] | None


class CallAbandoned(Exception):
    """A call ran past its timeout and was left behind: the round counts it timed out."""


class _Expired(BaseException):
    """Thrown into the worker by its call's timer: a ``BaseException``, so that a listener's
    ``except Exception`` (or ``except gevent.Timeout``) cannot take it for its own."""


def run_within(call: Call, in_thread: InThread, hub: Any) -> None:
    """Run ``call`` under its source's timeout; raise :class:`CallAbandoned` once it passes.

    The timeout is raised in the worker: in a greenlet listener at its next cooperative wait
    (one that never yields cannot be interrupted), in a thread-backed pool in the worker's
    wait for the thread, which then finishes the call on its own. A timer of ``hub``'s loop
    throws it, as ``gevent.Timeout`` does, for about a third of what that costs to make.
    """
    expired = _Expired()
    timer = hub.loop.timer(call[1].timeout)
    timer.start(gevent.getcurrent().throw, expired)
    try:
        if in_thread is None:
            call_with(call[2], call[3])
        else:
            in_thread(call[2], call[3])
    except _Expired as error:
        if error is not expired:
            raise
        raise CallAbandoned() from None
    finally:
        timer.close()
