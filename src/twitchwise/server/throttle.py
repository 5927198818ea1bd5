"""Login throttling: how long a login must wait after failures, per email and per address.

Every failed login counts against two keys: the email tried (whether it has an account or
not, so the answer says nothing about it) and the client's address (an IPv6 address by its
/64 network, which one person usually holds whole). A key's first ``free`` failures cost
nothing; each one after them makes the next login through that key wait twice as long as the
one before, from ``base_s`` up to ``cap_s``. A key whose last failure is older than
:data:`RESET_AFTER` starts again from zero, and a successful login clears its email's key
(not its address's: one good password must not reset an address that is trying others).

A wrong invitation code at sign-up (``signup`` ``invite``) counts against its client's
address the same way (:func:`invitation_keys`: the very key its logins count against, so
guessed codes and guessed passwords from one address add up).

Only the SHA-256 of a key is stored (``login_attempts.key``), never the email or the address.
The counts live in the database, so every worker process and machine sees the same ones.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import timedelta

__all__ = [
    "ACCOUNT",
    "ADDRESS",
    "RESET_AFTER",
    "Key",
    "Policy",
    "address_key",
    "invitation_keys",
    "keys_for",
]


@dataclass(frozen=True, slots=True)
class Policy:
    """Failures allowed without waiting, then a wait that doubles from ``base_s`` to ``cap_s``."""

    free: int
    base_s: float
    cap_s: float

    def wait(self, failures: int) -> timedelta:
        """How long the next login must wait after ``failures`` failures in a row."""
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 40)
        return timedelta(seconds=min(self.base_s * 2**doublings, self.cap_s))


#: Per email: 5 failures free, then 1 s, 2 s, 4 s ... up to 15 minutes.
ACCOUNT = Policy(free=5, base_s=1.0, cap_s=900.0)
#: Per client address: 20 failures free (several people may share one), then the same.
ADDRESS = Policy(free=20, base_s=1.0, cap_s=900.0)
#: A key whose last failure is older than this counts from zero again.
RESET_AFTER = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Key:
    """One throttled key: ``kind`` (``account`` or ``address``), the SHA-256 kept of it and
    its policy."""

    kind: str
    digest: str
    policy: Policy


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"twitchwise login {kind}:{value}".encode()).hexdigest()


def network(address: str) -> str:
    """The address as throttled: an IPv4 address as it is, an IPv6 address by its /64; text
    that is not an address, as it is."""
    try:
        found = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(found, ipaddress.IPv6Address):
        if found.ipv4_mapped is not None:
            return str(found.ipv4_mapped)
        return str(ipaddress.IPv6Network((found, 64), strict=False))
    return str(found)


def address_key(client: str) -> Key:
    """The key of a client's address (an IPv6 address by its /64)."""
    return Key("address", _digest("address", network(client)), ADDRESS)


def keys_for(email: str, client: str | None) -> tuple[Key, ...]:
    """The keys a login for ``email`` from ``client`` counts against: the email's first."""
    keys = [Key("account", _digest("account", email.strip().lower()), ACCOUNT)]
    if client:
        keys.append(address_key(client))
    return tuple(keys)


def invitation_keys(client: str | None) -> tuple[Key, ...]:
    """The keys a sign-up with an invitation code from ``client`` counts against: its
    address's, the one its logins count against too (none without an address). Not the
    email: whoever guesses codes chooses it freely."""
    return (address_key(client),) if client else ()
