"""Reads console lines (typed or from a script) and turns them into core events.

Directives::

    :as NAME [admin|member] act as NAME; admin/member sets NAME's role until changed
    :in #channel | :in dm   where the next lines happen
    /cop ...                a slash command
    :press [N] LABEL        press a button you can see (on message N, else the latest)
    :submit name=value ...  submit the open form; :cancel closes it
    :at 2026-12-01T17:00    move the clock to that local time (script mode)
    :advance 3d4h30m        move the clock forward (script mode)
    # text                  a comment
"""

from __future__ import annotations

import logging
import re
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.console.adapter import WORKSPACE, ConsoleAdapter
from adapters.console.render import form_inputs, pressables, render_form
from bot.app import App
from bot.commands import UNPARSED, ParseError
from bot.events import (
    Ack,
    ActionClicked,
    Actor,
    CommandInvoked,
    ConversationRef,
    Event,
    FormErrors,
    FormSubmitted,
    MessageRef,
    OpenForm,
    Place,
    Reply,
    Respond,
    UserRef,
)
from bot.i18n import Translator
from bot.jobs import Claimed
from bot.ui import ActionId, ActionIdError, Form

log = logging.getLogger(__name__)

_DURATION = re.compile(r"(\d+)([wdhms])")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_ROLES = ("admin", "member")


class DirectiveError(ValueError):
    """A console line that cannot be understood."""


def parse_duration(text: str) -> timedelta:
    """``3d4h30m`` -> timedelta; raises DirectiveError otherwise."""
    text = text.strip().lower()
    if not text or _DURATION.sub("", text):
        raise DirectiveError(f"cannot read duration {text!r}; use e.g. 2d, 3h30m or 1w2d")
    delta = timedelta()
    for amount, unit in _DURATION.findall(text):
        delta += timedelta(**{_UNITS[unit]: int(amount)})
    return delta


@dataclass
class _OpenForm:
    form: Form
    place: Place


