"""How an :class:`~locust_events.Events` class declares its hooks and finds them again."""

from __future__ import annotations

import inspect
import re
import sys
import typing
from collections.abc import Iterable
from typing import Any, final

from ._deprecated import DeprecatedEventHook
from ._hooks import EventHook

__all__ = ["HookDeclaration", "collect_hook_declarations", "declare_hook"]

# How a string annotation (``from __future__ import annotations``) that cannot be evaluated
# still shows a hook: ``EventHook``, ``locust_events.EventHook``, ``EventHook[RequestListener]``.
_HOOK_ANNOTATION = re.compile(r"^\s*(?:[\w.]+\.)?(Deprecated)?EventHook\s*(?:\[.*\])?\s*$")


@final
class HookDeclaration:
    """What an ``Events`` class says of one hook; every ``Events()`` makes its own hook from it."""

    __slots__ = ("deprecated", "hook_class", "passes")

    def __init__(
        self,
        passes: Iterable[str] | None,
        deprecated: str | None,
        hook_class: type[EventHook[Any]] = EventHook,
    ) -> None:
        #: The keyword arguments every fire of the hook passes, or ``None`` for undeclared.
        self.passes: tuple[str, ...] | None = None if passes is None else tuple(passes)
        #: The warning for code that adds a listener, for a deprecated hook.
        self.deprecated: str | None = deprecated
        #: The class of the hooks made from this declaration (the annotation's, as
        #: ``quitting: QuittingHook[QuittingListener]``): it chooses what a fire does.
        self.hook_class: type[EventHook[Any]] = hook_class

    def __repr__(self) -> str:
        return (
            f"HookDeclaration(passes={self.passes!r}, deprecated={self.deprecated!r}, "
            f"hook_class={self.hook_class.__qualname__})"
        )

    def make_hook(self, name: str, **options: Any) -> EventHook[Any]:
        """A new hook for one registry."""
        if self.deprecated is not None:
            return DeprecatedEventHook(self.deprecated, name, self.passes, **options)
        return self.hook_class(name, self.passes, **options)


def declare_hook(*passes: str, deprecated: str | None = None) -> Any:
    """Declare a hook of an ``Events`` subclass and the keyword arguments its fires pass.

    ::

        class MyEvents(Events):
            order_placed: EventHook = declare_hook("order_id", "amount")
            \"\"\"Fired when a simulated user places an order.\"\"\"

    Annotating with a listener protocol (``EventHook[OrderListener]``) declares the same for
    type checkers too. A bare annotation (``order_placed: EventHook``) declares a hook that
    accepts any listener. ``deprecated`` makes a :class:`DeprecatedEventHook` with that
    message.
    """
    return HookDeclaration(passes, deprecated)


def _declaration_from_annotation(owner: type, annotation: object) -> HookDeclaration | None:
    if isinstance(annotation, str):
        source = annotation
        module = sys.modules.get(owner.__module__)
        namespace = dict(vars(module)) if module is not None else {}
        try:
            annotation = eval(source, namespace, dict(vars(owner)))  # noqa: S307
        except Exception:
            match = _HOOK_ANNOTATION.match(source)
            if match is None:
                return None
            deprecated = match.group(1) is not None
            return HookDeclaration(None, _deprecated_message(owner) if deprecated else None)
    hook_type = typing.get_origin(annotation) or annotation
    if isinstance(hook_type, type) and issubclass(hook_type, EventHook):
        deprecated = issubclass(hook_type, DeprecatedEventHook)
        passes = _passes_of_listener_type(typing.get_args(annotation))
        if deprecated:
            return HookDeclaration(passes, _deprecated_message(owner))
        return HookDeclaration(passes, None, hook_type)
    return None


def _passes_of_listener_type(type_arguments: tuple[object, ...]) -> tuple[str, ...] | None:
    """The keyword parameters of ``EventHook[SomeListener]``'s protocol: what the hook passes.

    ``None`` (any listener) when the hook is not parametrised with a protocol, or when the
    protocol's ``__call__`` takes ``**kwargs`` (the hook may pass more than it names).
    """
    if len(type_arguments) != 1:
        return None
    listener_type = type_arguments[0]
    if not (isinstance(listener_type, type) and getattr(listener_type, "_is_protocol", False)):
        return None
    parameters = list(inspect.signature(listener_type.__call__).parameters.values())[1:]
    if any(parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters):
        return None
    return tuple(
        parameter.name
        for parameter in parameters
        if parameter.kind is not inspect.Parameter.VAR_POSITIONAL
    )


def _deprecated_message(owner: type) -> str:
    return f"This hook of {owner.__qualname__} is deprecated"


def collect_hook_declarations(cls: type) -> dict[str, HookDeclaration]:
    """Every hook ``cls`` declares or inherits, base classes' first, in declaration order.

    A hook is an attribute whose value is a :class:`HookDeclaration`, whose value is the
    ``EventHook`` class itself (Locust's old style), or which is annotated as an
    ``EventHook`` (as a class or as a string, with or without ``from __future__ import
    annotations``). ``EventHook[SomeListener]`` with a listener protocol declares what the
    hook passes: the protocol's keyword parameters.
    """
    declarations: dict[str, HookDeclaration] = {}
    for klass in reversed(cls.__mro__):
        namespace = vars(klass)
        annotations: dict[str, object] = namespace.get("__annotations__", {})
        for name, annotation in annotations.items():
            value = namespace.get(name)
            if isinstance(value, HookDeclaration):
                declarations[name] = value
            elif (declaration := _declaration_from_annotation(klass, annotation)) is not None:
                declarations[name] = declaration
        for name, value in namespace.items():
            if isinstance(value, HookDeclaration) and name not in annotations:
                declarations[name] = value
            elif isinstance(value, type) and issubclass(value, EventHook):
                declarations[name] = HookDeclaration(None, None)
    return declarations
