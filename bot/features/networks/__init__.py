"""Networks of communities: an agency groups its communities under coordinators, who announce
to all of them at once, see their figures together and run a network-wide topic survey."""

from bot.feature import Feature
from bot.features.networks.commands import commands

FEATURE = Feature(
    name="networks",
    commands=commands(),
    emits=("survey.wanted",),
    catalog="network",
)
