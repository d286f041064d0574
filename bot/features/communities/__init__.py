"""Communities: setting one up in a channel, joining and leaving, facilitators, settings, help."""

from bot.feature import Feature
from bot.features.communities.commands import commands

FEATURE = Feature(name="communities", commands=commands(), catalog="communities")
