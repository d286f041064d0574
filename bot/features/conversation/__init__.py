"""Between sessions: discussion prompts posted on a schedule, each opening a thread in the
channel where the group talks (circlebot never reads it), with members' suggestions."""

from bot.commands import Role
from bot.feature import Action, Feature
from bot.features.conversation import digest, suggestions, timing
from bot.features.conversation.commands import commands

FEATURE = Feature(
    name="conversation",
    commands=commands(),
    actions={
        "prompt:approve": Action(suggestions.approve, role=Role.FACILITATOR),
        "prompt:decline": Action(suggestions.decline, role=Role.FACILITATOR),
    },
    jobs={timing.POST_KIND: timing.run_post},
    hooks={
        "digest.sections": digest.digest_section,
        "member.erasing": suggestions.on_member_erasing,
    },
    reconcile=timing.reconcile,
    catalog="conversation",
)
