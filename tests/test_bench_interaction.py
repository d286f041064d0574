"""The P1 interaction benchmark (`bench.interaction`) runs end to end with a few presses.

A smoke test, not a timed one: both platforms, circlebot and the bare apps, a poll that
already holds ballots; every press must be answered and measured, and circlebot must have
stored each voter's ballot (so the confirmations timed are real votes).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bench import interaction
from storage.db import Database
from storage.voting import Ballot


@pytest.mark.long
async def test_the_interaction_benchmark_measures_every_press_on_both_platforms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored: list[int] = []
    real = interaction.circlebot

    def counting(adapter, tmp):  # type: ignore[no-untyped-def]
        """circlebot(), counting the poll's ballots before the app stops."""
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def wrapped():  # type: ignore[no-untyped-def]
            async with real(adapter, tmp) as app:
                yield app
                stored.append(await _ballots(app.db))

        return wrapped()

    monkeypatch.setattr(interaction, "circlebot", counting)
    monkeypatch.setattr(interaction, "WARMUP", 1)
    results = await interaction.run(["slack", "discord"], [5], 3, None)

    assert [(r.platform, r.ballots) for r in results] == [("Slack", 5), ("Discord", 5)]
    for result in results:
        assert len(result.bare_ack) == len(result.bot_confirmed) == 3
        assert all(ms > 0 for ms in result.bare_ack + result.bot_confirmed)
        assert result.row().startswith(f"| {result.platform} | 5 | 3 |")
    assert len(results[0].bot_ack) == 3  # Slack's HTTP ack is timed too
    # 5 seeded ballots, then one first vote per press (the warm-up press included).
    assert stored == [5 + 1 + 3, 5 + 1 + 3]


async def _ballots(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(select(func.count()).select_from(Ballot))).scalar_one())
