"""What the doctor finds: each hook, its listeners and how they behaved, and the problems."""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from ..._errors import describe_listener
from ..._text import readable_path

__all__ = [
    "EXIT_CANNOT_IMPORT",
    "EXIT_CLEAN",
    "EXIT_PROBLEMS",
    "LOCUSTS",
    "OURS",
    "Hook",
    "Listener",
    "Problem",
    "Report",
    "Timing",
]

#: How the report names the two registries: ours, and Locust's when its hooks are its own.
OURS: Final = "locust_events.events"
LOCUSTS: Final = "locust.events"
#: The exit statuses: nothing found, problems found, the locustfile cannot be examined.
EXIT_CLEAN: Final = 0
EXIT_PROBLEMS: Final = 1
EXIT_CANNOT_IMPORT: Final = 2


@dataclass
class Timing:
    """How one synchronous listener behaved when the doctor called it."""

    #: "ok", "over budget", "network", "timeout", "blocks" or "raises".
    verdict: str
    #: Median time per call in microseconds; ``None`` when the first call went wrong.
    median_us: float | None
    #: How many calls were timed (a batch cut short by a problem is not counted).
    calls: int
    #: What a person reads.
    detail: str
    #: Whether the hook runs once per run or test (``init``, ``test_start``...): called once,
    #: and judged without the per-call budget.
    once: bool = False


@dataclass
class Listener:
    """One registration of a listener on one hook."""

    hook: str
    registry: str
    func: Callable[..., Any] = field(repr=False)
    #: "sync", or "spawned" or "batched" into :attr:`pool`.
    runs: str = "sync"
    pool: str | None = None
    #: Batch listeners: the most events per batch, and the longest a batch waits (seconds).
    batch_max_size: int | None = None
    batch_max_wait: float | None = None
    #: Spawned and batch listeners: seconds a call may run before it is abandoned.
    timeout: float | None = None
    #: "ok", "invalid", "needs undeclared" (it requires names the hook does not declare:
    #: only fires that pass them, a custom client's, can call it), or "not checked" when the
    #: hook declares nothing.
    signature: str = "not checked"
    #: The names it requires that the hook does not declare.
    requires_undeclared: tuple[str, ...] = ()
    #: The names a fire calls it with, where it takes only some of what the hook passes.
    takes: frozenset[str] | None = None
    timing: Timing | None = None
    name: str = field(init=False)
    file: str | None = field(init=False)
    line: int | None = field(init=False)

    def __post_init__(self) -> None:
        self.name = describe_listener(self.func)
        self.file, self.line = _location(self.func)

    @property
    def where(self) -> str:
        """``file:line`` as a person opens it: relative to the working directory when inside it,
        else to the import path entry (``site-packages``) that holds it."""
        if self.file is None:
            return "unknown"
        file = readable_path(self.file)
        return f"{file}:{self.line}" if self.line is not None else file

    def as_json(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "registry": self.registry,
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "runs": self.runs,
            "pool": self.pool,
            "batch": None
            if self.batch_max_size is None
            else {"max_size": self.batch_max_size, "max_wait": self.batch_max_wait},
            "timeout": self.timeout,
            "signature": self.signature,
            "requires_undeclared": list(self.requires_undeclared),
            "timing": None if self.timing is None else vars(self.timing),
        }


@dataclass
class Hook:
    """One hook of one registry and the listeners registered on it."""

    name: str
    registry: str
    #: The keyword arguments its fires pass (our declaration), ``None`` when undeclared.
    passes: tuple[str, ...] | None
    listeners: list[Listener]


@dataclass
class Problem:
    """Something that makes the exit status 1, with what to do about it; also the shape of
    a note, which does not."""

    #: "invalid signature", or a :class:`Timing` verdict other than "ok"; for a note,
    #: "undeclared keyword".
    kind: str
    listener: Listener
    message: str
    fix: str

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "hook": self.listener.hook,
            "registry": self.listener.registry,
            "listener": self.listener.name,
            "where": self.listener.where,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class Report:
    """Everything the doctor found in one locustfile."""

    locustfile: str
    locust_version: str
    #: Whether ``locust.events`` has our hooks (the integration is on) or Locust's own.
    shared: bool
    budget_us: float
    time_limit: float
    timed_hooks: list[str]
    hooks: list[Hook]
    problems: list[Problem] = field(default_factory=list)
    #: What a person should know that is no problem (the exit status ignores them): listeners
    #: requiring names their hook does not declare, which only some fires may pass.
    notes: list[Problem] = field(default_factory=list)
    #: The hooks fired as Locust fires them at start-up, before the listing.
    fired_hooks: list[str] = field(default_factory=list)
    #: Hooks whose listeners must run in place (spawning them is refused).
    in_place_hooks: frozenset[str] = frozenset()

    @property
    def listeners(self) -> list[Listener]:
        return [listener for hook in self.hooks for listener in hook.listeners]

    @property
    def exit_status(self) -> int:
        return EXIT_PROBLEMS if self.problems else EXIT_CLEAN

    def summary(self) -> str:
        if not self.problems:
            return f"clean: {len(self.listeners)} listener(s), no problem found"
        kinds: dict[str, int] = {}
        for problem in self.problems:
            kinds[problem.kind] = kinds.get(problem.kind, 0) + 1
        counted = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        return f"{len(self.problems)} problem(s): {counted}"


def _location(func: Callable[..., Any]) -> tuple[str | None, int | None]:
    """The file and first line of a listener's code, from ``inspect``; ``None`` when unknown."""
    target: Any = getattr(func, "__func__", func)
    while isinstance(target, functools.partial):
        target = target.func
    with contextlib.suppress(ValueError):
        target = inspect.unwrap(target)
    if not (inspect.isfunction(target) or inspect.isclass(target)):
        target = type(target)  # a callable object: its class is where to look
    try:
        file = inspect.getsourcefile(target) or inspect.getfile(target)
    except TypeError:
        return None, None
    code = getattr(target, "__code__", None)
    if code is not None:
        return file, int(code.co_firstlineno)
    try:
        return file, inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return file, None
