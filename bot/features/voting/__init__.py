"""Topic voting: topic intake, polls with five counting methods, results sent to the agenda,
and the annual interest survey that feeds the topic backlog."""

from bot.commands import Role
from bot.context import Services
from bot.feature import Action, Feature
from bot.features.voting import close, manage, survey, topics
from bot.features.voting.cast import FORM_IDS, cast, open_ballot_form, submit_ballot, unapprove
from bot.features.voting.commands import commands
from bot.features.voting.home import home_sections
from bot.features.voting.polls import REFRESH_KIND, refresh_job


async def _reconcile(services: Services) -> None:
    await close.reconcile(services)
    await topics.reconcile_deadlines(services)
    await survey.reconcile(services)


FEATURE = Feature(
    name="voting",
    commands=commands(),
    # Anyone in the community's channel may vote or propose: pressing joins them there.
    actions={
        "vote:cast": Action(cast, joins=True),
        "vote:unapprove": Action(unapprove, joins=True),
        "vote:form": Action(open_ballot_form, joins=True),
        "vote:agenda": Action(close.agenda_button, Role.FACILITATOR),
        "vote:delete": Action(manage.delete_button, Role.FACILITATOR),
        "vote:keep": Action(manage.keep_button, Role.FACILITATOR),
        "topics:propose": Action(topics.propose_button, joins=True),
        "survey:rate": Action(survey.rate_button, joins=True),
        "survey:propose": Action(survey.propose_button, joins=True),
    },
    forms={
        **{form_id: submit_ballot for form_id in FORM_IDS.values()},
        "topics.propose": topics.propose_submitted,
        "survey.rate": survey.rate_submitted,
        "survey.propose": survey.propose_submitted,
    },
    jobs={
        "poll.close": close.close_job,
        REFRESH_KIND: refresh_job,
        "poll.remind": close.remind_job,
        "intake.deadline": topics.deadline_job,
        survey.OPEN_KIND: survey.open_job,
        survey.CLOSE_KIND: survey.close_job,
    },
    hooks={
        "home.sections": home_sections,
        "digest.sections": survey.digest_section,
        "member.erasing": survey.on_member_erasing,
        "survey.wanted": survey.on_survey_wanted,
    },
    emits=("topic.chosen",),
    reconcile=_reconcile,
    catalog="voting",
)
