"""A member's own data: their time zone and language, an export of everything circlebot
holds about them, and erasing it. These commands work anywhere (a channel or a DM) and span every
community the person belongs to on this workspace, so they need no community of their own.
"""

from bot.commands import Role
from bot.feature import Action, Feature
from bot.features.mydata import erase, zone
from bot.features.mydata.commands import commands

FEATURE = Feature(
    name="mydata",
    commands=commands(),
    # The erase buttons name whose they are (a digest of the person) and are checked in the
    # handler: they belong to no one community, so the core's community check does not apply.
    actions={
        "mydata:erase": Action(erase.confirm, Role.ANYONE),
        "mydata:keep": Action(erase.cancel, Role.ANYONE),
    },
    hooks={"member.joined": zone.on_member_joined},
    emits=("member.erasing",),
    catalog="mydata",
)
