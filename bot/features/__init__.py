"""One package per job; each declares one `Feature` in its ``__init__``. The list is here."""

from __future__ import annotations

from bot.commands import Registry
from bot.feature import Feature
from bot.features import (
    agreements,
    challenges,
    communities,
    conversation,
    digest,
    home,
    meetings,
    mydata,
    networks,
    reflections,
    reports,
    resources,
    voting,
)

#: The features, in the order their commands appear in help and their hooks run.
FEATURES: tuple[Feature, ...] = (
    communities.FEATURE,
    voting.FEATURE,
    meetings.FEATURE,
    agreements.FEATURE,
    reflections.FEATURE,
    challenges.FEATURE,
    conversation.FEATURE,
    digest.FEATURE,
    resources.FEATURE,
    home.FEATURE,
    mydata.FEATURE,
    reports.FEATURE,
    networks.FEATURE,
)


def build_registry() -> Registry:
    """A registry with every feature's declarations."""
    return Registry.of(FEATURES)
