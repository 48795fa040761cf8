"""Pool subclasses and long chains of events work on either calling loop, without a crash.

``ListenerPool`` is ``@final`` for type checkers only: a subclass works at runtime, whatever
it declares, beside plain pools. Events that reference each other in a long chain are freed
without deep recursion. These crashed the compiled loop (wrong counts, a heap write out of
bounds, ``SystemError``, an overflowed C stack), so each runs in a child process.

The subclasses below re-declare, or turn into properties, counters that today's pool keeps
in ``__slots__``: they name private fields on purpose, as the layouts a subclass may have. A
name the pool does not keep as a slot is left alone, so they run unchanged on any pool.
"""

from __future__ import annotations

import sys

import pytest

from .child_scenarios import outcome_of, run_child

#: Makes ``SUBCLASS_FIELDS``: those of ``FIELDS`` that ``ListenerPool`` keeps in ``__slots__``.
FIELDS_IN_SLOTS = """
import types
from locust_events import ListenerPool
def slots_of_the_pool(*names):
    return tuple(
        name for name in names
        if isinstance(ListenerPool.__dict__.get(name), types.MemberDescriptorType)
    )
"""


def test_a_pool_subclass_that_redeclares_counter_slots_counts_right_beside_a_plain_pool() -> None:
    outcome = outcome_of(
        FIELDS_IN_SLOTS
        + """
import json, gevent
from locust_events import EventHook
class RecountingPool(ListenerPool):
    # Its own slots of the same names: at other places in the object than the base's.
    __slots__ = slots_of_the_pool("_completed", "_failed", "_dropped", "_high_water")
plain = ListenerPool(size=2, maxsize=100, name="plain pool")
subclassed = RecountingPool(size=2, maxsize=100, name="subclassed pool")
hook, delivered = EventHook("h"), {"plain": 0, "subclassed": 0}
def into_plain(**kwargs):
    gevent.sleep(0)  # the other pool's workers run meanwhile
    delivered["plain"] += 1
def into_subclassed(**kwargs):
    gevent.sleep(0)
    delivered["subclassed"] += 1
hook.add_listener(into_plain, spawn=plain)
hook.add_listener(into_subclassed, spawn=subclassed)
for _ in range(50):
    for n in range(20):
        hook.fire(n=n)
    gevent.sleep(0)
joined = [plain.join(15), subclassed.join(15)]
print(json.dumps({
    "redeclared": list(RecountingPool.__slots__), "joined": joined, "delivered": delivered,
    "completed": [plain.stats.completed, subclassed.stats.completed],
    "failed": [plain.stats.failed, subclassed.stats.failed],
    "high_water": [plain.stats.high_water, subclassed.stats.high_water],
}))
"""
    )
    assert outcome["joined"] == [True, True], outcome
    assert outcome["delivered"] == {"plain": 1000, "subclassed": 1000}, outcome
    assert outcome["completed"] == [1000, 1000], outcome
    assert outcome["failed"] == [0, 0], outcome
    assert all(0 < high_water <= 100 for high_water in outcome["high_water"]), outcome


@pytest.mark.parametrize("field", ["_completed", "_high_water", "_join_deadline"])
def test_a_pool_subclass_with_a_counter_as_a_property_delivers_and_counts_right(
    field: str,
) -> None:
    outcome = outcome_of(
        FIELDS_IN_SLOTS
        + f"""
import json, gevent
from locust_events import EventHook
def kept_elsewhere(name):
    return property(lambda pool: pool._kept, lambda pool, value: setattr(pool, "_kept", value))
fields = slots_of_the_pool({field!r})
PropertyPool = type(
    "PropertyPool",
    (ListenerPool,),
    {{"__slots__": ("_kept",), **{{name: kept_elsewhere(name) for name in fields}}}},
)
pool, hook, delivered = PropertyPool(size=2, maxsize=100, name="property pool"), EventHook("h"), []
def listener(n, **kwargs):
    gevent.sleep(0)
    delivered.append(n)
hook.add_listener(listener, spawn=pool)
for n in range(200):
    hook.fire(n=n)
joined = pool.join(15)  # a join with a deadline: workers look at it between calls
stats = pool.stats
print(json.dumps({{
    "as_property": list(fields), "joined": joined, "delivered": sorted(delivered),
    "completed": stats.completed, "failed": stats.failed, "pending": stats.pending,
}}))
"""
    )
    assert outcome["joined"], outcome
    assert outcome["delivered"] == list(range(200)), outcome
    assert (outcome["completed"], outcome["failed"], outcome["pending"]) == (200, 0, 0), outcome


#: Drops a chain of 10,000 plain dicts, each holding the one before, in a thread with a small
#: C stack: what the interpreter itself can free there, the measure for our events.
_PLAIN_DICT_CHAIN = """
import threading
latest = [None]
for n in range(10_000):
    latest[0] = {"n": n, "previous": latest[0]}
threading.stack_size(256 * 1024)
def drop_the_chain():
    latest[0] = None
thread = threading.Thread(target=drop_the_chain)
thread.start()
thread.join()
"""


def test_dropping_a_chain_of_ten_thousand_batch_events_does_not_overflow_the_c_stack() -> None:
    """Each fire passes the event the listener got last, so each event references the one
    before. The chain is dropped in a thread with a small C stack (256 KiB; musl's default
    is 128 KiB), where freeing it by recursion overflows. Some interpreters (CPython 3.13.0)
    cannot free even a chain of plain dicts there: on those, nothing of ours is to blame."""
    if run_child(_PLAIN_DICT_CHAIN).returncode != 0:
        pytest.skip(
            f"this Python ({sys.version.split()[0]}) cannot free a chain of 10,000 plain dicts "
            "in a thread with a 256 KiB stack itself"
        )
    outcome = outcome_of(
        """
        import json, threading
        from locust_events import EventHook, ListenerPool
        hook, pool, latest = EventHook("h"), ListenerPool(size=1, maxsize=100), [None]
        def keep_the_latest(batch):
            latest[0] = batch[-1]
        hook.add_batch_listener(keep_the_latest, max_size=1, max_wait=60.0, pool=pool)
        for n in range(10_000):
            hook.fire(n=n, previous=latest[0])
            assert pool.join(15)
        length, event = 0, latest[0]
        while event is not None:
            length, event = length + 1, event["previous"]
        threading.stack_size(256 * 1024)
        def drop_the_chain():
            latest[0] = None
        thread = threading.Thread(target=drop_the_chain)
        thread.start()
        thread.join()
        print(json.dumps({"chain": length, "dropped": latest[0] is None}))
        """
    )
    assert outcome == {"chain": 10_000, "dropped": True}
