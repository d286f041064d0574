"""Networks of communities: an agency groups its communities under coordinators, who announce
to all of them at once, see their figures together and run a network-wide topic survey."""

from bot.feature import Feature
from bot.features.networks.commands import commands
from bot.features.networks.erasing import on_member_erasing

FEATURE = Feature(
    name="networks",
    commands=commands(),
    hooks={"member.erasing": on_member_erasing},
    emits=("survey.wanted",),
    catalog="network",
)
