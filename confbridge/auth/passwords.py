"""Password hashing (Argon2id through argon2-cffi) and random secrets."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A readable random password (about 95 bits)."""
    return secrets.token_urlsafe(12)


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the SHA-256 hex digest under which it is stored."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# A hash of a random password, verified against when the user does not exist, so that "unknown user"
# and "wrong password" take the same time.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
