"""The interactive console keeps its prompt when output arrives while someone types.

`Terminal.readline` runs the blocking read on a thread as the real console does; the read
here blocks on an event, so output is written exactly while a prompt is waiting.
"""

from __future__ import annotations

import asyncio
import io
import threading

from adapters.console import run_interactive
from adapters.console.terminal import CLEAR_LINE, Terminal
from storage.db import Database


class Screen(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Keyboard:
    """Stands in for `input()`: shows the prompt, then waits until the test gives a line."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.waiting = threading.Event()
        self.lines: list[str | None] = []
        self.go = threading.Event()

    def read(self, prompt: str) -> str:
        self.screen.write(prompt)
        self.waiting.set()
        self.go.wait(10)
        self.go.clear()
        self.waiting.clear()
        line = self.lines.pop(0)
        if line is None:
            raise EOFError
        return line

    def type(self, line: str | None) -> None:
        self.lines.append(line)
        self.go.set()


async def _reading(terminal: Terminal, keyboard: Keyboard, prompt: str) -> asyncio.Task[str | None]:
    task = asyncio.create_task(terminal.readline(prompt))
    assert await asyncio.to_thread(keyboard.waiting.wait, 10)
    return task


async def _output_settled() -> None:
    # The redraw is scheduled with call_soon by the first line of a burst; two loop turns
    # run it (one for the callback, one for safety when the writes themselves were queued).
    for _ in range(2):
        await asyncio.sleep(0)


async def test_output_while_typing_clears_the_prompt_and_draws_it_again() -> None:
    screen = Screen(tty=True)
    keyboard = Keyboard(screen)
    terminal = Terminal(screen, keyboard.read, typed=lambda: "/cop poll li")
    task = await _reading(terminal, keyboard, "ana #circle> ")

    terminal.write("[#circle] Reminder: Monthly circle starts in 1 hour")
    terminal.write("  Tue 3 Nov 18:30 (UTC)")
    await _output_settled()

    assert screen.getvalue() == (
        "ana #circle> "
        f"{CLEAR_LINE}[#circle] Reminder: Monthly circle starts in 1 hour\n"
        "  Tue 3 Nov 18:30 (UTC)\n"
        "ana #circle> /cop poll li"
    )
    keyboard.type("/cop poll list")
    assert await task == "/cop poll list"

    terminal.write("after the line was read")  # no prompt is waiting: plain output
    assert screen.getvalue().endswith("/cop poll liafter the line was read\n")


async def test_off_a_terminal_output_starts_a_fresh_line_instead_of_erasing() -> None:
    screen = Screen(tty=False)
    keyboard = Keyboard(screen)
    terminal = Terminal(screen, keyboard.read, typed=lambda: "")
    task = await _reading(terminal, keyboard, "ana #circle> ")

    terminal.write("[#circle] The poll “Topic for March” closed.")
    await _output_settled()

    assert screen.getvalue() == (
        "ana #circle> \n[#circle] The poll “Topic for March” closed.\nana #circle> "
    )
    assert CLEAR_LINE not in screen.getvalue()
    keyboard.type(None)
    assert await task is None


async def test_the_interactive_console_writes_through_its_terminal(tmp_path) -> None:
    screen = Screen(tty=False)
    keyboard = Keyboard(screen)
    terminal = Terminal(screen, keyboard.read, typed=lambda: "")
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    await db.upgrade()
    keyboard.type("/cop help")
    keyboard.type(None)
    try:
        await asyncio.wait_for(run_interactive(db, terminal=terminal, files_dir=tmp_path), 30)
    finally:
        await db.dispose()
    text = screen.getvalue()
    assert text.startswith("you (admin) #general> ")
    assert "What you can do with circlebot here:" in text
    assert text.endswith("#general> \n")  # the last prompt, then the newline of Ctrl-D
