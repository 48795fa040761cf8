"""``locust_events.locust``: switching Locust's global events onto ours, and preparing a registry.

Each test runs a short script in a child Python, because importing Locust monkey-patches the
process that imports it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap

from .locust_support import child_environment, needs_locust

pytestmark = needs_locust


def run_script(source: str) -> str:
    """Run ``source`` in a fresh interpreter; return its output, failing on a non-zero exit.

    It runs outside the checkout, so that it imports the installed package, as the tests do.
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(source)],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=child_environment(),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_switch_makes_every_locust_hook_ours_and_keeps_both_sides_listeners_in_order() -> None:
    output = run_script(
        """
        import locust, locust_events
        seen = []
        locust.events.request.add_listener(lambda **kw: seen.append("locust 1"))
        locust.events.request.add_listener(lambda **kw: seen.append("locust 2"))
        locust_events.events.request.add_listener(lambda **kw: seen.append("ours 1"))
        locust_events.events.request.add_listener(lambda **kw: seen.append("ours 2"))

        from locust_events.locust import events

        assert events is locust_events.events
        for name in locust_events.Events.hook_declarations:
            assert getattr(locust.events, name) is getattr(events, name), name
        from locust_events.tools.request_payload import REQUEST_PAYLOAD

        locust.events.request.fire(**REQUEST_PAYLOAD)
        print(seen)
        """
    )
    assert output.strip() == "['ours 1', 'ours 2', 'locust 1', 'locust 2']"


def test_switching_twice_changes_nothing() -> None:
    output = run_script(
        """
        import locust
        locust.events.test_start.add_listener(lambda **kw: None)
        from locust_events.locust import environment_events, events, switch_locust_events
        before = (events.test_start.listeners, events.pass_through, len(events.hooks))
        switch_locust_events()
        environment_events()
        environment_events(events)
        after = (events.test_start.listeners, events.pass_through, len(events.hooks))
        print(before == after, len(events.test_start), len(events.pass_through))
        """
    )
    assert output.split() == ["True", "1", "5"]


def test_environment_events_prepares_a_registry_for_a_hand_built_environment() -> None:
    output = run_script(
        """
        import locust.log
        from locust import User, task
        from locust.env import Environment
        from locust.exception import RescheduleTask
        from locust_events import Events
        from locust_events.locust import environment_events

        class Nobody(User):
            @task
            def nothing(self):
                pass

        registry = Events()
        env = Environment(user_classes=[Nobody], events=environment_events(registry))
        env.create_local_runner()
        assert env.events is registry
        assert locust.events.request is not registry.request  # only the global is switched

        @registry.request.add_listener
        def reschedule(**kwargs):
            raise RescheduleTask()
        try:
            registry.request.fire(request_type="GET", name="/", response_time=1,
                                  response_length=0, exception=None, context={})
        except RescheduleTask:
            print("passed through")

        @registry.test_start.add_listener
        def broken(**kwargs):
            raise ValueError("bug")
        assert not locust.log.unhandled_greenlet_exception
        registry.test_start.fire(environment=env)
        print("exit code flag", locust.log.unhandled_greenlet_exception, registry.error_count)
        """
    )
    assert output.splitlines() == ["passed through", "exit code flag True 1"]


def test_locust_payloads_gain_the_spec_names_and_quitting_fires_in_reverse() -> None:
    output = run_script(
        """
        from locust_events.locust import events

        got = []
        events.cpu_warning.add_listener(lambda usage_percent, **kw: got.append(usage_percent))
        events.usage_monitor.add_listener(lambda stats, **kw: got.append(stats))
        events.quitting.add_listener(lambda exit_code, **kw: got.append(exit_code))
        events.quitting.add_listener(lambda **kw: got.append("registered last, called first"))
        # As Locust's runners and main fire them: without the spec's names.
        events.cpu_warning.fire(environment=None, cpu_usage=95.5)
        events.usage_monitor.fire(environment=None, cpu_usage=12.0, memory_usage=2048)
        events.quitting.fire(environment=None, reverse=True)
        print(got)
        """
    )
    assert output.strip() == (
        "[95.5, {'cpu_usage': 12.0, 'memory_usage': 2048}, 'registered last, called first', 0]"
    )


