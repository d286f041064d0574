"""Verification codes for certificates: short, random, easy to read aloud and to type.

Ten characters from a 32-letter alphabet without 0/O and 1/I (50 random bits from
`secrets`, nothing derived from the certificate), shown grouped ``ABCD-EFGH-JK``. Typed
codes are read forgivingly: case, spaces and dashes do not matter.
"""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 10


def new_code() -> str:
    """A fresh random code, stored form (no dashes)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def shown(code: str) -> str:
    """``ABCDEFGHJK`` -> ``ABCD-EFGH-JK``."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def normalise(typed: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one of ours."""
    code = "".join(typed.split()).replace("-", "").replace("\u2010", "").upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code
