"""Community agreements: drafted from a starter set, versioned, recapped at every meeting."""

from bot.feature import Action, Feature
from bot.features.agreements import consent, recap, share, versions
from bot.features.agreements.commands import commands

FEATURE = Feature(
    name="agreements",
    commands=commands(),
    # A recap in the channel may be answered by anyone in it: agreeing joins them.
    actions={
        "agree:ack": Action(recap.acknowledge, joins=True),
        "agree:propose": Action(consent.propose_button, joins=True),
        **{f"consent:{p}": Action(consent.press, joins=True) for p in consent.POSITIONS},
    },
    forms={
        "agreements.reason": consent.reason_submitted,
        "agreements.propose": consent.propose_submitted,
    },
    jobs={"agreements.remind": versions.remind, "agreements.close": consent.close_job},
    hooks={
        "meeting.start": recap.on_meeting_start,
        "meeting.reminder": recap.on_meeting_reminder,
        "agenda.sections": share.agenda_section,
        "member.joined": share.on_member_joined,
    },
    catalog="agreements",
)
