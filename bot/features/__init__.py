"""One module per job; each exposes `register(registry)`."""

from __future__ import annotations

from types import ModuleType

from bot.commands import Registry


def feature_modules() -> list[ModuleType]:
    """The features, in the order their commands appear in help."""
    from bot.features import communities, home, meetings, voting

    return [communities, voting, meetings, home]


def build_registry() -> Registry:
    """A registry with every feature registered."""
    registry = Registry()
    for module in feature_modules():
        module.register(registry)
    return registry
