"""Reflection check-ins: private by default, shared by choice. A facilitator defines what is
asked and when; each member gets it by DM with a button that opens the form; answers are
sealed at rest, and shared only as their author chooses (see `share`).

The member's own side (pause, opt out, nudges, commitments, journal, retention) lives in
`member`, whose commands, buttons, forms and jobs are merged here.
"""

from bot.feature import Action, Feature
from bot.features.reflections import digest, form, member, rounds
from bot.features.reflections.commands import commands

FEATURE = Feature(
    name="reflections",
    commands=(*commands(), *member.COMMANDS),
    # The button is in a member's own DM: it never makes anyone a member.
    actions={"reflect:answer": Action(form.answer_pressed), **member.ACTIONS},
    forms={form.FORM_ID: form.answer_submitted, **member.FORMS},
    jobs={
        rounds.OPEN_KIND: rounds.open_round,
        rounds.CLOSE_KIND: rounds.close_round,
        rounds.PLAN_KIND: rounds.plan_job_run,
        **member.JOBS,
    },
    hooks={
        "meeting.end": rounds.on_meeting_end,
        "member.erasing": member.on_member_erasing,
        "digest.sections": digest.digest_sections,
    },
    reconcile=member.reconcile,
    catalog="reflections",
)
