"""``/cop my-data export``: the person's data as a JSON file and their reflections as a CSV,
sent to them alone by direct message.

The DM goes through the outbox sealed (``sealed=True``): the files hold reflection text,
so the queued row is encrypted like a reflection and blanked once it is delivered. The
command's own answer says only that the files are on their way.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from bot.context import Context, UserError
from bot.events import Reply, Respond
from bot.features.mydata.gather import community_record, iso
from bot.features.mydata.people import rows_of
from bot.i18n import Translator
from bot.ui import File, Message, Section

log = logging.getLogger(__name__)

FORMAT = "circlebot-my-data/1"
JSON_NAME = "my-data.json"
CSV_NAME = "my-reflections.csv"
# The same convention as the poll exports: UTF-8 with a byte-order mark, so spreadsheet
# programs read accents right, and cells a spreadsheet would run as formulas defused.
CSV_ENCODING = "utf-8-sig"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


async def export(ctx: Context) -> Reply:
    """Gather the person's data in every community of this workspace and DM it, sealed."""
    user = ctx.actor.user
    rows = await rows_of(ctx.session, user)
    if not rows:
        raise UserError(ctx.t("mydata.export.nothing"))
    sealer = ctx.services.sealer
    communities = [await community_record(ctx.session, sealer, c, m) for c, m in rows]
    data = {
        "format": FORMAT,
        "exported_at": iso(ctx.now),
        "person": {
            "platform": user.platform,
            "workspace": user.workspace_id,
            "user_id": user.user_id,
        },
        "communities": communities,
    }
    files = [
        File(
            filename=JSON_NAME,
            content=json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"),
            title=ctx.t("mydata.export.title_json"),
            mime="application/json",
        ),
        File(
            filename=CSV_NAME,
            content=reflections_csv(ctx.t, communities),
            title=ctx.t("mydata.export.title_csv"),
            mime="text/csv",
        ),
    ]
    text = ctx.t.n("mydata.export.dm", len(rows))
    message = Message(text=text, blocks=[Section.of(text), *files])
    await ctx.outbox.enqueue(
        key=f"mydata:export:{user.platform}:{user.workspace_id}:{user.user_id}:"
        f"{ctx.now.isoformat()}",
        to=user,
        message=message,
        sealed=True,
    )
    log.info("data export queued for %s (%d communities)", user.user_id, len(rows))
    return Respond(Message(text=ctx.t("mydata.export.sent")))


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def reflections_csv(t: Translator, communities: list[dict[str, Any]]) -> bytes:
    """One row per answer and per commitment, oldest first within each community."""
    out = io.StringIO()
    writer = csv.writer(out)  # \r\n line ends, as RFC 4180 and Excel expect
    header = ["community", "check_in", "round", "asked_at", "kind", "question", "answer"]
    writer.writerow([*header, "who_can_read", "changed_at"])
    unreadable = t("mydata.export.unreadable")
    for record in communities:
        name = record["community"]["name"]
        reflections = record["reflections"]
        for a in reflections["answers"]:
            row = [name, a["check_in"], a["round"], a["asked_at"], t("mydata.export.kind_answer")]
            answer = unreadable if a["unreadable"] else a["answer"]
            row += [a["question"], answer, t(f"mydata.privacy.{a['who_can_read']}")]
            writer.writerow([*(_cell(v) for v in row), a["changed_at"]])
        for c in reflections["commitments"]:
            text = unreadable if c["commitment"] is None else c["commitment"]
            made = [name, "", "", c["made_at"], t("mydata.export.kind_commitment"), "", text]
            writer.writerow([*(_cell(v) for v in made), "", c["made_at"]])
            if c["how_it_went"] is not None:
                note = [name, "", "", c["checked_at"], t("mydata.export.kind_note"), text]
                writer.writerow(
                    [*(_cell(v) for v in [*note, c["how_it_went"]]), "", c["checked_at"]]
                )
    return out.getvalue().encode(CSV_ENCODING)
