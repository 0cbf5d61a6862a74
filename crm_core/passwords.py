"""Password hashing with argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crm_core.errors import ValidationError

_hasher = PasswordHasher()
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_strength(password: str) -> None:
    if len(password or "") < MIN_LENGTH:
        raise ValidationError(
            "password too short", {"password": [f"at least {MIN_LENGTH} characters"]}
        )
