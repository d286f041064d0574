"""Resources through the real Slack adapter: `/cop resources add` typed in Slack (a link Slack
sends in its ``<url>`` form included), and the list rendered with the link as text Slack links
itself and the title escaped, so nothing in it formats, hides a link or pings."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from adapters.slack.render import escape
from storage.resources import Resource, ResourceTag
from tests.fakes.slack_fake import slash_command_payload
from tests.slack.helpers import running_bot

ADMIN = "U0ADMIN001"
MEMBER = "U0MEMBER01"
LINK = "https://example.org/outdoor_play?a=1&b=*2*"
TITLE = "*Outdoor* play & `ideas` > more"


def mrkdwn_texts(blocks: list[dict]) -> list[str]:
    return [
        t["text"]
        for b in blocks
        for t in [b.get("text"), *b.get("elements", [])]
        if isinstance(t, dict) and t.get("type") == "mrkdwn"
    ]


async def test_add_and_list_render_the_link_as_text_and_the_title_escaped(slack_api) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    slack_api.add_user(MEMBER, profile={"display_name": "cara"})
    async with running_bot(slack_api) as bot:

        async def cop(text: str, user: str = MEMBER) -> dict:
            status, body = await bot.post(slash_command_payload(text, fake=slack_api, user_id=user))
            assert status == 200, body
            return json.loads(body)

        await cop('setup "Finger Lakes CoP" America/New_York', ADMIN)
        added = await cop(f'resources add {LINK} title="{TITLE}" #outdoor #Toddlers')
        # Slack sends a pasted link as <url> (or <url|label>) when it escapes links.
        second = await cop("resources add <https://example.org/handout|example.org/handout>")
        refused = await cop('resources add ftp://example.org/x title="<!channel> read"')
        listed = await cop("resources list")
        tagged = await cop("resources list #outdoor")
        # With a channel named #outdoor, Slack may send the word as a channel link.
        linked = await cop("resources list <#C0OUTDOOR1|outdoor>")
        async with bot.app.db.session() as session:
            stored = (await session.execute(select(Resource.url, Resource.title))).all()
            tags = list((await session.execute(select(ResourceTag.tag))).scalars())

    assert added["text"].startswith("Saved as resource 1 for the community:")
    assert second["text"].startswith("Saved as resource 2 for the community:")
    assert refused["text"] == "Only http:// and https:// links can be saved as resources."
    assert [tuple(r) for r in stored] == [(LINK, TITLE), ("https://example.org/handout", "")]
    assert tags == ["outdoor", "toddlers"]
    for answer in (listed, tagged):
        assert answer.get("response_type", "ephemeral") == "ephemeral"
        texts = mrkdwn_texts(answer["blocks"])
        line = next(t for t in texts if "Outdoor" in t)
        # The link is plain text (entities only), never a <url|label> token built from input;
        # the title's markers are fenced, its & > escaped.
        assert not re.search(r"<[^>]*>", line)
        assert f"1. {escape(TITLE)} — {escape(LINK)}  #outdoor #toddlers" in line
        assert escape(LINK) == LINK.replace("&", "&amp;")
    assert linked["text"] == tagged["text"]
    assert "2. https://example.org/handout" in mrkdwn_texts(listed["blocks"])[0]
