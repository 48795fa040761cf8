"""Durations in logarithmic buckets: a median and a 95th percentile from a bounded sample.

A profile keeps its timed calls here rather than in a list, so its memory is bounded (at most
:data:`BUCKETS` counts, however long the run), two processes' histograms add up bucket by
bucket (a master sums its workers' exactly), and one slow call moves the median by nothing.
Each bucket spans 1/:data:`PER_OCTAVE` of a doubling (9 %): a percentile read from it is the
bucket's geometric middle, within 4.5 % of the true value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

__all__ = ["BUCKETS", "Histogram", "add", "as_pairs", "merge", "quantile"]

#: A histogram: bucket index to the number of durations in it (empty buckets absent).
Histogram = dict[int, int]

#: Buckets per doubling of the duration.
PER_OCTAVE: Final = 8
#: The shortest duration told apart (100 ns); shorter ones share the first bucket.
FLOOR_SECONDS: Final = 1e-7
#: Buckets in all: from 100 ns to about 30 minutes; longer durations share the last.
BUCKETS: Final = PER_OCTAVE * 34


def _bucket(seconds: float) -> int:
    if seconds <= FLOOR_SECONDS:
        return 0
    return min(int(math.log2(seconds / FLOOR_SECONDS) * PER_OCTAVE), BUCKETS - 1)


def add(histogram: Histogram, seconds: float) -> None:
    """Count one duration of ``seconds``."""
    index = _bucket(seconds)
    histogram[index] = histogram.get(index, 0) + 1


def merge(into: Histogram, pairs: Iterable[Iterable[int]]) -> None:
    """Add the ``(bucket, count)`` pairs of another histogram (see :func:`as_pairs`).

    Pairs outside the buckets this version knows are ignored, so a report from a process
    running another version cannot make the histogram grow without bound.
    """
    for pair in pairs:
        index, count = (int(value) for value in pair)
        if 0 <= index < BUCKETS and count > 0:
            into[index] = into.get(index, 0) + count


def as_pairs(histogram: Histogram) -> list[list[int]]:
    """The histogram as ``[[bucket, count], ...]``: plain data that JSON and msgpack carry."""
    return [[index, histogram[index]] for index in sorted(histogram)]


def quantile(histogram: Histogram, fraction: float) -> float | None:
    """The duration (seconds) below which ``fraction`` of the counted ones fall; None if empty.

    The middle of the bucket holding it, in the geometric sense (buckets grow by a ratio).
    """
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for index in sorted(histogram):
        seen += histogram[index]
        if seen >= rank:
            return float(FLOOR_SECONDS * 2 ** ((index + 0.5) / PER_OCTAVE))
    raise AssertionError("unreachable: the ranks add up to the total")  # pragma: no cover
