"""Bad batch-listener and pool settings: refused with an error naming the hook or pool, the
parameter and the fix, or accepted and working, the same on both calling loops; never a bare
``OverflowError``, events lost, or a listener that would never run counted as delivered."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import pytest

from locust_events import BatchSettings, EventHook, Events

from .child_scenarios import run_child


def test_a_max_wait_too_large_for_a_float_is_refused_naming_hook_listener_and_fix() -> None:
    hook = EventHook("my_event")

    def write_rows(batch: list[Mapping[str, Any]]) -> None: ...

    with pytest.raises((ValueError, TypeError)) as refused:
        hook.add_batch_listener(write_rows, max_wait=10**400)
    assert not isinstance(refused.value, OverflowError)
    message = str(refused.value)
    assert "'my_event'" in message
    assert "write_rows" in message
    assert "max_wait" in message
    assert "pass " in message  # the fix, e.g. "pass e.g. max_wait=1.0"
    assert hook.registrations == ()


#: Fires 25 events into a batch listener of a pool with ``maxsize`` and ``max_size`` given on
#: the command line; prints what became of the pool, the listener and the events.
HUGE_SETTINGS = """
import json, sys
from locust_events import EventHook, ListenerPool
maxsize, max_size = int(sys.argv[1]), int(sys.argv[2])
outcome = {}
def attempt(step, make):
    try:
        made = make()
    except BaseException as error:
        outcome[step] = [type(error).__name__, str(error)]
        return None
    outcome[step] = "accepted"
    return made
pool = attempt("pool", lambda: ListenerPool(size=1, maxsize=maxsize, name="huge pool"))
hook, delivered = EventHook("my_event"), []
def write_rows(batch):
    delivered.extend(event["n"] for event in batch)
if pool is not None and attempt(
    "listener",
    lambda: hook.add_batch_listener(write_rows, max_size=max_size, max_wait=60.0, pool=pool),
):
    for n in range(25):
        hook.fire(n=n)
    stats = (pool.join(15), pool.stats)
    outcome.update(
        joined=stats[0], delivered=delivered, submitted=stats[1].submitted,
        completed=stats[1].completed, pending=stats[1].pending, dropped=stats[1].dropped,
    )
print(json.dumps(outcome))
"""


def outcome_on_each_loop(maxsize: int, max_size: int) -> dict[str, dict[str, Any]]:
    """What ``HUGE_SETTINGS`` gives on the pure and on the compiled loop (the compiled one
    where the extension is built; else both are the pure one)."""
    outcomes = {}
    source = f"import sys; sys.argv[1:] = [{maxsize!r}, {max_size!r}]\n" + HUGE_SETTINGS
    for loop, pure in (("pure", "1"), ("compiled", None)):
        run = run_child(source, environment={"LOCUST_EVENTS_PURE": pure})
        assert run.returncode == 0, str(run)
        outcomes[loop] = run.outcome
    return outcomes


def assert_works_or_refused_clearly(outcome: dict[str, Any], parameters: tuple[str, ...]) -> None:
    """Accepted: all 25 events delivered and counted. Refused: a ValueError (or TypeError)
    naming one of ``parameters`` and the pool or the hook."""
    for step in ("pool", "listener"):
        answer = outcome.get(step)
        if answer is None or answer == "accepted":
            continue
        kind, message = answer
        assert kind in ("ValueError", "TypeError"), outcome  # not a bare OverflowError
        assert any(parameter in message for parameter in parameters), outcome
        assert "'huge pool'" in message or "'my_event'" in message, outcome
        return
    assert outcome["joined"], outcome
    assert outcome["delivered"] == list(range(25)), outcome
    assert (outcome["submitted"], outcome["completed"]) == (25, 25), outcome
    assert (outcome["pending"], outcome["dropped"]) == (0, 0), outcome


@pytest.mark.parametrize(
    ("maxsize", "max_size", "parameters"),
    [(2**70, 2**64, ("maxsize", "max_size")), (2**64, 10, ("maxsize",))],
    ids=["max_size-2**64-in-a-pool-of-2**70", "pool-maxsize-2**64"],
)
def test_a_huge_maxsize_or_max_size_works_or_is_refused_clearly_and_alike_on_both_loops(
    maxsize: int, max_size: int, parameters: tuple[str, ...]
) -> None:
    outcomes = outcome_on_each_loop(maxsize, max_size)
    for outcome in outcomes.values():
        assert_works_or_refused_clearly(outcome, parameters)
    pure, compiled = outcomes["pure"], outcomes["compiled"]
    assert (pure.get("pool"), pure.get("listener")) == (
        compiled.get("pool"),
        compiled.get("listener"),
    ), outcomes


async def async_batch_listener(batch: list[Any]) -> None:
    pass


def generator_batch_listener(batch: list[Any]) -> Iterator[None]:
    yield


async def async_generator_batch_listener(batch: list[Any]) -> AsyncIterator[None]:
    yield


class AsyncBatchCallable:
    async def __call__(self, batch: list[Any]) -> None:
        pass


@pytest.mark.parametrize(
    "listener",
    [
        async_batch_listener,
        generator_batch_listener,
        async_generator_batch_listener,
        functools.partial(async_batch_listener),
        functools.partial(generator_batch_listener),
        AsyncBatchCallable(),
    ],
    ids=[
        "async-def",
        "generator",
        "async-generator",
        "partial-of-async",
        "partial-of-generator",
        "async-call",
    ],
)
def test_batch_listeners_that_would_never_run_are_refused_as_add_listener_refuses_them(
    listener: Any,
) -> None:
    registry = Events()
    with pytest.raises(TypeError) as refused:
        registry.request.add_batch_listener(listener, max_size=10)
    message = str(refused.value)
    assert "'request'" in message
    assert "plain 'def'" in message
    assert registry.request.registrations == ()
    assert registry.pool.stats.submitted == 0


def test_batch_listener_without_parentheses_registers_with_the_default_settings() -> None:
    """``@hook.batch_listener`` written like ``@hook.batch_listener()``: it works (what we
    want), or a TypeError says to add the parentheses, naming the hook and the listener;
    never Python's "takes 1 positional argument but 2 were given"."""
    registry = Events()
    hook = registry.add_hook("export")
    delivered: list[dict[str, Any]] = []
    try:

        @hook.batch_listener  # type: ignore[arg-type]
        def write_rows(batch: list[Mapping[str, Any]]) -> None:
            delivered.extend(dict(event) for event in batch)

    except TypeError as refused:
        message = str(refused)
        assert "positional argument" not in message, message
        assert "batch_listener()" in message, message
        assert "'export'" in message, message
        assert "write_rows" in message, message
        assert hook.registrations == ()
        return
    assert callable(write_rows)
    assert write_rows.__name__ == "write_rows"  # the decorator returns the function
    (registration,) = hook.registrations
    assert registration.batch == BatchSettings(max_size=1000, max_wait=1.0)
    hook.fire(n=1)
    hook.fire(n=2)
    assert registry.join(timeout=30)
    assert delivered == [{"n": 1}, {"n": 2}]
