"""``fire`` and ``measure()`` with Locust's nine request keyword arguments, beside direct calls.

The cases live in :mod:`locust_events.tools.bench`, which ``python -m locust_events bench``
times too.
"""

from __future__ import annotations

import pytest

from locust_events.tools.bench import CASES, Case

from .conftest import Measure


@pytest.mark.parametrize("case", CASES, ids=[f"{case.group}: {case.label}" for case in CASES])
def test_case(measure: Measure, case: Case) -> None:
    round_ = case.make()
    if round_ is None:
        pytest.skip(f"{case.label}: not built or not installed here")
    measure(case.group, case.label, round_)
