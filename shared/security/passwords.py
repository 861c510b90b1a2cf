"""Passwords: argon2id hashing (OWASP parameters) and temporary password generation."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

TEMPORARY_PASSWORD_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # noqa: S105 — not a secret
"""Digits and lower-case letters without look-alikes: no 0, o, 1, l, i."""
TEMPORARY_PASSWORD_LENGTH = 8

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16,
                         type=Type.ID)
_temporary_hasher = PasswordHasher(time_cost=1, memory_cost=2 * 1024, parallelism=1, hash_len=32, salt_len=16,
                                   type=Type.ID)
"""For machine-drawn temporary passwords (8 of 31 symbols: 2^39.6). OWASP's parameters protect what people
choose, which a dictionary guesses; a drawn secret has no dictionary, so each guess of a leaked hash still costs
a millisecond of argon2id — decades of CPU per account — while a campaign of 7,500 letters costs seconds
instead of minutes to the accounts service. `verify_password` reads the parameters from the hash."""


def new_temporary_password() -> str:
    """Draw a temporary password from a cryptographic source."""
    return "".join(secrets.choice(TEMPORARY_PASSWORD_ALPHABET) for _ in range(TEMPORARY_PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def hash_temporary_password(password: str) -> str:
    """Hash a temporary password (drawn by `new_temporary_password`) for the portal to verify."""
    return _temporary_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
