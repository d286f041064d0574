"""Meetings and reminders: series in the community's zone, agendas, RSVP, attendance, .ics."""

from bot.commands import Role
from bot.feature import Action, Feature
from bot.features.meetings import digest, jobs, roles
from bot.features.meetings.commands import commands
from bot.features.meetings.core import ANSWERS
from bot.features.meetings.ending import end_pressed
from bot.features.meetings.home import home_sections
from bot.features.meetings.members import attend_button, rsvp
from bot.features.meetings.roles import agenda_section, on_meeting_end, pressed

FEATURE = Feature(
    name="meetings",
    commands=commands(),
    # A reminder in the channel may be answered by anyone in it: answering joins them.
    actions={
        **{f"rsvp:{answer}": Action(rsvp, joins=True) for answer in ANSWERS},
        "attend:mark": Action(attend_button, joins=True),
        "series:end": Action(end_pressed, role=Role.FACILITATOR),
        "role:take": Action(pressed, joins=True),
    },
    jobs={
        "meeting.remind": jobs.remind,
        "meeting.start": jobs.start,
        "meeting.end": jobs.end,
        "meeting.ahead": jobs.ahead,
    },
    hooks={
        "topic.chosen": jobs.topic_chosen,
        "home.sections": home_sections,
        "agenda.sections": agenda_section,
        "meeting.end": on_meeting_end,
        "member.erasing": roles.on_member_erasing,
        "digest.sections": digest.digest_sections,  # topic, RSVP buttons and roles
    },
    emits=(
        "meeting.start",
        "meeting.end",
        "meeting.reminder",
        "agenda.sections",
        "meetings.changed",
    ),
    reconcile=jobs.reconcile,
    catalog="meetings",
)
