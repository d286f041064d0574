"""`circlebot doctor`'s Slack line: does Slack accept SLACK_BOT_TOKEN (``auth.test``)?"""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, unreachable_reason
from bot.doctor import TIMEOUT, Finding

#: Error codes that mean the token itself is wrong (as at start-up, `adapter.REFUSED_TOKEN`).
REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


async def check_slack(settings: Settings) -> Finding:
    """One ``auth.test`` with the bot token against SLACK_API_URL; the token is never shown."""
    if settings.slack_bot_token is None:
        return Finding("Slack", True, "installs through OAuth (no single bot token to check)")
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=int(TIMEOUT),
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            answer = await client.auth_test()
    except SlackApiError as err:
        code = str(err.response.get("error")) if err.response is not None else "error"
        if code in REFUSED:
            return Finding(
                "Slack",
                False,
                f"Slack refused SLACK_BOT_TOKEN ({code}); copy the Bot User OAuth Token "
                "(xoxb-...) again from the app's OAuth & Permissions page",
            )
        return Finding("Slack", False, f"auth.test answered {code}; try again in a minute")
    except (aiohttp.ClientError, OSError, TimeoutError) as err:
        return Finding(
            "Slack",
            False,
            f"cannot reach {settings.slack_api_url}: {unreachable_reason(err)}; check "
            "SLACK_API_URL and the network",
        )
    team, user = answer.get("team") or "?", answer.get("user") or "?"
    return Finding("Slack", True, f"the bot token works (workspace {team}, bot user {user})")
