"""Hours that count: the facilitator's report (summary, CSV, charts), a member's statement
and PDF certificate, and verifying a certificate by its code."""

from bot.feature import Feature
from bot.features.reports.commands import commands, on_member_erasing

FEATURE = Feature(
    name="reports",
    commands=commands(),
    hooks={"member.erasing": on_member_erasing},
    catalog="reports",
)