class ConsoleSession:
    """One person at the keyboard (who can become anyone with ``:as``)."""

    def __init__(self, app: App, adapter: ConsoleAdapter, *, zone: str = "UTC") -> None:
        self.app = app
        self.adapter = adapter
        self.zone = ZoneInfo(zone)
        self.user = "you"
        # Workspace admins by name: `:as NAME admin` lasts until `:as NAME member`.
        self.admins: set[str] = {"you"}
        self.channel = "general"
        self.in_dm = False
        self.forms: dict[str, _OpenForm] = {}
        self.t = Translator()
        self._last_header: datetime | None = None
        self._header_due = False
        adapter.before_output = self._print_header

    # -- output -------------------------------------------------------------------------
    def _print_header(self) -> None:
        if self._header_due:
            self._header_due = False
            local = self.app.clock.now().astimezone(self.zone)
            self.adapter.write(f"~ {local:%a} {local.day} {local:%b %Y}, {local:%H:%M %Z}")

    def _mark_time(self) -> None:
        now = self.app.clock.now()
        if now != self._last_header:
            self._last_header = now
            self._header_due = True

    # -- identity -------------------------------------------------------------------------
    @property
    def admin(self) -> bool:
        return self.user in self.admins

    def actor(self) -> Actor:
        return Actor(UserRef("console", WORKSPACE, self.user), self.user, self.admin)

    def place(self) -> Place:
        if self.in_dm:
            conv = ConversationRef("console", WORKSPACE, f"dm-{self.user}")
            return Place(conv, f"dm-{self.user}", is_dm=True)
        return Place(ConversationRef("console", WORKSPACE, self.channel), self.channel)

    # -- input ----------------------------------------------------------------------------
    async def feed(self, line: str, *, echo: bool = False) -> None:
        """Handle one input line; problems are printed, never raised."""
        line = line.strip()
        if not line or line.startswith("#") and not line.startswith("#!"):
            return
        if echo:
            self.adapter.write(f"{self.user}> {line}")
        try:
            await self._dispatch_line(line)
        except DirectiveError as err:
            self.adapter.write(f"! {err}")

    async def _dispatch_line(self, line: str) -> None:
        if line.startswith("/cop"):
            await self._command(line[len("/cop") :])
        elif line.startswith(":"):
            name, _, rest = line[1:].partition(" ")
            handler = getattr(self, f"_d_{name.lower()}", None)
            if handler is None:
                raise DirectiveError(f"unknown directive :{name}; try :help")
            await handler(rest.strip())
        else:
            raise DirectiveError("lines start with /cop, a :directive or # for a comment")

    async def _command(self, text: str) -> None:
        try:
            cmd, params = self.app.registry.parse(text, self.t)
        except ParseError:
            # the core refuses it in the person's language
            event = CommandInvoked(self.actor(), self.place(), UNPARSED, {"text": text})
        else:
            event = CommandInvoked(self.actor(), self.place(), cmd.path, params)
        await self._send(event)

    async def _send(self, event: Event) -> None:
        if not event.place.is_dm:
            self.adapter.seen_in(event.place.conversation.channel_id, self.user)
        reply = await self.app.dispatcher.handle(event)
        self.show_reply(reply, event.place)
        await self.app.worker.drain()

    def show_reply(self, reply: Reply, place: Place | None) -> None:
        who = f"@{self.user}"
        if isinstance(reply, Respond):
            if reply.private or place is None:
                here = self.place()
                if here.is_dm:
                    number = self.adapter.remember(
                        here.conversation, reply.message, dm_user=self.user
                    )
                else:
                    number = self.adapter.remember(
                        here.conversation, reply.message, private_to=self.user
                    )
                self.adapter.show(f"[private {who}]", reply.message, number)
            else:
                conv = place.conversation
                number = self.adapter.remember(conv, reply.message)
                label = f"dm {who}" if place.is_dm else f"#{conv.channel_id}"
                self.adapter.show(f"[{label}]", reply.message, number)
        elif isinstance(reply, OpenForm):
            self.forms[self.user] = _OpenForm(reply.form, place or self.place())
            lines = render_form(reply.form)
            self.adapter.write(f"[form {who}] {lines[0]}")
            for line in lines[1:]:
                self.adapter.write(line)
        elif isinstance(reply, FormErrors):
            for field, error in reply.errors.items():
                self.adapter.write(f"[private {who}] {field}: {error}")
        elif not isinstance(reply, Ack):
            raise TypeError(f"unknown reply {reply!r}")

    # -- directives -----------------------------------------------------------------------
    async def _d_help(self, _rest: str) -> None:
        for line in __doc__.split("Directives::", 1)[1].splitlines():
            if line.strip():
                self.adapter.write(line.removeprefix("    "))

    async def _d_as(self, rest: str) -> None:
        parts = rest.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1] not in _ROLES):
            raise DirectiveError("use :as NAME, :as NAME admin or :as NAME member")
        self.user = parts[0].lstrip("@")
        if len(parts) == 2 and parts[1] == "admin":
            self.admins.add(self.user)
        elif len(parts) == 2:
            self.admins.discard(self.user)

    async def _d_in(self, rest: str) -> None:
        if rest == "dm":
            self.in_dm = True
            return
        if not rest.startswith("#") or len(rest) < 2 or " " in rest:
            raise DirectiveError("use :in #channel or :in dm")
        self.in_dm = False
        self.channel = rest[1:]

    async def _d_press(self, rest: str) -> None:
        number, label = None, rest
        head, _, tail = rest.partition(" ")
        if head.isdigit() and tail:
            number, label = int(head), tail.strip()
        if not label:
            raise DirectiveError("use :press LABEL or :press N LABEL")
        if number is None:
            candidates = [
                p
                for p in reversed(self.adapter.posted.values())
                if pressables(p.message) and p.seen_by() in (None, self.user)
            ]
            if not candidates:
                raise DirectiveError(f"no message with buttons that @{self.user} can see yet")
            posted = candidates[0]
        else:
            found = self.adapter.posted.get(number)
            if found is None or not pressables(found.message):
                raise DirectiveError(f"message {number} has no buttons")
            posted = found
        owner = posted.seen_by()
        if owner is not None and owner != self.user:
            raise DirectiveError(f"message {posted.number} was sent to @{owner} only")
        options = pressables(posted.message)
        chosen = [o for o in options if o[0].lower() == label.lower()]
        if not chosen and label.isdigit() and 1 <= int(label) <= len(options):
            chosen = [options[int(label) - 1]]
        if not chosen:
            shown = ", ".join(o[0] for o in options)
            raise DirectiveError(
                f"message {posted.number} has no button {label!r} (it has {shown})"
            )
        _label, action, value = chosen[0]
        if posted.dm_user is not None:
            place = Place(posted.conversation, posted.conversation.channel_id, is_dm=True)
        else:
            place = Place(posted.conversation, posted.conversation.channel_id)
        try:
            action_id = ActionId.parse(action)
        except ActionIdError as err:
            raise DirectiveError(str(err)) from None
        ref = MessageRef("console", posted.conversation.channel_id, str(posted.number))
        await self._send(ActionClicked(self.actor(), place, action_id, ref, value))

    async def _d_submit(self, rest: str) -> None:
        open_form = self.forms.get(self.user)
        if open_form is None:
            raise DirectiveError(f"@{self.user} has no open form")
        try:
            tokens = shlex.split(rest)
        except ValueError as err:
            raise DirectiveError(f"cannot read :submit line: {err}") from None
        values = {}
        known = {i.name for i in form_inputs(open_form.form)}
        for token in tokens:
            name, sep, value = token.partition("=")
            if not sep or name not in known:
                raise DirectiveError(
                    f"{token!r} is not NAME=value for this form ({', '.join(known)})"
                )
            values[name] = value
        for field in form_inputs(open_form.form):
            values.setdefault(field.name, "")
        event = FormSubmitted(
            self.actor(), open_form.place, open_form.form.form_id, values, open_form.form.metadata
        )
        reply = await self.app.dispatcher.handle(event)
        if not isinstance(reply, FormErrors):
            del self.forms[self.user]
        self.show_reply(reply, event.place)
        await self.app.worker.drain()

    async def _d_cancel(self, _rest: str) -> None:
        if self.forms.pop(self.user, None) is None:
            raise DirectiveError(f"@{self.user} has no open form")

    def _manual(self) -> None:
        if not self.app.manual:
            raise DirectiveError("the clock only moves in script mode (or with --start)")

    async def _d_at(self, rest: str) -> None:
        self._manual()
        try:
            when = datetime.fromisoformat(rest)
        except ValueError:
            raise DirectiveError("use :at 2026-12-01T17:00") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=self.zone)
        if when < self.app.clock.now():
            raise DirectiveError("the clock only moves forward")
        await self._advance(when)

    async def _d_advance(self, rest: str) -> None:
        self._manual()
        await self._advance(self.app.clock.now() + parse_duration(rest))

    async def _advance(self, when: datetime) -> None:
        # A header with the local time is printed before the first output of each due time.
        jobs = self.app.jobs
        execute = jobs.execute

        async def run(job: Claimed) -> None:
            self._mark_time()
            await execute(job)

        jobs.execute = run
        try:
            await self.app.advance_to(when)
        finally:
            jobs.execute = execute
            self._header_due = False
        self._last_header = None
