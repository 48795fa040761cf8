"""The warning for listeners Locust would never call: ours, in a Locust run without the switch.

Imported where Locust is already imported (a locustfile: Locust imports it, then fires
``init``), ``locust_events`` adds this one listener to Locust's own ``init``. If Locust's
hooks are still its own when ``init`` fires (``locust_events.locust`` was never imported) and
listeners are registered on the global ``locust_events.events``, it logs once, naming the
files, the listeners and the line that fixes it. Otherwise it does nothing: it changes no
hook, no fire and no exit code. The switch takes it off again.
"""

from __future__ import annotations

import inspect
import sys
from typing import TYPE_CHECKING, Any

from ._errors import describe_listener, log_safely
from ._text import readable_path

if TYPE_CHECKING:
    from ._events import Events

__all__ = ["FIX", "unswitched_listeners", "warn_if_unswitched", "watch_locust"]

#: The one line that puts Locust on this dispatcher.
FIX = "import locust_events.locust"

#: The registry watched (the global one), once :func:`watch_locust` ran.
_watched: list[Events] = []
#: Whether the warning was logged in this process.
_warned: list[bool] = []


def _where(listener: object) -> str | None:
    """``file:line`` of a listener's code, as a person opens it; ``None`` when unknown."""
    try:
        target: Any = inspect.unwrap(getattr(listener, "__func__", listener))  # type: ignore[arg-type]
        code = getattr(getattr(target, "__func__", target), "__code__", None)
        if code is not None:
            return f"{readable_path(code.co_filename)}:{code.co_firstlineno}"
        file = inspect.getsourcefile(type(target))
        return None if file is None else readable_path(file)
    except Exception:  # a listener that cannot be inspected is still named
        return None


def unswitched_listeners(registry: Events) -> list[tuple[str, str, str | None]]:
    """Each listener of ``registry`` as (hook, listener's name, ``file:line`` or ``None``)."""
    return [
        (name, describe_listener(registration.listener), _where(registration.listener))
        for name, hook in registry.hooks.items()
        for registration in hook.registrations
    ]


def _switched(registry: Events) -> bool:
    locust = sys.modules.get("locust")
    theirs = getattr(locust, "events", None)
    return theirs is None or getattr(theirs, "request", None) is registry.hooks.get("request")


def warn_if_unswitched(environment: Any = None, **kwargs: Any) -> None:
    """Locust's ``init`` listener: log once if our listeners would never be called."""
    if _warned or not _watched:
        return
    registry = _watched[0]
    if _switched(registry):
        return
    options = getattr(environment, "parsed_options", None)
    if getattr(options, "processes", None) and getattr(options, "worker", False):
        return  # a worker forked by --processes: its master says it, once
    listeners = unswitched_listeners(registry)
    if not listeners:
        return
    _warned.append(True)
    files = sorted({where.rsplit(":", 1)[0] for _, _, where in listeners if where})
    named = "; ".join(
        f"{hook}: {name}" + (f" ({where})" if where else "") for hook, name, where in listeners
    )
    log_safely(
        "warning",
        "%s registers %d listener(s) on locust_events.events that Locust never calls, because "
        "Locust's own hooks are still its own in this run: %s. Fix: add '%s' at the top of "
        "%s, above the code that registers listeners.",
        ", ".join(files) or "the locustfile",
        len(listeners),
        named,
        FIX,
        ", ".join(files) or "the locustfile",
    )


def watch_locust(registry: Events) -> None:
    """Add :func:`warn_if_unswitched` to Locust's own ``init``, where Locust is imported."""
    locust = sys.modules.get("locust")
    init = getattr(getattr(locust, "events", None), "init", None)
    if init is None or _watched:
        return
    _watched.append(registry)
    if init is registry.hooks.get("init"):
        return  # switched already
    try:
        init.add_listener(warn_if_unswitched)
    except Exception:  # a Locust we do not know: say nothing rather than fail the import
        _watched.clear()
