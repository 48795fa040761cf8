"""The read-only mapping a batch listener gets for each event of its batch.

An event is read from the tuple its fire packed (the values, then the caller's tuple of
keyword names), not copied into a dict: delivering a batch makes one small object per event.
It behaves as a ``types.MappingProxyType`` of a dict of the fire's keyword arguments would:
it is a :class:`~collections.abc.Mapping`, compares equal to any mapping with the same items,
``|`` makes a dict, and it cannot be changed, hashed or pickled (``dict(event)`` can).

Compiled by Cython where a compiler exists, as ``_batching.py`` is: the ``.pxd`` beside it
declares :class:`BatchEvent` a final C type, hence no ``typing.final`` on it.

The cycle collector, compiled: an event, like its packed arguments, is left out of the
collector while its batch is delivered (the batch's list holds it then, so it cannot be
garbage), and handed to it once the listener returns (:func:`collect_after_delivery`): a
delivery costs the collector nothing, and an event the listener kept, with its arguments, is
collected as any object is, a cycle through it included.
"""

from __future__ import annotations

from collections.abc import Callable, ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any, NoReturn

from ._calls import Arguments
from ._implementation import adopt_compiled_twin

__all__ = ["BatchEvent", "batch_of", "collect_after_delivery"]

# The compiled module's are C functions the .pxd defines (as gevent's modules name theirs): an
# object left out of the cycle collector, and given back to it. Pure Python has nothing to do:
# its packed arguments were never left out, and its events are ordinary objects.
_leave_out_of_collector: Callable[[object], None]
_give_to_collector: Callable[[object], None]
locals()["_leave_out_of_collector"] = locals()["_give_to_collector"] = lambda _: None


class BatchEvent:
    """One event of a batch: the keyword arguments of one fire, read-only, in fire order."""

    __slots__ = ("_arguments",)

    def __init__(self, arguments: Arguments) -> None:
        self._arguments: tuple[Any, ...] = arguments

    def _position(self, key: object) -> int:
        """Where ``key``'s value is in the packed arguments, or -1; an unhashable key raises
        ``TypeError``, as a dict's lookup does."""
        names: tuple[str, ...] = self._arguments[-1]
        for position, name in enumerate(names):
            if name is key:
                return position
        if isinstance(key, str):
            for position, name in enumerate(names):
                if name == key:
                    return position
        else:
            hash(key)
        return -1

    def __getitem__(self, key: str) -> Any:
        position = self._position(key)
        if position < 0:
            raise KeyError(key)
        return self._arguments[position]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if the fire did not pass it."""
        position = self._position(key)
        if position < 0:
            return default
        return self._arguments[position]

    def __contains__(self, key: object) -> bool:
        return self._position(key) >= 0

    def __len__(self) -> int:
        return len(self._arguments) - 1

    def __iter__(self) -> Iterator[str]:
        names: tuple[str, ...] = self._arguments[-1]
        return iter(names)

    def __reversed__(self) -> Iterator[str]:
        names: tuple[str, ...] = self._arguments[-1]
        return reversed(names)

    # The views are those of a dict of the items, as a mappingproxy's are: an event never
    # changes, so a snapshot is what a live view would show, and it iterates at C speed.
    def keys(self) -> KeysView[str]:
        """The keyword names, in the fire's order."""
        return self.copy().keys()

    def values(self) -> ValuesView[Any]:
        """The values, in the fire's order."""
        return self.copy().values()

    def items(self) -> ItemsView[str, Any]:
        """The (name, value) pairs, in the fire's order."""
        return self.copy().items()

    def copy(self) -> dict[str, Any]:
        """A new dict of the event's items (which, unlike the event, can be changed)."""
        arguments = self._arguments
        names = arguments[-1]
        items = {}
        for position in range(len(names)):
            items[names[position]] = arguments[position]
        return items

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.copy() == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __or__(self, other: object) -> dict[str, Any]:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = self.copy()
        merged.update(other)
        return merged

    def __ror__(self, other: object) -> dict[str, Any]:
        if not isinstance(other, Mapping):
            return NotImplemented
        merged = dict(other)
        merged.update(self.copy())
        return merged

    def __ior__(self, other: object) -> NoReturn:
        raise TypeError(
            f"'|=' is not supported by {type(self).__name__}, an event of a batch, which is "
            "read-only; use '|', which makes a new dict"
        )

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(
            f"cannot pickle a {type(self).__name__}, an event of a batch: pickle dict(event)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.copy()!r})"

    def __str__(self) -> str:
        return str(self.copy())


Mapping.register(BatchEvent)


def batch_of(events: list[Arguments]) -> list[BatchEvent]:
    """A new list of a :class:`BatchEvent` of each packed fire in ``events``, in their order,
    out of the cycle collector until :func:`collect_after_delivery`."""
    batch = []
    for arguments in events:
        event = BatchEvent.__new__(BatchEvent)  # compiled: allocated straight, no __init__ call
        event._arguments = arguments
        _leave_out_of_collector(event)
        batch.append(event)
    return batch


def collect_after_delivery(batch: list[BatchEvent]) -> None:
    """Give the events of ``batch``, whose listener returned, and their arguments, to the
    cycle collector: those the listener kept are then collected like any object."""
    for event in batch:
        _give_to_collector(event._arguments)
        _give_to_collector(event)


adopt_compiled_twin(globals(), "locust_events._batch_event_compiled")
