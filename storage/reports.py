"""Reports tables: each community's certificate rule and every certificate issued.

A certificate row is the record `/cop report verify CODE` answers from: it keeps what the
PDF said (community, facilitators, member, period, minutes) as it was on the day it was
issued, so a later rename or a member leaving never changes what a verifier is told.
`code` is random (`bot.features.reports.codes`), stored without its dashes, unique.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from storage.models import utcnow
from storage.types import UTCDateTime


class CertificateRule(StrEnum):
    """Which attended meetings a certificate counts."""

    ALWAYS = "always"  # every meeting the member attended
    AFTER_CHECKIN = "after-checkin"  # only those whose reflection check-in they answered


class ReportSettings(SQLModel, table=True):
    """A community's choices about reports; no row means the defaults."""

    __tablename__ = "report_settings"

    community_id: int = Field(foreign_key="community.id", primary_key=True, ondelete="CASCADE")
    certificate: str = Field(default=CertificateRule.ALWAYS, max_length=20)  # CertificateRule
    updated_by: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Certificate(SQLModel, table=True):
    """A professional-development certificate issued to one member for one period."""

    __tablename__ = "certificate"

    id: int = Field(default=None, primary_key=True)
    code: str = Field(max_length=10, unique=True)  # without dashes: ABCDEFGHJK
    community_id: int = Field(foreign_key="community.id", index=True, ondelete="CASCADE")
    community_name: str = Field(max_length=100)
    facilitators: str = Field(max_length=300)  # their names, as printed on the PDF
    member_id: int | None = Field(
        default=None, foreign_key="member.id", index=True, ondelete="SET NULL"
    )
    user_id: str = Field(max_length=64)
    member_name: str = Field(max_length=100)
    period_from: date
    period_to: date  # inclusive
    minutes: int  # the hours certified, in minutes (exact; shown as hours)
    meetings: int  # how many meetings they came from
    language: str = Field(max_length=8)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
