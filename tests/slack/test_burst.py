"""Bursts of vote presses through `circlebot run` in HTTP mode, on SQLite and PostgreSQL.

The process is started as in production (as `test_real_process.py` does) against the loopback
fake Web API. A facilitator sets up a community and opens a poll with signed ``/cop``
commands; then many signed ``block_actions`` requests arrive at the same moment. Every ballot
must be stored and counted exactly once, and nobody may be told that something went wrong.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlmodel import col

from storage.db import Database
from storage.models import Job, Member, OutboxMessage
from storage.voting import Ballot, Poll, PollOption
from tests.fakes.slack_fake import (
    CHANNEL_ID,
    SIGNING_SECRET,
    FakeSlackWebAPI,
    block_actions_payload,
    encode_for_http,
    post_signed,
    sign,
    slash_command_payload,
)
from tests.support import CIRCLEBOT, free_port, slack_http_env

ADMIN = "U0ADMIN001"
OPTIONS = ("Outdoor play", "Family engagement", "Transitions")
#: What a person is told when the core failed them; none of these may ever come back.
ERROR_WORDS = ("something went wrong", "nothing was saved", "not saved", "try again")


@dataclass
class Running:
    """A `circlebot run` process and the fake it talks to."""

    url: str
    fake: FakeSlackWebAPI
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)

    async def command(self, text: str, user: str = ADMIN) -> dict[str, Any]:
        """A signed ``/cop`` from `user` in the channel; returns the JSON the ack carried."""
        payload = slash_command_payload(text, fake=self.fake, user_id=user)
        status, body = await post_signed(self.url, encode_for_http(payload))
        assert status == 200, (status, body)
        return json.loads(body)


@asynccontextmanager
async def circlebot_run(
    fake: FakeSlackWebAPI, database_url: str, cwd: Path
) -> AsyncIterator[Running]:
    """Start `circlebot run` in HTTP mode on a free port; stop it (and check its log) after."""
    port = free_port()
    env = slack_http_env(fake.base_url, database_url, port)
    process = await asyncio.create_subprocess_exec(
        str(CIRCLEBOT),
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    running = Running(f"http://127.0.0.1:{port}/slack/events", fake, process)

    async def read_log() -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            running.stderr.append(line.decode(errors="replace"))

    reader = asyncio.create_task(read_log())
    try:
        body = encode_for_http(slash_command_payload("help", fake=fake))
        for _ in range(300):
            if process.returncode is not None:
                raise AssertionError("circlebot exited:\n" + "".join(running.stderr))
            try:
                status, _ = await post_signed(running.url, body)
                break
            except OSError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("circlebot did not start listening")
        assert status == 200
        yield running
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 15)
        await asyncio.wait_for(reader, 5)
    text = "".join(running.stderr)
    assert "Traceback" not in text, text[-4000:]
    assert " not saved" not in text, text[-4000:]


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {
        e["text"]["text"]: e["action_id"]
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["type"] == "button"
    }


async def _open_poll(bot: Running) -> tuple[str, dict[str, str]]:
    """A facilitator's community and poll, as they would set them up; the poll's ts and buttons."""
    bot.fake.add_user(ADMIN, is_admin=True, profile={"display_name": "ana"})
    setup = await bot.command('setup "Burst CoP" UTC')
    assert setup["response_type"] == "in_channel", setup
    opened = await bot.command(
        f'poll new "Which topic next?" options="{" | ".join(OPTIONS)}" closes="in 2 days"'
    )
    assert opened["text"] == "Poll #1 is posted in the channel.", opened
    [posted] = await bot.fake.wait_for("chat.postMessage", timeout=15)
    assert posted.params["channel"] == CHANNEL_ID
    buttons = _buttons(posted.json_param("blocks"))
    assert list(buttons) == list(OPTIONS)
    return bot.fake.messages[CHANNEL_ID][0]["ts"], buttons


@dataclass
class Press:
    user: str
    label: str
    response_url: str
    body: str
    content_type: str


def _press(bot: Running, ts: str, buttons: dict[str, str], user: str, label: str, n: int) -> Press:
    payload = block_actions_payload(buttons[label], "", user_id=user, message_ts=ts, fake=bot.fake)
    payload["user"].update(name=user.lower(), username=user.lower())
    # Each press is its own click (Slack gives every click its own action_ts), so none of
    # them is dropped as a re-delivery before it reaches the core.
    payload["actions"][0]["action_ts"] = f"{1_800_000_000 + n}.{n:06d}"
    encoded = encode_for_http(payload)
    return Press(user, label, payload["response_url"], encoded.body, encoded.content_type)


async def _fire(url: str, presses: list[Press]) -> tuple[list[int], float]:
    """POST every press at the same moment; returns the HTTP statuses and when they started."""
    gate = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def post(press: Press) -> int:
            headers = {"Content-Type": press.content_type}
            await gate.wait()
            # Signed at sending time, as Slack does; the signature covers the timestamp.
            headers.update(sign(press.body, SIGNING_SECRET))
            async with session.post(url, data=press.body.encode(), headers=headers) as response:
                await response.read()
                return response.status

        tasks = [asyncio.create_task(post(p)) for p in presses]
        await asyncio.sleep(0)  # every task is now waiting at the gate
        started = time.perf_counter()
        gate.set()
        statuses = await asyncio.gather(*tasks)
    return list(statuses), started


async def _answers(
    bot: Running, presses: list[Press], since: int, timeout: float
) -> dict[str, str]:
    """Wait for each press's private answer (through its response_url); url -> text."""
    await bot.fake.wait_for("@response_url", count=since + len(presses), timeout=timeout)
    mine = {p.response_url for p in presses}
    answers: dict[str, str] = {}
    for call in bot.fake.response_url_posts:
        url = bot.fake.root_url.rstrip("/") + call.path
        if url in mine:
            assert url not in answers, "a press was answered twice"
            answers[url] = call.params["text"]
    assert len(answers) == len(presses)
    return answers


