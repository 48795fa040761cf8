"""Locust's own idioms, run on our dispatcher: what works on stock Locust works the same here.

Listeners written to Locust's shapes, fired as Locust's runners fire them; environments,
runners and ``mock.patch.object`` as Locust's own tests use them. Each test runs a script in a
child Python (importing Locust monkey-patches the process), on the loop this run selected.
"""

from __future__ import annotations

import json
import textwrap

from locust_events import COMPILED
from locust_events.tools.request_payload import REQUEST_NAMES, REQUEST_PAYLOAD

from .locust_support import free_port, needs_locust
from .test_locust_switch import run_script

pytestmark = needs_locust

#: How Locust fires each of its eighteen hooks (the names its runners, clients and main
#: pass), with a value per name; ``reverse`` where Locust passes it.
LOCUST_FIRES = """
import time
from locust_events.tools.request_payload import REQUEST_PAYLOAD
LOCUST_FIRES = {
    "request": dict(REQUEST_PAYLOAD),
    "user_error": dict(user_instance="user", exception=ValueError("x"), tb=None),
    "report_to_master": dict(client_id="w1", data={}),
    "worker_report": dict(client_id="w1", data={}),
    "worker_connect": dict(client_id="w1"),
    "spawning_complete": dict(user_count=3),
    "quitting": dict(environment="env", reverse=True),
    "quit": dict(exit_code=0),
    "init": dict(environment="env", runner=None, web_ui=None),
    "init_command_line_parser": dict(parser="parser"),
    "test_start": dict(environment="env"),
    "test_stopping": dict(environment="env"),
    "test_stop": dict(environment="env"),
    "reset_stats": dict(),
    "cpu_warning": dict(environment="env", cpu_usage=95.0),
    "heartbeat_sent": dict(client_id="w1", timestamp=2.0),
    "heartbeat_received": dict(client_id="w1", timestamp=2.0),
    "usage_monitor": dict(environment="env", cpu_usage=5.0, memory_usage=1024),
}
"""


def test_a_listener_of_locusts_shape_for_each_hook_works_with_and_without_kwargs() -> None:
    output = run_script(
        LOCUST_FIRES
        + textwrap.dedent(
            """
        import json
        import locust

        got = {}

        def listeners(hook_name, names):
            # One that names exactly what Locust passes, one that adds **kwargs.
            arguments = ", ".join(names)
            exact = eval(f"lambda {arguments}: got.setdefault({hook_name!r}, []).append("
                         f"('exact', {arguments}{',' if names else ''}))")
            loose = eval(f"lambda {arguments}{', ' if names else ''}**kwargs: "
                         f"got.setdefault({hook_name!r}, []).append("
                         f"('kwargs', {arguments}{',' if names else ''}))")
            return exact, loose

        fires = {name: {k: v for k, v in kw.items() if k != "reverse"}
                 for name, kw in LOCUST_FIRES.items()}
        # Registered on Locust's events before the switch: moved over by it ...
        for name, payload in fires.items():
            for listener in listeners(name, list(payload)):
                getattr(locust.events, name).add_listener(listener)

        from locust_events.locust import events

        # ... and registered on ours after it.
        for name, payload in fires.items():
            for listener in listeners(name, list(payload)):
                getattr(events, name).add_listener(listener)
        for name, payload in LOCUST_FIRES.items():
            getattr(locust.events, name).fire(**payload)
        assert events.error_count == 0
        print(json.dumps({name: [calls[0][0], calls[1][0], len(calls), calls[0][1:]]
                          for name, calls in got.items()}, default=str))
        """
        )
    )
    got = json.loads(output)
    assert len(got) == 18
    for name, (first, second, count, _) in got.items():
        order = ("kwargs", "exact") if name == "quitting" else ("exact", "kwargs")  # reversed
        assert (first, second, count) == (*order, 4), name
    fired = [REQUEST_PAYLOAD[name] for name in REQUEST_NAMES]
    assert got["request"][3] == json.loads(json.dumps(fired, default=str))
    assert got["cpu_warning"][3] == ["env", 95.0]
    assert got["usage_monitor"][3] == ["env", 5.0, 1024]
    assert got["quitting"][3] == ["env"]


def test_environment_local_runner_and_patched_fire_as_locusts_tests_use_them() -> None:
    output = run_script(
        """
        from unittest import mock

        import gevent
        from locust import User, constant, task
        from locust.env import Environment
        from locust_events.locust import events

        class CountingUser(User):
            wait_time = constant(0)

            @task
            def request(self):
                self.environment.events.request.fire(
                    request_type="custom", name="/", response_time=1, response_length=0,
                    exception=None, context={},
                )
                if self.environment.stats.total.num_requests >= 10:
                    self.environment.runner.quit()

        environment = Environment(user_classes=[CountingUser])
        assert type(environment.events).__module__.startswith("locust_events")
        import locust_events
        print(locust_events.COMPILED)
        runner = environment.create_local_runner()
        events_ = environment.events
        with mock.patch.object(
            events_.test_start, "fire", wraps=events_.test_start.fire
        ) as test_start, mock.patch.object(
            events_.spawning_complete, "fire", wraps=events_.spawning_complete.fire
        ) as spawning_complete:
            runner.start(1, spawn_rate=1)
            runner.greenlet.join(timeout=60)
        assert "fire" not in vars(events_.test_start)  # unpatched again
        print(test_start.call_count, spawning_complete.call_args.kwargs,
              environment.stats.total.num_requests >= 10, events_.error_count)
        """
    )
    assert output.split() == [str(COMPILED), "1", "{'user_count':", "1}", "True", "0"]


