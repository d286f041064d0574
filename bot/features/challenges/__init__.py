"""Bring a challenge: members bring challenges from practice, openly or privately, for the
next meeting's problem-solving round; facilitators mark them discussed or carry them; the
member is asked privately, a week after, how it went."""

from bot.commands import Role
from bot.feature import Action, Feature
from bot.features.challenges import actions, meetings
from bot.features.challenges.commands import commands
from bot.features.challenges.render import FORM_BRING, FORM_NOTE
from bot.features.challenges.store import CHECKIN_KIND

FEATURE = Feature(
    name="challenges",
    commands=commands(),
    # Bringing one is for members (the button never makes anyone a member); deciding is for
    # facilitators; telling how it went, for the member who brought it.
    actions={
        "challenge:bring": Action(actions.bring_pressed),
        "challenge:done": Action(actions.decide_pressed, role=Role.FACILITATOR),
        "challenge:carry": Action(actions.decide_pressed, role=Role.FACILITATOR),
        "challenge:tell": Action(actions.tell_pressed),
    },
    forms={FORM_BRING: actions.bring_submitted, FORM_NOTE: actions.note_submitted},
    jobs={CHECKIN_KIND: meetings.checkin_job},
    hooks={
        "agenda.sections": meetings.agenda_section,
        "meeting.end": meetings.on_meeting_end,
        "digest.sections": meetings.digest_section,
        "member.erasing": meetings.on_member_erasing,
    },
    catalog="challenges",
)
