"""Every example's request listeners take a request without a duration (``response_time``
``None``, as Locust 2.47 lets asynchronous clients fire), without a listener error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .locust_support import EXAMPLES, child_environment, needs_locust

pytestmark = needs_locust

#: Fires one request without a duration into the example's listeners (then ``test_stop``
#: where the example's report reads what they recorded), and prints the listener errors.
FIRE_WITHOUT_DURATION = """
import runpy, sys, time, types
path, then_stop = sys.argv[1], sys.argv[2] == "stop"
runpy.run_path(path, run_name="example")
import locust_events
events = locust_events.events
for exception in (None, ConnectionError("reset")):
    events.request.fire(
        request_type="async", name="/later", response_time=None, response_length=0,
        exception=exception, context={}, start_time=time.time(), url=None, response=None,
    )
if then_stop:
    events.test_stop.fire(environment=types.SimpleNamespace(host="http://127.0.0.1", stats=None))
assert events.join(30)
print("listener errors:", events.error_count)
"""


@pytest.mark.parametrize(
    ("example", "then_stop", "env"),
    [
        ("quickstart.py", True, {}),
        ("custom_metrics.py", True, {}),
        ("custom_statistics.py", True, {}),
        ("environment_handlers.py", False, {"TEST_ENV": "staging"}),
        ("environment_handlers.py", False, {"TEST_ENV": "development"}),
        ("sqlite_batches.py", False, {}),
        ("distributed.py", False, {}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_an_examples_listeners_take_a_request_without_a_duration(
    example: str, then_stop: bool, env: dict[str, str], tmp_path: Path
) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(FIRE_WITHOUT_DURATION),
            str(EXAMPLES / example),
            "stop" if then_stop else "go on",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=child_environment(**env),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "listener errors: 0" in completed.stdout, completed.stdout + completed.stderr
