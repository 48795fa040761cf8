"""Hypothesis drives add, remove and fire (also from inside a fire) against a plain model."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from locust_events import EventHook

LABELS = st.sampled_from("abcde")


class HookAgainstAListModel(RuleBasedStateMachine):
    """The model is what Locust documents: a list; a fire walks the list as it was at the start."""

    def __init__(self) -> None:
        super().__init__()
        self.hook = EventHook("modelled")
        self.model: list[str] = []
        self.calls: list[str] = []
        self.listeners = {label: self._make_listener(label) for label in "abcde"}
        # Mutations the next fire's listeners perform while it runs: (after which call, action).
        self.pending_mutations: list[tuple[int, str, str]] = []

    def _make_listener(self, label: str) -> Any:
        def listener(**kwargs: Any) -> None:
            position = len(self.calls)
            self.calls.append(label)
            for after_call, action, target in list(self.pending_mutations):
                if after_call == position:
                    self.pending_mutations.remove((after_call, action, target))
                    self._mutate(action, target)

        listener.__qualname__ = f"listener_{label}"
        return listener

    def _mutate(self, action: str, label: str) -> None:
        if action == "add":
            self.hook.add_listener(self.listeners[label])
            self.model.append(label)
        elif label in self.model:
            self.hook.remove_listener(self.listeners[label])
            self.model.remove(label)

    @rule(label=LABELS)
    def add(self, label: str) -> None:
        self._mutate("add", label)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        self._mutate("remove", data.draw(st.sampled_from(self.model)))

    @rule(
        reverse=st.booleans(),
        mutations=st.lists(
            st.tuples(st.integers(0, 6), st.sampled_from(["add", "remove"]), LABELS), max_size=4
        ),
    )
    def fire(self, reverse: bool, mutations: list[tuple[int, str, str]]) -> None:
        snapshot = list(reversed(self.model)) if reverse else list(self.model)
        self.calls = []
        self.pending_mutations = list(mutations)
        self.hook.fire(reverse=reverse, payload=1)
        self.pending_mutations = []
        assert self.calls == snapshot

    @invariant()
    def registrations_match_the_model(self) -> None:
        assert [listener.__qualname__[-1] for listener in self.hook.listeners] == self.model
        assert len(self.hook) == len(self.model)
        assert bool(self.hook) == bool(self.model)


HookAgainstAListModel.TestCase.settings = settings(max_examples=200, stateful_step_count=30)
test_hook_behaves_like_the_list_model = HookAgainstAListModel.TestCase
