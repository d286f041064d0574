"""The console adapter: the whole bot in a terminal, no account needed.

Output lines look like ``[#channel] text``, ``[dm @name] text`` and
``[private @name] text``; a reply in a message's thread is indented under an arrow,
``  ↳ [#channel] text``; messages with buttons get a number so a script can
``:press 3 Going``. Everything printed is deterministic, so transcripts can be
compared in tests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from adapters.console.render import pressables, render
from bot.events import ConversationRef, MessageRef, UserRef
from bot.ports import Audience, AudienceKind, Capabilities, Handler
from bot.ui import File, Message

log = logging.getLogger(__name__)

WORKSPACE = "console"


@dataclass
class Posted:
    """A message the console showed, remembered for `:press`."""

    number: int
    conversation: ConversationRef
    message: Message
    dm_user: str | None = None
    # A private (ephemeral) reply in a channel: only this person sees it.
    private_to: str | None = None

    def seen_by(self) -> str | None:
        """The one person who can see this message, or None when the whole channel can."""
        return self.dm_user or self.private_to


class ConsoleAdapter:
    """Prints messages; remembers the ones with buttons."""

    platform: ClassVar[str] = "console"
    capabilities = Capabilities(
        buttons=True, max_buttons=25, forms=True, edit=True, files=True, threads=True
    )
    # The session knows its people (`people`), so counting them again costs nothing.
    audience_ttl: float = 0.0

    def __init__(self, write: Callable[[str], None] = print, files_dir: Path | None = None) -> None:
        self.write = write
        self.files_dir = files_dir
        self.posted: dict[int, Posted] = {}
        self._next = 1
        self.handle: Handler | None = None
        self.before_output: Callable[[], None] = lambda: None
        self.people: dict[str, set[str]] = {}
        """channel -> everyone who has typed or pressed there this session (`seen_in`)."""

    async def start(self, handle: Handler) -> None:
        self.handle = handle

    async def stop(self) -> None:
        self.handle = None

    def seen_in(self, channel: str, user: str) -> None:
        """Note that `user` is in `channel`: the console's channel members are who acted there."""
        self.people.setdefault(channel, set()).add(user)

    async def audience(self, conversation: ConversationRef) -> Audience | None:
        """The people this session has seen in the channel (`bot.ports.AudienceSource`)."""
        people = self.people.get(conversation.channel_id)
        return Audience(len(people), AudienceKind.CHANNEL) if people else None

    def show(self, prefix: str, msg: Message, number: int | None = None, indent: str = "") -> None:
        """Print a message under `prefix`, continuation lines indented (all by `indent`)."""
        self.before_output()
        lines = render(msg)
        if number is not None and pressables(msg):
            lines.append(f"(message {number}: :press {number} LABEL)")
        self.write(f"{indent}{prefix} {lines[0]}" if lines else f"{indent}{prefix}")
        for line in lines[1:]:
            self.write(f"{indent}  {line}")
        self._save_files(msg)

    def _save_files(self, msg: Message) -> None:
        if self.files_dir is None:
            return
        for block in msg.blocks:
            if isinstance(block, File):
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path = self.files_dir / Path(block.filename).name
                path.write_bytes(block.content)
                self.write(f"  saved {path}")

    def remember(
        self,
        conv: ConversationRef,
        msg: Message,
        dm_user: str | None = None,
        private_to: str | None = None,
    ) -> int:
        number = self._next
        self._next += 1
        self.posted[number] = Posted(number, conv, msg, dm_user, private_to)
        return number

    async def send(self, to: ConversationRef, msg: Message) -> MessageRef:
        number = self.remember(to, msg)
        self.show(f"[#{to.channel_id}]", msg, number)
        return MessageRef(self.platform, to.channel_id, str(number))

    async def send_in_thread(self, parent: MessageRef, msg: Message) -> MessageRef:
        """A reply in the thread of `parent` (`bot.ports.ThreadedSend`), indented under it:
        ``  ↳ [#channel] text``."""
        under = self.posted.get(int(parent.message_id)) if parent.message_id.isdigit() else None
        conv = (
            under.conversation
            if under
            else ConversationRef(self.platform, WORKSPACE, parent.channel_id)
        )
        dm_user = under.dm_user if under else None
        number = self.remember(conv, msg, dm_user=dm_user)
        where = f"dm @{dm_user}" if dm_user else f"#{conv.channel_id}"
        self.show(f"↳ [{where}]", msg, number, indent="  ")
        return MessageRef(self.platform, conv.channel_id, str(number))

    async def edit(self, ref: MessageRef, msg: Message) -> None:
        number = int(ref.message_id)
        posted = self.posted.get(number)
        if posted is not None:
            posted.message = msg
        where = f"dm @{posted.dm_user}" if posted and posted.dm_user else f"#{ref.channel_id}"
        self.show(f"[{where}] (message {number} updated)", msg, number)

    async def send_dm(self, user: UserRef, msg: Message) -> MessageRef:
        conv = ConversationRef(self.platform, user.workspace_id, f"dm-{user.user_id}")
        number = self.remember(conv, msg, dm_user=user.user_id)
        self.show(f"[dm @{user.user_id}]", msg, number)
        return MessageRef(self.platform, conv.channel_id, str(number))
