"""Readable random codes with a check character (Crockford base 32, Luhn mod 32 check).

Used for case codes and, later, certificate numbers: random so they reveal nothing about how
many exist, unambiguous to read aloud (no I, L, O or U), and a mistyped character is caught.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_ALIASES = {"O": "0", "I": "1", "L": "1"}


def check_symbol(body: str) -> str:
    """Luhn mod N: catches every single-character error and most swaps of neighbours."""
    base = len(ALPHABET)
    total, factor = 0, 2
    for char in reversed(body):
        addend = factor * _VALUE[char]
        total += addend // base + addend % base
        factor = 1 if factor == 2 else 2
    return ALPHABET[(base - total % base) % base]


def normalise(code: str) -> str:
    """Upper-case, drop spaces and hyphens, and read O as 0 and I or L as 1."""
    cleaned = "".join(code.split()).replace("-", "").upper()
    return "".join(_ALIASES.get(char, char) for char in cleaned)


def generate(prefix: str, length: int = 7) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return format_code(prefix, body + check_symbol(body))


def format_code(prefix: str, raw: str) -> str:
    return f"{prefix}-{raw[:4]}-{raw[4:]}"


def is_valid(code: str, prefix: str) -> bool:
    """True if `code` has the prefix and its check character matches."""
    cleaned = normalise(code)
    if not cleaned.startswith(prefix) or len(cleaned) < len(prefix) + 2:
        return False
    raw = cleaned[len(prefix) :]
    body, check = raw[:-1], raw[-1]
    return all(char in _VALUE for char in body) and check_symbol(body) == check


def canonical(code: str, prefix: str) -> str | None:
    """The formatted code if valid, else None."""
    return format_code(prefix, normalise(code)[len(prefix) :]) if is_valid(code, prefix) else None
