"""Who a request acts for and what it may do: the hosted service's access rules.

::

    principal = resolve(accounts, cookie=session_token, authorization=header)   # or None
    check(principal, "POST", journal=True)     # NotSignedIn, MissingScope, ConsentRequired

- A browser is signed in by its session cookie (:meth:`Accounts.session`), a program by an
  API token in ``Authorization: Bearer twt_...`` (:meth:`Accounts.api_token_account`). When a
  request carries an ``Authorization`` header, that header alone decides: a cookie beside it
  is ignored, and a token that is malformed, unknown or revoked is refused
  (:class:`InvalidToken`), never taken for "not signed in".
- Scopes: ``read`` for the methods that change nothing (``GET``, ``HEAD``), ``write`` for the
  rest (:func:`required_scope`). A session has both; a token has those it was made with.
- Consent: writing to one's journal needs the account's consent to keep health data
  (:class:`ConsentRequired` until it is given); reading, exporting and deleting do not.
- Expiry, revocation and disabled accounts are checked at every request: each resolution
  asks the database.

The errors say what happened in plain words; the web turns them into 401, 403 and 429.
Nothing here imports argon2 or a database driver, so the local web app can import it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twitchwise.errors import TwitchwiseError

if TYPE_CHECKING:
    from twitchwise.server.accounts import AccountInfo, Accounts

__all__ = [
    "READ_METHODS",
    "AccessError",
    "AuthenticationError",
    "ConsentRequired",
    "InvalidInvitation",
    "InvalidToken",
    "InvitationThrottled",
    "LoginThrottled",
    "MissingScope",
    "NotSignedIn",
    "Principal",
    "SignupClosed",
    "bearer_token",
    "check",
    "required_scope",
    "resolve",
]

#: The methods that change nothing: scope ``read``; every other method needs ``write``.
READ_METHODS = ("GET", "HEAD")


class AccessError(TwitchwiseError):
    """A request may not do what it asks (the subclasses say why)."""


class AuthenticationError(AccessError):
    """Wrong email or password (or a disabled account): one message for all of them."""

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class NotSignedIn(AccessError):
    def __init__(self) -> None:
        super().__init__(
            "sign in first: log in at /login, or send an API token as 'Authorization: Bearer "
            "twt_...' (make one on your account page, /account)"
        )


class InvalidToken(AccessError):
    def __init__(self) -> None:
        super().__init__(
            "the API token is not valid: it is malformed, unknown or revoked (send "
            "'Authorization: Bearer twt_...'; make a new one on your account page, /account)"
        )


class MissingScope(AccessError):
    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__(
            f"this API token does not have the {scope!r} scope this request needs; make a "
            f"token with {scope!r} on your account page (/account)"
        )


class ConsentRequired(AccessError):
    def __init__(self) -> None:
        super().__init__(
            "twitchwise keeps nothing in your journal until you allow it to keep your health "
            "data: turn that on in your account (/account), then try again"
        )


class SignupClosed(AccessError):
    """Sign-up is closed on this service (``TWITCHWISE_SIGNUP=closed``): an administrator
    makes the accounts."""

    def __init__(self) -> None:
        super().__init__(
            "sign-up is closed on this twitchwise: ask the people who run it to make you an "
            "account, then log in at /login"
        )


class InvalidInvitation(AccessError):
    """An invitation code that signs no one up (``TWITCHWISE_SIGNUP=invite``): one message
    whether it is wrong, expired, used up or revoked."""

    def __init__(self) -> None:
        super().__init__(
            "this invitation code does not work: it is mistyped, expired, used up or "
            "withdrawn; ask the people who run this twitchwise for a new one"
        )


class LoginThrottled(AccessError):
    """Too many failed logins for this email or from this address: wait ``retry_after``
    seconds (the same answer whether the email has an account or not)."""

    #: What failed too often, for the message.
    failures = "failed logins for this email or from this address"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, int(retry_after))
        super().__init__(
            f"too many {self.failures}; wait "
            f"{self.retry_after} second{'' if self.retry_after == 1 else 's'} and try again"
        )


class InvitationThrottled(LoginThrottled):
    """Too many wrong invitation codes or failed logins from this address: wait
    ``retry_after`` seconds (the code is not checked meanwhile)."""

    failures = "wrong invitation codes or failed logins from this address"


@dataclass(frozen=True, slots=True)
class Principal:
    """The account a request acts for, how it signed in and what it may do."""

    account: AccountInfo
    scopes: tuple[str, ...]
    #: The browser's session token (from its cookie), for a session; None for a token.
    session_token: str | None = None
    #: The API token's id, for a program; None for a session.
    token_id: uuid.UUID | None = None

    @property
    def via(self) -> str:
        return "session" if self.session_token is not None else "token"


def required_scope(method: str) -> str:
    """``read`` for a method that changes nothing, ``write`` for the rest."""
    return "read" if method.upper() in READ_METHODS else "write"


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization: Bearer twt_...`` header, else :class:`InvalidToken`."""
    from twitchwise.server.credentials import API_TOKEN_PREFIX

    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        raise InvalidToken()
    return token


def resolve(
    accounts: Accounts, *, cookie: str | None, authorization: str | None
) -> Principal | None:
    """Who the request acts for: the API token of ``authorization`` when there is that
    header (:class:`InvalidToken` when it is not a live token), else the session of
    ``cookie``; None when neither gives a live login."""
    from twitchwise.server.accounts import SCOPES

    if authorization is not None:
        found = accounts.api_token_account(bearer_token(authorization))
        if found is None:
            raise InvalidToken()
        token, account = found
        return Principal(account, token.scopes, token_id=token.id)
    if cookie:
        login = accounts.session(cookie)
        if login is not None:
            return Principal(login.account, SCOPES, session_token=cookie)
    return None


def check(principal: Principal | None, method: str, *, journal: bool = False) -> Principal:
    """``principal`` when it may make a request of ``method`` (to its journal when
    ``journal``), else the error that says why not."""
    if principal is None:
        raise NotSignedIn()
    scope = required_scope(method)
    if scope not in principal.scopes:
        raise MissingScope(scope)
    if journal and scope == "write" and not principal.account.consent:
        raise ConsentRequired()
    return principal
