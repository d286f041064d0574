"""`circlebot doctor`'s Discord line: does Discord accept DISCORD_TOKEN (``GET /users/@me``)?"""

from __future__ import annotations

import asyncio

import aiohttp

from bot.config import Settings, unreachable_reason
from bot.doctor import TIMEOUT, Finding


async def check_discord(settings: Settings) -> Finding:
    """One ``GET /users/@me`` with the bot token against DISCORD_API_URL; never shows it."""
    assert settings.discord_token is not None
    url = settings.discord_api_url.rstrip("/") + "/users/@me"
    headers = {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"}
    try:
        async with (
            asyncio.timeout(TIMEOUT),
            aiohttp.ClientSession() as session,
            session.get(url, headers=headers) as response,
        ):
            status = response.status
            body = await response.json(content_type=None) if status == 200 else {}
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as err:
        return Finding(
            "Discord",
            False,
            f"cannot reach {settings.discord_api_url}: {unreachable_reason(err)}; check "
            "DISCORD_API_URL and the network",
        )
    if status == 401:
        return Finding(
            "Discord",
            False,
            "Discord refused DISCORD_TOKEN; copy the bot token again from the Developer "
            "Portal (Bot, Reset Token)",
        )
    if status != 200:
        return Finding("Discord", False, f"GET /users/@me answered HTTP {status}; try again later")
    name = body.get("username", "?") if isinstance(body, dict) else "?"
    return Finding("Discord", True, f"the bot token works (bot user {name})")
