"""Fixtures for Slack tests: a running fake Web API and a Socket Mode server attached to it.

The repository root is put on ``sys.path`` so ``tests.fakes.slack_fake`` imports under
pytest's default (prepend) import mode even though ``tests/`` itself is not a package.
"""

import sys
from pathlib import Path

import pytest

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.fakes.slack_fake import FakeSlackWebAPI, FakeSocketModeServer  # noqa: E402


@pytest.fixture
async def slack_api():
    """A running :class:`FakeSlackWebAPI` on loopback, stopped after the test."""
    async with FakeSlackWebAPI() as fake:
        yield fake


@pytest.fixture
async def socket_mode_server(slack_api):
    """A :class:`FakeSocketModeServer` whose URL ``apps.connections.open`` on ``slack_api``
    returns."""
    async with FakeSocketModeServer(slack_api) as server:
        yield server
