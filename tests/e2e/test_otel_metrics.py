"""With Locust's ``--otel``, the pools report their figures as OpenTelemetry metrics.

Read through an in-memory metric reader, never a network exporter. Each scenario runs in a
child process: the global meter provider can be set once per process, and importing Locust
would monkey-patch the test process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

from .locust_support import GRACE, needs_locust

#: Runs a pool into waits, time-outs and drops, then prints what the reader collected as
#: JSON: ``{"name|attr=value,...": value}``. ``SETUP`` gives ``registry`` and ``provider``.
_CHILD = """
import json
import gevent, gevent.event
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from locust_events import Events, ListenerPool

reader = InMemoryMetricReader()
provider = MeterProvider(metric_readers=[reader])
SETUP
never = gevent.event.Event()
slow = ListenerPool(size=1, maxsize=1, name="webhook pool", timeout=0.05)
lossy = ListenerPool(size=1, maxsize=1, on_full="drop", name="lossy pool")
registry.request.add_listener(lambda **kwargs: gevent.sleep(0), spawn=lossy)  # fills first
registry.request.add_listener(lambda **kwargs: never.wait(), spawn=slow)
users = [gevent.spawn(registry.request.fire, n=n) for n in range(4)]
gevent.joinall(users, timeout=60)
registry.join(timeout=60)
figures = {}
data = reader.get_metrics_data()
for resource in data.resource_metrics if data is not None else ():
    for scope in resource.scope_metrics:
        for metric in scope.metrics:
            for point in metric.data.data_points:
                attributes = ",".join(f"{k}={v}" for k, v in sorted(point.attributes.items()))
                figures[f"{metric.name}|{attributes}"] = point.value
print(json.dumps({"figures": figures, "waited": slow.stats.waited,
                  "lossy": [lossy.stats.completed, lossy.stats.dropped]}))
"""


def _run(setup: str) -> dict[str, Any]:
    script = _CHILD.replace("SETUP", textwrap.dedent(setup))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=GRACE, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _check(outcome: dict[str, Any]) -> None:
    figures, waited = outcome["figures"], outcome["waited"]
    prefix = "locust_events.pool"
    assert figures[f"{prefix}.queue.capacity|pool=webhook pool"] == 1
    assert figures[f"{prefix}.queue.size|pool=webhook pool"] == 0
    assert figures[f"{prefix}.calls|outcome=timed_out,pool=webhook pool"] == 4
    assert figures[f"{prefix}.calls|outcome=failed,pool=webhook pool"] == 0
    assert figures[f"{prefix}.calls|outcome=completed,pool=webhook pool"] == 0
    assert 2 <= waited <= 3  # room for one queued: the others wait (the first, perhaps)
    assert figures[f"{prefix}.users.waited|pool=webhook pool"] == waited
    assert figures[f"{prefix}.users.time_waited|pool=webhook pool"] > 0.0
    completed, dropped = outcome["lossy"]
    assert completed + dropped == 4
    assert dropped >= 1
    assert figures[f"{prefix}.dropped|pool=lossy pool,reason=full"] == dropped
    assert figures[f"{prefix}.dropped|pool=lossy pool,reason=closed"] == 0
    assert figures[f"{prefix}.calls|outcome=completed,pool=lossy pool"] == completed


def test_every_pool_of_a_registry_reports_its_figures_read_from_its_stats() -> None:
    _check(
        _run(
            """
            from locust_events._otel_metrics import observe_pools
            registry = Events()
            assert observe_pools(registry, provider)
            assert not observe_pools(registry, provider)  # once per registry
            """
        )
    )


@needs_locust
def test_locust_with_otel_reports_the_pools_as_its_init_fires() -> None:
    _check(
        _run(
            """
            import types
            from opentelemetry import metrics
            metrics.set_meter_provider(provider)  # as Locust's --otel set-up does
            from locust.env import Environment
            from locust_events.locust import environment_events
            registry = environment_events(Events())
            environment = Environment(events=registry)
            environment.parsed_options = types.SimpleNamespace(otel=True)
            registry.init.fire(environment=environment, runner=None, web_ui=None)
            """
        )
    )


@needs_locust
def test_without_otel_no_instrument_is_made() -> None:
    outcome = _run(
        """
        import types
        from opentelemetry import metrics
        metrics.set_meter_provider(provider)
        from locust.env import Environment
        from locust_events.locust import environment_events
        registry = environment_events(Events())
        environment = Environment(events=registry)
        environment.parsed_options = types.SimpleNamespace(otel=False)
        registry.init.fire(environment=environment, runner=None, web_ui=None)
        """
    )
    assert not [name for name in outcome["figures"] if name.startswith("locust_events.")]
