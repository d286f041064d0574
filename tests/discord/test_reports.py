"""Reports on Discord end to end: a member's `/cop my hours` brings the PDF certificate as a
DM attachment, the facilitator's `/cop report summary` answers ephemerally and sends the CSV
and PNG files as attachments of one DM (never in the channel), and `/cop report verify`
confirms the code. Real App, DiscordAdapter and discord.py against FakeDiscord.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

from tests.discord.helpers import (
    ADMIN_PERMISSIONS,
    EPHEMERAL,
    running_bot,
    setup_community,
    shown_text,
)
from tests.fakes.discord_fake import FakeDiscord


async def answered(fake: FakeDiscord, payload: dict[str, Any]) -> tuple[int, str]:
    """Run one slash command; its private answer's flags and text, whether it came in the
    callback or, when the core took longer than the ack budget (a loaded machine), as the
    edit of the deferred "thinking" answer."""
    call = await fake.interact(payload)
    if call.json["type"] != 5:
        return call.json["data"]["flags"], shown_text(call.json)
    token = re.escape(payload["token"])
    edit = await fake.wait_for_call(
        "PATCH", rf"/webhooks/{fake.application_id}/{token}/messages/@original", timeout=30
    )
    return call.json["data"]["flags"], shown_text(edit.json)


async def test_files_reach_the_facilitators_dm_and_verify_answers(
    fake_discord: FakeDiscord, db, clock
) -> None:
    fake = fake_discord
    bego = fake.add_user("Begoña")
    zoe = fake.add_user("zoe")
    channel_posts = rf"/channels/{fake.channel_id}/messages"
    async with running_bot(fake, db, clock) as (app, _adapter):
        await setup_community(fake)
        await fake.interact(
            fake.slash_command_interaction(
                "cop meeting series",
                {"schedule": "weekly on Monday at 10:00", "title": "Taller", "duration": "60"},
                member_permissions=ADMIN_PERMISSIONS,
            )
        )
        await app.advance(timedelta(hours=2))  # 09:00 in New York: the hour at 10:00 is over
        await fake.interact(
            fake.slash_command_interaction("cop meeting attended", {"meeting": "1"}, user=bego)
        )
        await app.worker.drain()
        mine = await answered(
            fake,
            fake.slash_command_interaction(
                "cop my hours", {"start": "2026-11-01", "end": "2026-11-30"}, user=bego
            ),
        )
        await app.worker.drain()
        [statement] = fake.calls_to("POST", rf"/channels/{fake.dm_channel(bego)['id']}/messages")
        before = len(fake.calls_to("POST", channel_posts))
        answer = await answered(
            fake,
            fake.slash_command_interaction(
                "cop report summary",
                {"start": "2026-11-01", "end": "2026-11-30"},
                member_permissions=ADMIN_PERMISSIONS,
            ),
        )
        await app.worker.drain()
        [sent] = fake.calls_to("POST", rf"/channels/{fake.dm_channel()['id']}/messages")
        code = re.search(r"verification code is ([A-Z0-9-]{12})", shown_text(statement.json))
        assert code
        checked = await answered(
            fake,
            fake.slash_command_interaction(
                "cop report verify", {"code": code.group(1).replace("-", " ")}, user=zoe
            ),
        )
        forged = await answered(
            fake,
            fake.slash_command_interaction("cop report verify", {"code": "ABCD-EFGH-JK"}, user=zoe),
        )
        after = len(fake.calls_to("POST", channel_posts))

    assert mine == (EPHEMERAL, "Your statement and certificate are in your direct messages.")
    [pdf] = statement.files
    assert pdf.filename == f"certificate-{code.group(1)}.pdf" and pdf.data.startswith(b"%PDF-")
    assert answer[0] == EPHEMERAL
    assert "• Begoña: 1 meeting, 1 h" in answer[1]
    assert after == before  # nothing in the channel
    names = [f.filename for f in sent.files]
    assert names == [
        "attendance-2026-11-01-2026-11-30.csv",
        "hours-2026-11-01-2026-11-30.csv",
        "attendance-2026-11-01-2026-11-30.png",
        "participation-2026-11-01-2026-11-30.png",
    ]
    hours = list(csv.reader(io.StringIO(sent.files[1].data.decode("utf-8-sig"))))
    assert ["Begoña", "1", "60", "1.0"] in hours
    assert all(f.data.startswith(b"\x89PNG\r\n\x1a\n") for f in sent.files[2:])
    assert checked == (
        EPHEMERAL,
        f"Certificate {code.group(1)} is genuine: Begoña took part in Finger Lakes CoP from "
        "Nov 1, 2026 to Nov 30, 2026, 1 hour of professional development (issued Nov 2, 2026).",
    )
    assert forged == (
        EPHEMERAL,
        "No certificate has the code ABCD-EFGH-JK; please compare it with the one printed on "
        "the PDF.",
    )
