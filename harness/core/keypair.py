"""Solana keypairs: told apart from transaction signatures, which have the same length.

A Solana keypair, as ``solana-keygen`` writes it (a JSON array of 64 numbers 0..255) or as wallets
export it (base58 of the same 64 bytes), is the ed25519 seed (32 bytes) followed by the public key
(32 bytes) that the seed derives. A transaction signature is 64 bytes too, and base58 as well, but
its second half is a scalar, not the key its first half derives: deriving the public key of the
first half and comparing it with the second half tells the two apart with certainty. Signatures,
mints and wallet addresses are public data; only a keypair is a secret.

The derivation is libsodium's (PyNaCl), the check runs once per distinct 64-byte value (a bounded
cache keeps the verdicts, since polled REST answers repeat the same signatures).

Pure: no files, no clock.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from nacl.bindings import crypto_sign_seed_keypair

from harness.core import base58

KEYPAIR_BYTES = 64

_WORDS = bytes(ord("a") if chr(c) in base58.ALPHABET else ord(" ") for c in range(256))
"""Each base58 character to ``a``, every other byte to a space: a text's base58 words at C speed."""
_WORD = b"a" * 64
"""The shortest base58 word that can hold 64 bytes."""
_BYTE = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
BYTE_ARRAY = re.compile(rf"\[\s*(?:{_BYTE}\s*,\s*){{63}}{_BYTE}\s*\]")
"""A JSON array of exactly 64 integers 0..255, as a keypair file holds it."""


def is_keypair(data: bytes) -> bool:
    """Whether ``data`` is an ed25519 keypair: 64 bytes whose last 32 are the public key of the
    first 32 (a transaction signature of the same length is not)."""
    return len(data) == KEYPAIR_BYTES and _derives(data)


@functools.lru_cache(maxsize=1 << 14)
def _derives(data: bytes) -> bool:
    public, _secret = crypto_sign_seed_keypair(data[:32])
    return bool(public == data[32:])


@functools.lru_cache(maxsize=1 << 12)
def base58_keypair(text: str) -> bytes | None:
    """The keypair ``text`` encodes in base58, or None (a signature, a key, anything else)."""
    if not 64 <= len(text) <= 88:
        return None
    try:
        data = base58.decode(text)
    except ValueError:
        return None
    return data if is_keypair(data) else None


def array_keypair(values: list[object]) -> bytes | None:
    """The keypair a decoded JSON array of 64 integers 0..255 holds, or None."""
    if len(values) != KEYPAIR_BYTES:
        return None
    if not all(type(v) is int and 0 <= v <= 255 for v in values):
        return None
    data = bytes(values)  # type: ignore[arg-type]
    return data if is_keypair(data) else None


def replace_base58_keypairs(text: str, replace: Callable[[bytes], str]) -> str:
    """``text`` with every base58 keypair that stands as a word of its own (alone, in a JSON string,
    in a sentence) replaced by ``replace(keypair)``; signatures and every other word kept."""
    # one character, one byte ("?" for the rest of Unicode), so the offsets are the text's
    words = text.encode("ascii", "replace").translate(_WORDS)
    out: list[str] = []
    done = 0
    start = words.find(_WORD)
    while start >= 0:
        end = words.find(b" ", start + len(_WORD))
        end = len(words) if end < 0 else end
        if end - start <= 88:
            data = base58_keypair(text[start:end])
            if data is not None:
                out += (text[done:start], replace(data))
                done = end
        start = words.find(_WORD, end)
    return "".join((*out, text[done:])) if out else text
