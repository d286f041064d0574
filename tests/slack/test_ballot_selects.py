"""A ranked ballot on Slack through native selects: the "Rank your choices" button opens a
modal with one static_select per place, options numbered as on the poll; a submission is
checked by the core (a place picked twice is refused under its select) and stored.

Signed requests through the real slack-bolt, the real AsyncWebClient against the fake Web API,
on both databases.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from adapters.slack.render import MAX_SELECT_OPTIONS, render_form
from bot.ui import Form, Input, Option, ranking
from storage.db import Database
from storage.voting import Ballot, PollOption
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    block_actions_payload,
    slash_command_payload,
    view_submission_payload,
)
from tests.slack.helpers import running_bot
from tests.slack.test_poll_end_to_end import button_ids, texts

ADMIN = "U0ADMIN001"
VOTER = "U0VOTER001"


def places(**picked: str | None) -> dict[str, dict[str, dict[str, Any]]]:
    """``view.state.values`` of the ranking: ``rank_1="3"`` picks option 3 as 1st choice."""
    return {
        name.replace("_", "."): {
            "value": {
                "type": "static_select",
                "selected_option": None
                if value is None
                else {"text": {"type": "plain_text", "text": value}, "value": value},
            }
        }
        for name, value in picked.items()
    }


async def test_ranked_ballot_by_selects_is_checked_stored_and_edits_the_poll(
    slack_api, db: Database
) -> None:
    slack_api.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    async with running_bot(slack_api, db=db) as bot:
        await bot.post(
            slash_command_payload('setup "Finger Lakes CoP" UTC', fake=slack_api, user_id=ADMIN)
        )
        await bot.post(
            slash_command_payload(
                'poll new Which topic next? options="Outdoor play | Family engagement | '
                'Transitions | Routines" method=ranked',
                fake=slack_api,
                user_id=ADMIN,
            )
        )
        await bot.app.worker.drain()
        [posted] = slack_api.calls_to("chat.postMessage")
        ts = slack_api.messages[CHANNEL_ID][0]["ts"]
        rank = button_ids(posted.json_param("blocks"))["Rank your choices"]

        click = block_actions_payload(rank, "", user_id=VOTER, message_ts=ts, fake=slack_api)
        assert (await bot.post(click))[0] == 200
        [opened] = await slack_api.wait_for("views.open")
        view = opened.json_param("view")

        def submit(values: dict[str, Any]) -> dict[str, Any]:
            return view_submission_payload(
                "vote.ranked",
                values=values,
                private_metadata=view["private_metadata"],
                user_id=VOTER,
                view={"blocks": view["blocks"]},
            )

        twice = await bot.post(submit(places(rank_1="3", rank_2="3", rank_3=None, rank_4=None)))
        async with db.session() as s:
            none_yet = (await s.execute(select(Ballot))).scalars().all()
        good = await bot.post(submit(places(rank_1="3", rank_2="1", rank_3=None, rank_4=None)))
        [confirmed] = await slack_api.wait_for("chat.postEphemeral")
        await bot.app.advance(timedelta(seconds=5))  # past the coalescing delay of poll edits
        [edit] = slack_api.calls_to("chat.update")
        again = block_actions_payload(rank, "", user_id=VOTER, message_ts=ts, fake=slack_api)
        await bot.post(again)
        [_, reopened] = await slack_api.wait_for("views.open", count=2)
        async with db.session() as s:
            [ballot] = (await s.execute(select(Ballot))).scalars().all()
            options = (
                (await s.execute(select(PollOption).order_by(col(PollOption.position))))
                .scalars()
                .all()
            )

    blocks = view["blocks"]
    assert [b["block_id"] for b in blocks] == ["rank.1", "rank.2", "rank.3", "rank.4"]
    assert [b["label"]["text"] for b in blocks] == [
        "1st choice",
        "2nd choice",
        "3rd choice",
        "4th choice",
    ]
    assert [b["optional"] for b in blocks] == [False, True, True, True]
    assert all(b["element"]["type"] == "static_select" for b in blocks)
    assert [o["text"]["text"] for o in blocks[0]["element"]["options"]] == [
        "1. Outdoor play",
        "2. Family engagement",
        "3. Transitions",
        "4. Routines",
    ]
    assert [o["value"] for o in blocks[0]["element"]["options"]] == ["1", "2", "3", "4"]

    assert twice[0] == 200
    assert json.loads(twice[1]) == {
        "response_action": "errors",
        "errors": {"rank.2": '"3" is ranked twice; rank each option once.'},
    }
    assert none_yet == []
    assert good == (200, "")
    assert "Your vote is saved: 1st Transitions, 2nd Outdoor play." in confirmed.params["text"]
    assert json.loads(ballot.choices) == [options[2].id, options[0].id]
    assert edit.params["ts"] == ts
    # Opened again, the selects show the stored ballot.
    shown = [b["element"].get("initial_option") for b in reopened.json_param("view")["blocks"]]
    assert [o and o["value"] for o in shown] == ["3", "1", None, None]
    assert "1 of " in texts(edit.json_param("blocks"))


def test_a_ranking_with_more_options_than_a_static_select_takes_falls_back_to_typing() -> None:
    choices = [Option(value=str(n), label=f"{n}. Topic {n}") for n in range(1, 102)]
    typed = Input(name="ballot", label="Option numbers, best first", kind="long", hint="1. …")
    form = Form(
        form_id="vote.ranked",
        title="Rank your choices",
        inputs=ranking("rank", ["1st choice", "2nd choice"], choices),
        fallback=[typed],
    )
    view = render_form(form, private_metadata="{}")
    assert len(choices) > MAX_SELECT_OPTIONS
    assert [b["block_id"] for b in view["blocks"]] == ["ballot"]
    assert view["blocks"][0]["hint"]["text"] == "1. …"
    assert view["blocks"][0]["element"]["type"] == "plain_text_input"


def test_a_multi_select_renders_with_its_cap() -> None:
    field = Input(
        name="picks",
        label="Pick two",
        kind="multi",
        max_selected=2,
        initial="b",
        options=[Option(value=v, label=v.upper()) for v in "abc"],
    )
    [block] = render_form(Form(form_id="f", title="T", inputs=[field]), private_metadata="{}")[
        "blocks"
    ]
    assert block["element"]["type"] == "multi_static_select"
    assert block["element"]["max_selected_items"] == 2
    assert [o["value"] for o in block["element"]["initial_options"]] == ["b"]


def test_a_multi_select_submission_reads_as_comma_joined_values() -> None:
    from adapters.slack.parse import form_values

    view = {
        "state": {
            "values": {
                "picks": {
                    "value": {
                        "type": "multi_static_select",
                        "selected_options": [{"value": "a"}, {"value": "c"}],
                    }
                }
            }
        }
    }
    assert form_values(view) == {"picks": "a,c"}