def test_master_and_worker_runners_with_a_patched_heartbeat_fire() -> None:
    port = free_port()
    output = run_script(
        f"""
        from unittest import mock

        import gevent
        import locust.runners
        from locust import User, task
        from locust.env import Environment
        from locust_events import Events
        from locust_events.locust import events

        class Idle(User):
            @task
            def nothing(self):
                pass

        locust.runners.HEARTBEAT_INTERVAL = 0.1
        master_env = Environment(user_classes=[Idle])
        worker_env = Environment(user_classes=[Idle])
        assert isinstance(master_env.events, Events), "Locust's registry, not ours"
        assert master_env.events is not worker_env.events
        assert master_env.events is not events
        master = master_env.create_master_runner("127.0.0.1", {port})
        heard = gevent.event.Event()
        with mock.patch.object(
            worker_env.events.heartbeat_received, "fire",
            wraps=worker_env.events.heartbeat_received.fire,
        ) as received:
            connected = []
            master_env.events.worker_connect.add_listener(
                lambda client_id: connected.append(client_id))
            worker_env.events.heartbeat_received.add_listener(
                lambda client_id, timestamp: heard.set())
            worker = worker_env.create_worker_runner("127.0.0.1", {port})
            assert heard.wait(timeout=60), "no heartbeat reached the worker"
        print(received.call_count >= 1, sorted(received.call_args.kwargs),
              connected == [worker.client_id])
        worker.quit()
        master.quit()
        """
    )
    assert output.split() == ["True", "['client_id',", "'timestamp']", "True"]


def test_measure_of_a_custom_client_reaches_a_listener_of_locusts_measure_names() -> None:
    output = run_script(
        """
        from locust.env import Environment
        from locust_events.locust import events

        environment = Environment()
        got = []

        @environment.events.request.add_listener
        def on_request(request_type, name, response_time, response_length, context,
                       exception, start_time):
            got.append((request_type, name, response_length, type(exception).__name__))

        with environment.events.request.measure("grpc", "Get", response_length=7):
            raise ValueError("unavailable")
        print(got, environment.events.error_count)
        """
    )
    assert output.strip() == "[('grpc', 'Get', 7, 'ValueError')] 0"


def test_measure_passes_the_same_keys_as_locusts_own_measure() -> None:
    output = run_script(
        """
        import json
        from locust.event import EventHook as LocustHook
        from locust_events import EventHook

        def keys_passed(hook):
            seen = []
            hook.add_listener(lambda **kwargs: seen.append(list(kwargs)))
            with hook.measure("grpc", "Get"):
                pass
            with hook.measure("grpc", "Get", context={}):
                raise ValueError("unavailable")
            return seen

        print(json.dumps([keys_passed(LocustHook()), keys_passed(EventHook("request"))]))
        """
    )
    stock, ours = json.loads(output)
    assert ours == stock


#: A custom client's listener requiring ``grpc_status``, which only that client's fires pass:
#: registered, fired with it and without it, on the hooks of the registry given.
_UNDECLARED_KEYWORD = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stdout, format="LOG %(message)s")
import locust.log
if sys.argv[1] == "ours":
    import locust_events.locust
from locust import events

calls = []

@events.request.add_listener
def on_grpc_request(name, grpc_status, **kwargs):
    calls.append((name, grpc_status))

payload = dict(request_type="grpc", name="Get", response_time=1.0, response_length=0,
               exception=None, context={})
events.request.fire(**payload, grpc_status=0)
events.request.fire(**payload)  # an HttpUser's fire: no grpc_status
events.request.fire(**payload, grpc_status=14)
print(json.dumps({"calls": calls, "unhandled": locust.log.unhandled_greenlet_exception}))
"""


def test_a_listener_requiring_an_undeclared_keyword_runs_as_on_stock_locust() -> None:
    outputs = {
        side: run_script(f"import sys; sys.argv[1:] = [{side!r}]\n" + _UNDECLARED_KEYWORD)
        for side in ("stock", "ours")
    }
    results = {side: json.loads(output.splitlines()[-1]) for side, output in outputs.items()}
    assert (
        results["ours"]
        == results["stock"]
        == {
            "calls": [["Get", 0], ["Get", 14]],
            "unhandled": True,  # the fire without it failed the listener once, logged
        }
    )
    assert outputs["stock"].count("LOG ") == outputs["ours"].count("LOG ") - 1 == 1
    warning = next(line for line in outputs["ours"].splitlines() if "does not declare" in line)
    assert "on_grpc_request added to hook 'request': it requires 'grpc_status'" in warning
