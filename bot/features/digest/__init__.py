"""The digest: one post a few days before each meeting with what is new in every job (the
``digest.sections`` hook), nothing when nothing is new, and ``/cop digest`` for oneself now.

Timing lives in `plan` (a daily plan per community, one durable job per meeting), drawing in
`draw`, the command in `commands`.
"""

from bot.feature import Feature
from bot.features.digest import plan
from bot.features.digest.commands import commands

FEATURE = Feature(
    name="digest",
    commands=commands(),
    jobs={plan.PLAN_KIND: plan.plan_job_run, plan.POST_KIND: plan.post},
    hooks={
        "meetings.changed": plan.on_meetings_changed,
        "meeting.reminder": plan.on_reminder,
        "meeting.start": plan.on_start,
        "meeting.end": plan.on_end,
        "topic.chosen": plan.on_topic,
    },
    emits=("digest.sections",),
    reconcile=plan.reconcile,
    catalog="digest",
)
