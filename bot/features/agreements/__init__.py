"""Community agreements: drafted from a starter set, versioned, recapped at every meeting."""

from bot.feature import Action, Feature
from bot.features.agreements import recap, versions
from bot.features.agreements.commands import commands

FEATURE = Feature(
    name="agreements",
    commands=commands(),
    # A recap in the channel may be answered by anyone in it: agreeing joins them.
    actions={"agree:ack": Action(recap.acknowledge, joins=True)},
    jobs={"agreements.remind": versions.remind},
    hooks={"meeting.start": recap.on_meeting_start},
    catalog="agreements",
)
