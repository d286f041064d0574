"""Reading and numbering a community's resources; every query is scoped by its community.

A `Shown` is a resource with its tags, ready to render. Removed resources (tombstones kept so
numbers are never reused) are never returned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from bot.text import parse_id
from storage.meetings import Meeting
from storage.models import Community
from storage.resources import Resource, ResourceMeeting, ResourceTag

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """A resource as members see it: number, title, link, tags."""

    resource: Resource
    tags: tuple[str, ...]

    @property
    def number(self) -> int:
        return self.resource.number

    def words(self) -> str:
        """What a search looks in: title, tags and host, folded for comparison."""
        r = self.resource
        return " ".join([r.title, *self.tags, *(f"#{t}" for t in self.tags), r.host]).casefold()


async def next_number(session: AsyncSession, community_id: int) -> int:
    """The community's next resource number, removed ones counted (never reused).

    The community row is locked first (FOR NO KEY UPDATE on PostgreSQL; SQLite has one writer
    anyway), so two members adding at once take turns and the unique index never fires.
    """
    await session.execute(
        select(col(Community.id))
        .where(col(Community.id) == community_id)
        .with_for_update(key_share=True)
    )
    highest = (
        await session.execute(
            select(func.max(col(Resource.number))).where(col(Resource.community_id) == community_id)
        )
    ).scalar_one()
    return int(highest or 0) + 1


async def by_number(session: AsyncSession, community_id: int, raw: str | None) -> Resource | None:
    """The live resource numbered `raw` (``3`` or ``#3``) in this community, if any."""
    number = parse_id((raw or "").strip().lstrip("#"))
    if number is None:
        return None
    return (
        await session.execute(
            select(Resource).where(
                col(Resource.community_id) == community_id,
                col(Resource.number) == number,
                col(Resource.removed_at).is_(None),
            )
        )
    ).scalar_one_or_none()


async def with_tags(
    session: AsyncSession, community_id: int, resources: Sequence[Resource]
) -> list[Shown]:
    """`resources` with their tags, in the order given."""
    ids = [r.id for r in resources]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(col(ResourceTag.resource_id), col(ResourceTag.tag))
            .where(
                col(ResourceTag.community_id) == community_id,
                col(ResourceTag.resource_id).in_(ids),
            )
            .order_by(col(ResourceTag.id))
        )
        for resource_id, tag in rows.all():
            tags[resource_id].append(tag)
    return [Shown(r, tuple(tags[r.id])) for r in resources]


async def live(
    session: AsyncSession,
    community_id: int,
    *,
    tag: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    ids: Iterable[int] | None = None,
) -> list[Shown]:
    """The community's resources, newest first: all, one tag's, added in (since, until], or
    those with the given ids."""
    query = select(Resource).where(
        col(Resource.community_id) == community_id, col(Resource.removed_at).is_(None)
    )
    if tag is not None:
        query = query.where(
            col(Resource.id).in_(
                select(col(ResourceTag.resource_id)).where(
                    col(ResourceTag.community_id) == community_id, col(ResourceTag.tag) == tag
                )
            )
        )
    if since is not None:
        query = query.where(col(Resource.created_at) > since)
    if until is not None:
        query = query.where(col(Resource.created_at) <= until)
    if ids is not None:
        query = query.where(col(Resource.id).in_(list(ids)))
    rows = (await session.execute(query.order_by(col(Resource.number).desc()))).scalars()
    return await with_tags(session, community_id, list(rows))


async def attached_to(session: AsyncSession, community_id: int, meeting_id: int) -> list[Shown]:
    """The live resources attached to one meeting, in the order they were attached."""
    rows = await session.execute(
        select(Resource)
        .join(ResourceMeeting, col(ResourceMeeting.resource_id) == col(Resource.id))
        .where(
            col(ResourceMeeting.community_id) == community_id,
            col(ResourceMeeting.meeting_id) == meeting_id,
            col(Resource.community_id) == community_id,
            col(Resource.removed_at).is_(None),
        )
        .order_by(col(ResourceMeeting.attached_at), col(ResourceMeeting.id))
    )
    return await with_tags(session, community_id, list(rows.scalars()))


async def meetings_of(session: AsyncSession, community_id: int, resource_id: int) -> list[Meeting]:
    """The meetings a resource is attached to, by meeting number."""
    rows = await session.execute(
        select(Meeting)
        .join(ResourceMeeting, col(ResourceMeeting.meeting_id) == col(Meeting.id))
        .where(
            col(ResourceMeeting.community_id) == community_id,
            col(ResourceMeeting.resource_id) == resource_id,
        )
        .order_by(col(Meeting.number))
    )
    return list(rows.scalars())


async def find_meeting(
    session: AsyncSession, community_id: int, raw: str, now: datetime
) -> Meeting | None:
    """A meeting of this community by number (``2``, ``#2``), ``next`` (the coming one) or
    ``last`` (the latest that started); cancelled meetings are not found by next/last."""
    ref = raw.strip().lstrip("#").lower()
    base = select(Meeting).where(
        col(Meeting.community_id) == community_id, col(Meeting.status) == "scheduled"
    )
    if ref == "next":
        query = base.where(col(Meeting.starts_at) > now).order_by(col(Meeting.starts_at))
    elif ref == "last":
        query = base.where(col(Meeting.starts_at) <= now).order_by(col(Meeting.starts_at).desc())
    else:
        number = parse_id(ref)
        if number is None:
            return None
        query = select(Meeting).where(
            col(Meeting.community_id) == community_id, col(Meeting.number) == number
        )
    return (await session.execute(query.limit(1))).scalar_one_or_none()
