"""The interactive console's terminal: output that arrives while you type keeps your prompt.

A reminder or a closing poll can be printed at any moment while `input()` waits on another
thread; printed as is, it lands after the prompt and the prompt is gone. `Terminal` clears
the prompt line first, prints the output, then draws the prompt again with what was typed
so far, once per burst of output (a message is several lines).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import TextIO

CLEAR_LINE = "\r\x1b[K"  # to column 0, erase to the end of the line (ANSI, any terminal)


def _typed_so_far() -> str:
    """What the user has typed after the prompt (readline keeps it; without it, unknown)."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline
        return ""
    return readline.get_line_buffer()


class Terminal:
    """Reads lines with a prompt and writes the bot's output without losing that prompt."""

    def __init__(
        self,
        out: TextIO = sys.stdout,
        read: Callable[[str], str] = input,
        typed: Callable[[], str] = _typed_so_far,
    ) -> None:
        self.out = out
        self._read = read
        self._typed = typed
        self._lock = threading.Lock()
        self._prompt: str | None = None  # shown and waiting for a line
        self._cleared = False  # the prompt line was cleared for output; redraw is scheduled

    async def readline(self, prompt: str) -> str | None:
        """The next line typed, or None at end of input (Ctrl-D)."""
        return await asyncio.to_thread(self._blocking_read, prompt)

    def _blocking_read(self, prompt: str) -> str | None:
        with self._lock:
            self._prompt = prompt
        try:
            return self._read(prompt)
        except EOFError:
            self.out.write("\n")
            return None
        finally:
            with self._lock:
                self._prompt = None
                self._cleared = False

    def write(self, text: str) -> None:
        """Print one line of output; called on the event loop's thread."""
        with self._lock:
            if self._prompt is not None and not self._cleared:
                # Off a terminal there is nothing to erase: start a fresh line instead.
                self.out.write(CLEAR_LINE if self.out.isatty() else "\n")
                self._cleared = True
                asyncio.get_running_loop().call_soon(self._redraw)
            self.out.write(text + "\n")
            self.out.flush()

    def _redraw(self) -> None:
        with self._lock:
            if self._prompt is not None and self._cleared:
                self.out.write(self._prompt + self._typed())
                self.out.flush()
            self._cleared = False
