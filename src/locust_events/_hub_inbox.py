"""What other threads ask one hub to run: a queue they fill and one watcher that tells the
hub, which runs what they asked in order. Serves the hand-over of fires from other threads
and a thread-backed pool's finished calls alike."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, final

from ._errors import log_safely

__all__ = ["HubInbox"]


@final
class HubInbox:
    """Calls other threads ask a hub to make, made there in the order asked.

    Only the watcher's ``send``, which libev makes safe across threads, touches the hub's
    loop from another thread. gevent's ``run_callback_threadsafe`` also counts a callback
    into the loop from the calling thread, racing the hub's own loop, which could then end
    with a timer still pending: a greenlet sleeping there got ``LoopExit``.

    While :meth:`listen` is on, the watcher keeps the hub's loop running if
    ``keeps_hub_alive``, as a pending call would; otherwise it does not, as gevent's own
    thread-safe callbacks do not.
    """

    __slots__ = ("_asked", "_keeps_hub_alive", "_signal")

    def __init__(self, keeps_hub_alive: bool) -> None:
        self._keeps_hub_alive = keeps_hub_alive
        #: What other threads asked, oldest first: each a function and its arguments.
        self._asked: deque[tuple[Callable[..., None], tuple[Any, ...]]] = deque()
        self._signal: Any = None

    def bind(self, hub: Any) -> None:
        """Make ``hub`` the one that runs what is asked, listening; what was asked of the
        former hub and not run yet runs there. The former hub's watcher is closed: its
        thread ended (its loop runs no more), or this is a forked child."""
        self.close()
        signal = hub.loop.async_()
        signal.ref = self._keeps_hub_alive
        self._signal = signal
        self.listen()
        if self._asked:
            signal.send()

    def listen(self) -> None:
        """In the hub: run what is asked as it is asked."""
        if not self._signal.active:
            self._signal.start(self._run_what_was_asked)

    def stop_listening(self) -> None:
        """In the hub: let what is asked wait (and the loop end) until :meth:`listen`."""
        self._signal.stop()

    @property
    def listening(self) -> bool:
        return self._signal is not None and bool(self._signal.active)

    def close(self) -> None:
        """Close the watcher, if any; what was asked and not run yet stays for :meth:`bind`."""
        signal, self._signal = self._signal, None
        if signal is not None:
            signal.close()

    def clear(self) -> None:
        """Forget what was asked and not run (a forked child: the parent asked it)."""
        self._asked.clear()

    def waiting(self) -> int:
        """How many calls were asked and have not run yet."""
        return len(self._asked)

    def ask(self, function: Callable[..., None], *args: Any) -> None:
        """From any thread: have the hub run ``function(*args)``, in the order asked."""
        self._asked.append((function, args))
        self._signal.send()

    def _run_what_was_asked(self) -> None:
        asked = self._asked
        while asked:
            function, args = asked.popleft()
            try:
                function(*args)
            except Exception as error:  # a hub callback must not raise
                log_safely("error", "A call handed over from another thread raised", exc_info=error)