async def _stored(database_url: str) -> tuple[Counter[str], Counter[str], int]:
    """Ballots per option label, ballots per member user id, and member rows, from the database."""
    db = Database(database_url)
    try:
        async with db.session() as session:
            [poll] = (await session.execute(select(Poll))).scalars().all()
            labels = {
                o.id: o.label
                for o in (
                    await session.execute(select(PollOption).where(PollOption.poll_id == poll.id))
                ).scalars()
            }
            rows = (
                await session.execute(
                    select(Ballot.choices, Member.user_id)
                    .join(Member, Member.id == Ballot.member_id)
                    .where(Ballot.poll_id == poll.id)
                )
            ).all()
            members = (await session.execute(select(func.count()).select_from(Member))).scalar_one()
    finally:
        await db.dispose()
    per_option: Counter[str] = Counter()
    for choices, _user in rows:
        [(option_id, weight)] = json.loads(choices).items()
        assert weight == 1
        per_option[labels[int(option_id)]] += 1
    return per_option, Counter(user for _choices, user in rows), members


async def _outbox_settled(database_url: str, timeout: float = 30.0) -> None:
    """Wait until the process has delivered everything it queued (the last poll edit
    included: its refresh job has run and the edit it queued is out)."""
    db = Database(database_url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                async with db.session() as session:
                    waiting = (
                        await session.execute(
                            select(func.count())
                            .select_from(OutboxMessage)
                            .where(OutboxMessage.status.in_(("pending", "sending")))
                        )
                    ).scalar_one()
                    refreshing = (
                        await session.execute(
                            select(func.count())
                            .select_from(Job)
                            .where(col(Job.id).startswith("poll-refresh:"))
                        )
                    ).scalar_one()
                if not waiting and not refreshing:
                    return
                await asyncio.sleep(0.1)
    finally:
        await db.dispose()


def _saved(label: str) -> str:
    return f"Your vote is saved: {label}. You can change it until the poll closes."


async def _many_voters(slack_api: FakeSlackWebAPI, db_url: str, tmp_path: Path, n: int) -> None:
    async with circlebot_run(slack_api, db_url, tmp_path) as bot:
        ts, buttons = await _open_poll(bot)
        before = len(slack_api.response_url_posts)
        presses = [
            _press(bot, ts, buttons, f"U0V{i:07d}", OPTIONS[i % 7 % len(OPTIONS)], i)
            for i in range(n)
        ]
        statuses, started = await _fire(bot.url, presses)
        acked = time.perf_counter() - started
        answers = await _answers(bot, presses, before, timeout=30 + n / 5)
        answered = time.perf_counter() - started
        results = await bot.command("poll results")
        await _outbox_settled(db_url)
        edits = [c for c in slack_api.calls_to("chat.update") if c.params["ts"] == ts]
    backend = db_url.split(":", 1)[0]
    print(
        f"\n{n} presses on {backend}: all acked in {acked:.2f} s, all answered in {answered:.2f} s"
    )

    assert statuses == [200] * n
    for press in presses:
        assert answers[press.response_url] == _saved(press.label)
    wanted = Counter(p.label for p in presses)
    per_option, per_member, members = await _stored(db_url)
    assert per_option == wanted
    assert per_member == Counter(p.user for p in presses)
    assert members == n + 1  # the voters and the facilitator who set it up
    text = results["text"]
    assert f"Turnout: {n} of {n + 1} members known to circlebot voted." in text, text
    # "1. Outdoor play   ███░░░░░░░ 34 (34%)": circlebot's own count of each option.
    # The poll message in the channel, edited in place, ends at the same count.
    assert edits, "the poll message was never edited"
    assert f"{n} of {n + 1} members known to circlebot voted" in edits[-1].params["text"], edits[
        -1
    ].params["text"]
    counted = {m[1]: int(m[2]) for m in re.finditer(r"^\d+\. (.+?) +[█░]+ (\d+) \(", text, re.M)}
    assert counted == {label: wanted[label] for label in OPTIONS}, text


async def test_a_hundred_voters_pressing_at_once_are_all_counted(slack_api, db_url, tmp_path):
    await _many_voters(slack_api, db_url, tmp_path, 100)


@pytest.mark.long
async def test_five_hundred_voters_pressing_at_once_are_all_counted(slack_api, db_url, tmp_path):
    await _many_voters(slack_api, db_url, tmp_path, 500)


async def test_a_new_member_pressing_fifty_times_at_once_is_one_member_with_one_ballot(
    slack_api, db_url, tmp_path
):
    newcomer, label = "U0NEWBIE01", OPTIONS[1]
    async with circlebot_run(slack_api, db_url, tmp_path) as bot:
        ts, buttons = await _open_poll(bot)
        before = len(slack_api.response_url_posts)
        presses = [_press(bot, ts, buttons, newcomer, label, i) for i in range(50)]
        statuses, _ = await _fire(bot.url, presses)
        answers = await _answers(bot, presses, before, timeout=30)
    assert statuses == [200] * 50
    texts = Counter(answers.values())
    assert texts == {
        _saved(label): 1,
        f"Your vote is already {label}; nothing changed.": 49,
    }, texts
    assert not any(word in t.lower() for t in texts for word in ERROR_WORDS)
    per_option, per_member, members = await _stored(db_url)
    assert per_option == {label: 1}
    assert per_member == {newcomer: 1}
    assert members == 2  # the newcomer, once, and the facilitator
