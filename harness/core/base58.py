"""Base58 (the Bitcoin alphabet Solana uses for public keys and signatures)."""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}

PUBKEY_BYTES = 32
"""Mints, wallets, pools, programs: 32 bytes, 32 to 44 characters (43-44 almost always)."""
SIGNATURE_BYTES = 64
"""Transaction signatures: 64 bytes, 64 to 88 characters (87-88 almost always)."""


def encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rem = divmod(number, 58)
        out.append(ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def decode(text: str) -> bytes:
    """Raises ValueError for a character outside the alphabet."""
    number = 0
    for char in text:
        try:
            number = number * 58 + _INDEX[char]
        except KeyError:
            raise ValueError(f"{char!r} is not a base58 character") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def is_base58(text: str, size: int | None = None) -> bool:
    """Whether ``text`` is base58 (and decodes to ``size`` bytes, when given)."""
    try:
        data = decode(text)
    except ValueError:
        return False
    return bool(text) and (size is None or len(data) == size)