def test_quitting_exit_code_is_computed_as_locusts_shutdown_computes_it() -> None:
    output = run_script(
        """
        import types
        import locust.log
        from locust_events.locust import events, locust_exit_code

        runner = types.SimpleNamespace(errors={}, exceptions={})
        options = types.SimpleNamespace(exit_code_on_error=7)
        env = types.SimpleNamespace(process_exit_code=None, runner=runner, parsed_options=options)
        codes = [locust_exit_code(env)]
        locust.log.unhandled_greenlet_exception = True
        codes.append(locust_exit_code(env))
        runner.exceptions[1] = {"count": 1}
        codes.append(locust_exit_code(env))
        env.process_exit_code = 3
        codes.append(locust_exit_code(env))
        got = []
        events.quitting.add_listener(lambda exit_code, **kw: got.append(exit_code))
        events.quitting.fire(environment=env, reverse=True)
        print(codes, got)
        """
    )
    assert output.strip() == "[0, 2, 7, 3] [3]"


def test_listeners_locust_calls_fine_are_moved_over_by_the_switch_and_called() -> None:
    output = run_script(
        """
        import locust
        got = []
        locust.events.quitting.add_listener(lambda environment: got.append("quitting"))
        locust.events.cpu_warning.add_listener(
            lambda environment, cpu_usage: got.append(cpu_usage))
        locust.events.usage_monitor.add_listener(
            lambda environment, cpu_usage, memory_usage: got.append(memory_usage))
        locust.events.request.add_listener(  # a contributed client's four names
            lambda request_type, name, response_time, response_length: got.append(name))
        locust.events.request.add_listener(  # the seven names Locust's measure() passes
            lambda request_type, name, response_time, response_length, context, exception,
            start_time: got.append(response_length))

        from locust_events.locust import events  # moves them over: must not raise

        events.strict = True
        events.quitting.fire(environment=None, reverse=True)
        events.cpu_warning.fire(environment=None, cpu_usage=95.0)
        events.usage_monitor.fire(environment=None, cpu_usage=5.0, memory_usage=1024)
        # As Locust's own measure() fires, then as ours does.
        events.request.fire(request_type="grpc", name="Get", response_time=1.0,
                            response_length=3, context={}, exception=None, start_time=0.0)
        with events.request.measure("grpc", "Put", response_length=7):
            pass
        print(got)
        """
    )
    assert output.strip() == "['quitting', 95.0, 1024, 'Get', 3, 'Put', 7]"


def test_the_switch_changes_no_hooks_class() -> None:
    output = run_script(
        """
        import locust_events
        from locust_events import Events
        ours = locust_events.events
        before = {name: type(hook) for name, hook in ours.hooks.items()}
        registry = Events()
        registry_before = {name: type(hook) for name, hook in registry.hooks.items()}

        from locust_events.locust import environment_events, events

        environment_events(registry)
        assert before == {name: type(hook) for name, hook in ours.hooks.items()}
        assert registry_before == {name: type(hook) for name, hook in registry.hooks.items()}
        print(registry.quitting.exit_code_source.__name__, registry.quit.after_fire is not None)
        """
    )
    assert output.split() == ["locust_exit_code", "True"]


def test_every_environment_built_without_events_gets_a_fresh_registry_of_ours() -> None:
    output = run_script(
        """
        import locust
        from locust.env import Environment
        from locust.exception import StopUser
        from locust_events import Events
        from locust_events.locust import events

        first, second = Environment(), Environment()
        assert isinstance(first.events, Events) and isinstance(second.events, Events)
        assert first.events is not second.events and first.events is not events
        assert StopUser in first.events.pass_through  # made ready for Locust
        assert Environment(events=locust.events).events is locust.events
        got = []
        first.events.test_start.add_listener(lambda environment: got.append("first"))
        second.events.test_start.fire(environment=second)
        first.events.test_start.fire(environment=first)
        print(got)
        """
    )
    assert output.strip() == "['first']"


def test_a_quitting_listener_called_after_one_that_sets_the_exit_code_sees_it() -> None:
    output = run_script(
        """
        import types
        from locust_events.locust import events

        runner = types.SimpleNamespace(errors={}, exceptions={})
        env = types.SimpleNamespace(process_exit_code=None, runner=runner, parsed_options=None)
        got = []

        @events.quitting.add_listener  # registered first: called last
        def reports(environment, exit_code):
            got.append(("called last", exit_code))

        @events.quitting.add_listener
        def check_fail_ratio(environment, **kwargs):  # as locust-plugins' check does
            environment.process_exit_code = 3

        @events.quitting.add_listener  # registered last: called first
        def reports_early(environment, exit_code):
            got.append(("called first", exit_code))

        events.quitting.fire(environment=env, reverse=True)  # as Locust's shutdown fires it
        print(got)
        """
    )
    assert output.strip() == "[('called first', 0), ('called last', 3)]"
