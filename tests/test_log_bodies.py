"""LOG_LEVEL=DEBUG never lets the platform libraries log message bodies (reflections, exports)."""

from __future__ import annotations

import logging

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cli import BODY_LOGGERS, keep_platform_bodies_out_of_logs
from tests.fakes.slack_fake import BOT_TOKEN, FakeSlackWebAPI


@pytest.fixture
def debug_root() -> object:
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in BODY_LOGGERS}
    root.setLevel(logging.DEBUG)
    yield root
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


async def test_slack_sdk_request_bodies_stay_out_of_a_debug_log(
    debug_root: object, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "canary-7f3a what I noticed today"
    async with FakeSlackWebAPI() as fake:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url)
        with caplog.at_level(logging.DEBUG):
            await client.chat_postMessage(channel="C1", text=canary)
        assert any(canary in r.getMessage() for r in caplog.records)  # the library does log it

        caplog.clear()
        keep_platform_bodies_out_of_logs()
        await client.chat_postMessage(channel="C1", text=canary)
    assert not any(canary in r.getMessage() for r in caplog.records)
    assert logging.getLogger("bot").isEnabledFor(logging.DEBUG)  # circlebot's own stay DEBUG
