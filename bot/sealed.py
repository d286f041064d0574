"""Reflection text encrypted at rest: AES-GCM tokens bound to the row they belong to.

A token is ``v1.<base64url(nonce || ciphertext+tag)>``. The associated data names the row
(``reflection:{answer id}:{question}``), so a token copied to another row does not open.
The key is 32 bytes: from the ``REFLECTION_KEY`` setting (base64url), else from a key file
that `make run` creates once (``REFLECTION_KEY_FILE``, default ``./circlebot.key``). Lose
the key and the stored reflections cannot be read by anyone, circlebot included.

Errors never carry the text or the key: `SealBroken` says only that a token did not open.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "v1."


class SealBroken(Exception):
    """A token that does not open with this key and row (wrong key, copied, or damaged)."""


class KeyInvalid(ValueError):
    """A key setting or key file that is not 32 bytes of base64url; names no value."""


def encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode("ascii")


def decode_key(text: str) -> bytes:
    """32 bytes from base64url text (padding optional); `KeyInvalid` otherwise."""
    cleaned = text.strip()
    try:
        key = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raise KeyInvalid("must be 32 random bytes in base64url (44 characters)") from None
    if len(key) != KEY_BYTES:
        raise KeyInvalid("must be 32 random bytes in base64url (44 characters)")
    return key


class Sealer:
    """Seals and opens reflection text with one key; see the module docstring."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyInvalid("must be 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def generate(cls) -> Sealer:
        """A sealer with a fresh random key (tests, throwaway consoles)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    def seal(self, text: str, aad: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        data = self._aead.encrypt(nonce, text.encode("utf-8"), aad.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + data).decode("ascii")

    def open(self, token: str, aad: str) -> str:
        if not token.startswith(PREFIX):
            raise SealBroken("not a sealed token")
        try:
            raw = base64.urlsafe_b64decode(token[len(PREFIX) :])
            data = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad.encode("utf-8"))
        except (binascii.Error, ValueError, InvalidTag):
            raise SealBroken("a sealed token did not open with this key and row") from None
        return data.decode("utf-8")

    def __repr__(self) -> str:  # never the key
        return "Sealer(<key hidden>)"


def key_from_file(path: Path) -> tuple[bytes, bool]:
    """The key in `path`, creating it (mode 0600) when it does not exist; (key, created)."""
    if path.exists():
        try:
            return decode_key(path.read_text(encoding="ascii")), False
        except (OSError, UnicodeDecodeError):
            raise KeyInvalid(f"cannot read the key file {path}") from None
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(encode_key(key) + "\n")
    return key, True
