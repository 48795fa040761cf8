"""Hooks whose caller goes on with what their listeners did refuse spawned and batch listeners."""

from __future__ import annotations

import pytest

from locust_events import Events, ListenerPool

#: Locust reads what these hooks' listeners did as soon as the fire returns.
IN_PLACE = (
    "init_command_line_parser",
    "init",
    "test_start",
    "test_stopping",
    "report_to_master",
    "quitting",
)


def add_option(parser, **kwargs):
    parser.add_argument("--my-option")


@pytest.mark.parametrize("name", IN_PLACE)
@pytest.mark.parametrize("spawn", [True, "pool"])
def test_spawning_on_a_hook_whose_caller_needs_the_listener_first_is_refused_naming_the_fix(
    registry: Events, name: str, spawn: object
) -> None:
    hook = registry.hooks[name]
    with pytest.raises(TypeError) as refused:
        hook.add_listener(add_option, spawn=ListenerPool(name="mine") if spawn == "pool" else True)
    message = str(refused.value)
    assert f"to hook {name!r}" in message
    assert "add_option" in message
    assert f"events.{name}.add_listener(func)" in message
    assert "spawn only the slow part from inside it" in message
    assert len(hook) == 0


@pytest.mark.parametrize("name", IN_PLACE)
def test_batch_listeners_on_those_hooks_are_refused_too(registry: Events, name: str) -> None:
    hook = registry.hooks[name]
    with pytest.raises(TypeError, match=f"Cannot add batch listener .*write_rows to hook {name!r}"):

        @hook.batch_listener(max_size=10)
        def write_rows(batch):
            pass

    with pytest.raises(TypeError, match="spawn only the slow part"):
        hook.spawn_listener(add_option)
    assert len(hook) == 0


def test_the_parser_hook_says_a_spawned_option_would_be_unrecognized(registry: Events) -> None:
    with pytest.raises(TypeError, match="refused as unrecognized"):
        registry.init_command_line_parser.add_listener(add_option, spawn=True)


def test_synchronous_listeners_are_taken_on_those_hooks_and_spawning_elsewhere_still_works(
    registry: Events,
) -> None:
    import argparse

    registry.init_command_line_parser.add_listener(add_option)
    parser = argparse.ArgumentParser()
    registry.init_command_line_parser.fire(parser=parser)
    assert parser.parse_args(["--my-option", "x"]).my_option == "x"
    for name in ("test_stop", "quit", "request", "worker_report", "spawning_complete"):
        registry.hooks[name].add_listener(lambda **kwargs: None, spawn=True)
    assert registry.join(timeout=10)
