"""Passwords and tokens: argon2id hashes, random tokens kept only as SHA-256 hashes.

- A password is hashed with argon2id (argon2-cffi's ``PasswordHasher``, RFC 9106's low-memory
  profile by default). :meth:`Passwords.verify` says too when a hash was made with other
  parameters, so that it is made again at the next login.
- :meth:`Passwords.waste` does the work of one verification against a hash of no one's
  password, so an unknown email takes as long to refuse as a wrong password.
- A token (a login session's ``tws_``, an API token's ``twt_``, an invitation code's ``twi_``)
  is 32 random bytes from :mod:`secrets` (URL-safe text, with a prefix saying what it is); only
  its SHA-256 is stored, and hashes are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["Passwords", "hash_token", "new_token", "same_hash"]

SESSION_PREFIX = "tws_"
API_TOKEN_PREFIX = "twt_"  # noqa: S105 - a prefix, not a secret
INVITATION_PREFIX = "twi_"


def new_token(prefix: str) -> tuple[str, str]:
    """A fresh token and its SHA-256 (hex): give out the first, store the second."""
    token = prefix + secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Whether two hashes are equal, in time that does not depend on where they differ."""
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


@dataclass
class Passwords:
    """argon2id hashing with one set of parameters; a hash with others is made again."""

    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    _dummy: str | None = field(default=None, init=False, repr=False)

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> tuple[bool, bool]:
        """(the password matches, its hash should be made again with today's parameters)."""
        try:
            self.hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, False
        return True, self.hasher.check_needs_rehash(stored)

    def waste(self, password: str) -> None:
        """The work of one verification, for a login whose account does not exist."""
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, password)
