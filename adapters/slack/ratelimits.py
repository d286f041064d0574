"""Counting Slack's rate-limit answers, including those slack-sdk waits out by itself."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState


class CountRateLimits(AsyncRetryHandler):
    """A retry handler that never retries: it tells `seen` of each HTTP 429 and steps aside.

    slack-sdk asks its handlers in order after every answer, so placed first this one sees
    every 429 (the `ShortRateLimitRetry` after it decides whether to wait and retry).
    """

    def __init__(self, seen: Callable[[], None]) -> None:
        super().__init__(max_retry_count=0)
        self.seen = seen

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self.seen()
        return False
