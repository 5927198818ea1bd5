"""The one way to read and write accounts, login sessions, API tokens and invitations.

::

    accounts = Accounts(make_engine(url))          # after twitchwise db upgrade
    person = accounts.create_account("ann@example.org", "a long passphrase")
    person = accounts.authenticate("ANN@example.org", "a long passphrase")  # or an error
    login = accounts.create_session(person.id)     # login.token: for the cookie, once
    accounts.session(login.token)                  # SessionInfo, or None (expired, revoked...)
    made = accounts.create_api_token(person.id, "my script", {"read"})   # made.token shown once
    accounts.api_token(made.token)                 # TokenInfo, or None
    accounts.revoke_all_sessions(person.id)        # "log out everywhere"
    accounts.delete_account(person.id)             # everything of that account, journal too
    accounts.login(email, password, client="203.0.113.7")   # throttled; NewSession or an error
    made = accounts.create_invitation(days=7, uses=1)         # made.code shown once
    accounts.create_invited_account(made.code, email, password, client="203.0.113.7")
    accounts.set_profile(person.id, age_band="30-39", sex=None)   # optional; None: not said
    accounts.profile(person.id)                    # ProfileInfo("30-39", None)
    accounts.record_answer(person.id, AnswerInfo(day, "self_care", (), ("twitching",), 0))
    accounts.answers(person.id)                    # only while the account consents

Every method is one transaction and returns plain frozen dataclasses, never ORM rows. No other
module queries these tables. The person's journal is in the same database, owned by the
account's id; :meth:`Accounts.delete_account` deletes it through the journal's repository
(:func:`twitchwise.journal.store.erase_owner`), in the same transaction.

**Row-level security.** On PostgreSQL every transaction that acts for an account says so with
``set_config('twitchwise.account_id', id, true)`` (``SET LOCAL``), and a lookup names what it
looks for (``twitchwise.session_id``, ``twitchwise.token_hash``: a token's hash;
``twitchwise.email``: the email of a login; ``twitchwise.throttle_keys``: the hashed keys of
a login's throttling; ``twitchwise.invitation_hash``: the hash of an invitation code; and
``twitchwise.invitations`` = ``manage`` for the administrator's list of invitations): the
policies of migrations ``a0002`` to ``a0006`` then hide every other account,
session, token, throttling count, invitation, profile and answer, even from a query that forgets its
``WHERE``. Every method here works through a role that obeys them.

**Invitations.** With sign-up by invitation, :meth:`Accounts.create_invited_account` spends
one use of a code and makes the account in ONE transaction (an ``UPDATE`` that takes a use
only while one is left, so of two people racing for a code's last use exactly one gets it;
the account's insert failing gives the use back). A wrong, expired, used-up or revoked code
is the same :class:`~twitchwise.server.access.InvalidInvitation`, counted against the
client's address as a failed login is, and throttled with the logins
(:func:`twitchwise.server.throttle.invitation_keys`).

**Login throttling.** :meth:`Accounts.login` refuses a login while its email or its client's
address must wait after failed logins (:class:`~twitchwise.server.access.LoginThrottled`,
:mod:`twitchwise.server.throttle`), without checking the password, and counts every failure
in ``login_attempts``, for an unknown email as for a known one.

**No user enumeration.** :meth:`Accounts.authenticate` raises the same
:class:`AuthenticationError` for an unknown email, a wrong password and a disabled account,
after the same work (one argon2id verification each).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, case, delete, func, select, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from twitchwise.errors import InputError
from twitchwise.journal.store import erase_owner
from twitchwise.server.access import (
    AuthenticationError,
    InvalidInvitation,
    InvitationThrottled,
    LoginThrottled,
)
from twitchwise.server.credentials import (
    API_TOKEN_PREFIX,
    INVITATION_PREFIX,
    SESSION_PREFIX,
    Passwords,
    hash_token,
    new_token,
    same_hash,
)
from twitchwise.server.db import DatabaseError
from twitchwise.server.models import (
    Account,
    AnswerRecord,
    ApiToken,
    Invitation,
    LoginAttempt,
    LoginSession,
    Profile,
)
from twitchwise.server.throttle import RESET_AFTER, Key, invitation_keys, keys_for

__all__ = [
    "AGE_BANDS",
    "ANSWER_LEVELS",
    "SCOPES",
    "SEXES",
    "AccountInfo",
    "Accounts",
    "AnswerInfo",
    "AuthenticationError",
    "InvalidInvitation",
    "InvitationInfo",
    "InvitationThrottled",
    "LoginThrottled",
    "NewInvitation",
    "NewSession",
    "NewToken",
    "ProfileInfo",
    "SessionInfo",
    "TokenInfo",
    "check_answer",
    "check_email",
    "check_password",
    "check_profile",
    "is_kb_id",
]

#: What an API token may do.
SCOPES = ("read", "write")
#: How long a login session lasts.
SESSION_TTL = timedelta(days=14)
PASSWORD_MIN = 10
PASSWORD_MAX = 1024
#: How many days an invitation lasts unless told (``twitchwise admin invite --expires-days``),
#: and at most.
INVITATION_DAYS = 7
INVITATION_MAX_DAYS = 365
#: How many people one invitation may sign up at most (``--uses``).
INVITATION_MAX_USES = 1000
#: The age bands a profile may give (the cohort format's, docs/cohort.md#the-format; a test
#: keeps them equal): chosen from this list, never computed from a date of birth.
AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
#: The sexes a profile may give (the cohort format's). Not given: "prefer not to say".
SEXES = ("female", "male")
#: The triage levels a recorded answer may have (the cohort format's ``LEVELS``; a test keeps
#: them equal), least urgent first.
ANSWER_LEVELS = ("self_care", "see_doctor_routine", "see_doctor_urgent", "emergency")
#: What an id of the knowledge base (a finding's, a question's) looks like: never free text.
_KB_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: The most ids one recorded answer keeps of each kind.
ANSWER_MAX_IDS = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: uuid.UUID
    email: str
    created_at: datetime
    disabled: bool
    consent: bool


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    """What a person chose to say of themselves; None is "prefer not to say"."""

    age_band: str | None = None
    sex: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerInfo:
    """One answer of the hosted app as recorded (docs/hosted.md#the-record-of-answers): no
    free text, only the day, the triage level, the interview's question ids (empty for an
    answer that was no interview's), the ids of the findings read as present and how many
    words were not understood."""

    day: date
    triage_level: str
    questions: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    not_understood: int = 0


@dataclass(frozen=True, slots=True)
class SessionInfo:
    account: AccountInfo
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just made: ``token`` is for the cookie and is not kept anywhere."""

    token: str
    session: SessionInfo


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: uuid.UUID
    account_id: uuid.UUID
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """An API token just made: ``token`` is shown once and not kept anywhere."""

    token: str
    info: TokenInfo


@dataclass(frozen=True, slots=True)
class InvitationInfo:
    """An invitation as the administrator sees it: never its code."""

    id: uuid.UUID
    created_at: datetime
    expires_at: datetime
    uses_left: int
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """``live`` while it signs people up, else why not: ``revoked``, ``used up`` or
        ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.uses_left <= 0:
            return "used up"
        if self.expires_at <= now:
            return "expired"
        return "live"


@dataclass(frozen=True, slots=True)
class NewInvitation:
    """An invitation just made: ``code`` is shown once and not kept anywhere."""

    code: str
    info: InvitationInfo


def check_email(email: str) -> str:
    """The email as stored (trimmed, lower case), or InputError."""
    found = email.strip().lower()
    if len(found) > 254 or not _EMAIL.fullmatch(found):
        raise InputError(
            f"{email.strip()!r} is not an email address; give one such as ann@example.org",
            field="email",
        )
    return found


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise InputError(
            f"a password has {PASSWORD_MIN} to {PASSWORD_MAX} characters, not {len(password)}; "
            "a few words of your own make a good one",
            field="password",
        )
    return password


def check_profile(age_band: str | None, sex: str | None) -> ProfileInfo:
    """The profile as stored: each value from its list, or None ("prefer not to say"; an
    empty string is None too); else InputError."""
    age_band = age_band.strip() if age_band else None
    sex = sex.strip().lower() if sex else None
    if age_band is not None and age_band not in AGE_BANDS:
        raise InputError(
            f"an age band is one of {', '.join(AGE_BANDS)} or not given", field="age_band"
        )
    if sex is not None and sex not in SEXES:
        raise InputError(f"a sex is one of {', '.join(SEXES)} or not given", field="sex")
    return ProfileInfo(age_band or None, sex or None)


def is_kb_id(value: str) -> bool:
    """Whether ``value`` looks like an id of the knowledge base (a finding's, a question's):
    lower case letters, digits and ``_``; never free text."""
    return _KB_ID.fullmatch(value) is not None


def check_answer(answer: AnswerInfo) -> AnswerInfo:
    """The answer as recorded, or InputError: a level of :data:`ANSWER_LEVELS`, ids that look
    like the knowledge base's (never words), a count not below 0."""
    if answer.triage_level not in ANSWER_LEVELS:
        raise InputError(f"a triage level is one of {', '.join(ANSWER_LEVELS)}", field="level")
    for name, ids in (("questions", answer.questions), ("findings", answer.findings)):
        if len(ids) > ANSWER_MAX_IDS or not all(_KB_ID.fullmatch(i) for i in ids):
            raise InputError(
                f"an answer's {name} are at most {ANSWER_MAX_IDS} ids of the knowledge base",
                field=name,
            )
    if isinstance(answer.not_understood, bool) or not 0 <= answer.not_understood < 2**31:
        raise InputError("not_understood counts words: 0 or more", field="not_understood")
    return AnswerInfo(
        answer.day,
        answer.triage_level,
        tuple(answer.questions),
        tuple(answer.findings),
        int(answer.not_understood),
    )


def check_scopes(scopes: Collection[str]) -> tuple[str, ...]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InputError(
            f"a token's scopes are one or more of {', '.join(SCOPES)}"
            + (f", not {', '.join(unknown)}" if unknown else ""),
            field="scopes",
        )
    return tuple(s for s in SCOPES if s in scopes)


def _now() -> datetime:
    return datetime.now(UTC)


class Accounts:
    """Accounts, sessions and API tokens in one database (see the module's docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        passwords: Passwords | None = None,
        session_ttl: timedelta = SESSION_TTL,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.passwords = passwords or Passwords()
        self.session_ttl = session_ttl
        self.clock = clock
        self._postgres = engine.dialect.name == "postgresql"

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def _transaction(self, account_id: uuid.UUID | None = None, **lookup: str) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                if account_id is not None:
                    self._act_for(session, account_id)
                for name, value in lookup.items():
                    self._set(session, name, value)
                yield session
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            where = self.engine.url.render_as_string(hide_password=True)
            raise DatabaseError(f"could not use the accounts database {where}: {detail}") from exc

    def _act_for(self, session: Session, account_id: uuid.UUID) -> None:
        """Name the account this transaction acts for (the row-level security's key)."""
        self._set(session, "account_id", str(account_id))

    def _set(self, session: Session, name: str, value: str) -> None:
        if self._postgres:
            session.execute(
                text("SELECT set_config(:name, :value, true)"),
                {"name": f"twitchwise.{name}", "value": value},
            )

    # ------------------------------------------------------------------ accounts

    def create_account(self, email: str, password: str, *, consent: bool = False) -> AccountInfo:
        """A new account; InputError when the email is taken or either value is not usable."""
        row = self._new_account(check_email(email), check_password(password), consent)
        try:
            with self._transaction(row.id) as session:
                session.add(row)
        except IntegrityError as exc:
            raise InputError(f"an account for {row.email} exists already", field="email") from exc
        return _account(row)

    def _new_account(self, email: str, password: str, consent: bool) -> Account:
        """The row of a new account (its password hashed), not yet added."""
        return Account(
            id=uuid.uuid4(),
            email=email,
            password_hash=self.passwords.hash(password),
            created_at=self.clock(),
            disabled=False,
            consent=consent,
        )

    def find(self, email: str) -> AccountInfo | None:
        """The account with this email (whatever its case), or None."""
        email = email.strip().lower()
        with self._transaction(email=email) as session:
            row = _by_email(session, email)
            return None if row is None else _account(row)

    def get(self, account_id: uuid.UUID) -> AccountInfo | None:
        with self._transaction(account_id) as session:
            row = session.get(Account, account_id)
            return None if row is None else _account(row)

    def authenticate(self, email: str, password: str) -> AccountInfo:
        """The account whose email and password these are, else :class:`AuthenticationError`
        (the same for an unknown email, a wrong password and a disabled account, after the
        same work). A hash made with older parameters is made again. Not throttled: the web
        logs in with :meth:`login`."""
        email = email.strip().lower()
        with self._transaction(email=email) as session:
            row = _by_email(session, email)
            if row is None:
                self.passwords.waste(password)
                raise AuthenticationError()
            ok, rehash = self.passwords.verify(row.password_hash, password)
            if not ok or row.disabled:
                raise AuthenticationError()
            if rehash:
                self._act_for(session, row.id)
                row.password_hash = self.passwords.hash(password)
            return _account(row)

    def login(self, email: str, password: str, *, client: str | None = None) -> NewSession:
        """A new session for the account whose email and password these are, throttled per
        email and per ``client`` address: :class:`LoginThrottled` while either must wait
        (the password is not checked then), else :class:`AuthenticationError` (counted as a
        failure for both, whether the email has an account or not) or the session."""
        keys = keys_for(email, client)
        self._check_throttle(keys)
        try:
            account = self.authenticate(email, password)
        except AuthenticationError:
            self._count_failure(keys)
            raise
        self._clear_throttle(keys[:1])
        return self.create_session(account.id)

    def confirm_password(
        self, account_id: uuid.UUID, password: str, *, client: str | None = None
    ) -> AccountInfo:
        """The account, when ``password`` is its password (before deleting it, say); throttled
        and counted as :meth:`login` is, else :class:`AuthenticationError`."""
        found = self.get(account_id)
        if found is None:
            self.passwords.waste(password)
            raise AuthenticationError()
        keys = keys_for(found.email, client)
        self._check_throttle(keys)
        try:
            confirmed = self.authenticate(found.email, password)
        except AuthenticationError:
            self._count_failure(keys)
            raise
        if confirmed.id != account_id:  # pragma: no cover - emails are unique
            raise AuthenticationError()
        return confirmed

    def change_password(
        self,
        account_id: uuid.UUID,
        current: str,
        new: str,
        *,
        keep_session: str | None = None,
        client: str | None = None,
    ) -> None:
        """Set a new password after checking the current one; every session of the account
        but ``keep_session`` (the token of the one making the change) is revoked. With
        ``client``, a wrong current password is throttled and counted as a failed login."""
        check_password(new)
        keys: tuple[Key, ...] = ()
        if client is not None:
            found = self.get(account_id)
            keys = keys_for(found.email if found else str(account_id), client)
            self._check_throttle(keys)
        with self._transaction(account_id) as session:
            row = session.get(Account, account_id)
            if row is None:
                self.passwords.waste(current)
                ok = False
            else:
                ok, _ = self.passwords.verify(row.password_hash, current)
            if row is not None and ok and not row.disabled:
                row.password_hash = self.passwords.hash(new)
                kept = hash_token(keep_session) if keep_session else None
                self._revoke_sessions(session, account_id, except_id=kept)
                return
        if keys:
            self._count_failure(keys)
        raise AuthenticationError()

    def set_consent(self, account_id: uuid.UUID, consent: bool) -> AccountInfo | None:
        """Give or withdraw the account's consent to keeping its health data; None when
        there is no such account.

        Withdrawing it deletes every recorded answer of the account in the same transaction
        (docs/hosted.md#the-record-of-answers)."""
        with self._transaction(account_id) as session:
            row = session.get(Account, account_id, with_for_update=True)
            if row is None:
                return None
            row.consent = consent
            if not consent:
                session.execute(delete(AnswerRecord).where(AnswerRecord.account_id == account_id))
            return _account(row)

    # ------------------------------------------------------------------ the record of answers
    # (issue 16, docs/hosted.md#the-record-of-answers): only while the account consents

    def record_answer(self, account_id: uuid.UUID, answer: AnswerInfo) -> bool:
        """Keep one answer the hosted app gave the account (:func:`check_answer`), only if the
        account consents and is not disabled, read in the same transaction (its row locked,
        so a withdrawal at the same moment either comes first or deletes it); False when
        nothing was kept."""
        checked = check_answer(answer)
        with self._transaction(account_id) as session:
            row = session.get(Account, account_id, with_for_update=True)
            if row is None or not row.consent or row.disabled:
                return False
            session.add(
                AnswerRecord(
                    id=uuid.uuid4(),
                    account_id=account_id,
                    day=checked.day,
                    triage_level=checked.triage_level,
                    questions=" ".join(checked.questions),
                    findings=" ".join(checked.findings),
                    not_understood=checked.not_understood,
                )
            )
            return True

    def answers(self, account_id: uuid.UUID) -> list[AnswerInfo]:
        """The account's recorded answers, oldest day first (none once consent is withdrawn:
        they are deleted then)."""
        with self._transaction(account_id) as session:
            rows = session.scalars(
                select(AnswerRecord)
                .where(AnswerRecord.account_id == account_id)
                .order_by(AnswerRecord.day, AnswerRecord.id)
            )
            return [
                AnswerInfo(
                    r.day,
                    r.triage_level,
                    tuple(r.questions.split()),
                    tuple(r.findings.split()),
                    r.not_understood,
                )
                for r in rows
            ]

    # ------------------------------------------------------------------ the profile

    def profile(self, account_id: uuid.UUID) -> ProfileInfo:
        """The account's profile; nothing given (both None) when it set none."""
        with self._transaction(account_id) as session:
            row = session.get(Profile, account_id)
            return ProfileInfo() if row is None else ProfileInfo(row.age_band, row.sex)

    def set_profile(
        self, account_id: uuid.UUID, *, age_band: str | None, sex: str | None
    ) -> ProfileInfo:
        """Set the account's profile (:func:`check_profile`); both None deletes it (nothing
        kept). :class:`AuthenticationError` when there is no such account."""
        chosen = check_profile(age_band, sex)
        with self._transaction(account_id) as session:
            if session.get(Account, account_id) is None:
                raise AuthenticationError()
            row = session.get(Profile, account_id)
            if chosen == ProfileInfo():
                if row is not None:
                    session.delete(row)
                return chosen
            if row is None:
                row = Profile(account_id=account_id)
                session.add(row)
            row.age_band, row.sex, row.updated_at = chosen.age_band, chosen.sex, self.clock()
            return chosen

    # ------------------------------------------------------------------ cohort export
    # (issue 16, docs/cohort.md#the-export): who may be in a population export

    def consenting_accounts(self, page: int = 500) -> Iterator[uuid.UUID]:
        """The id of every account that consents and is not disabled, in id order, read
        ``page`` ids at a time (one short transaction each, so a long export holds none open).

        On PostgreSQL this must see every account: a role under the row-level security of
        ``accounts`` (the app's role, or the tables' owner) would see none, and that is a
        :class:`DatabaseError` here, not an empty list."""
        after: uuid.UUID | None = None
        while True:
            with self._transaction() as session:
                if after is None and self._postgres:
                    hidden = session.execute(text("SELECT row_security_active('accounts')"))
                    if hidden.scalar():
                        raise DatabaseError(
                            "row-level security hides the accounts from this database role, "
                            "so no consenting account can be listed: export as a role with "
                            "BYPASSRLS (read-only is enough; see docs/cohort.md)"
                        )
                query = (
                    select(Account.id)
                    .where(Account.consent.is_(True), Account.disabled.is_(False))
                    .order_by(Account.id)
                    .limit(page)
                )
                if after is not None:
                    query = query.where(Account.id > after)
                ids = list(session.scalars(query))
            yield from ids
            if len(ids) < page:
                return
            after = ids[-1]

    def disable_account(self, account_id: uuid.UUID) -> bool:
        """Refuse every login, session and token of the account from now on; False when
        there is no such account."""
        with self._transaction(account_id) as session:
            row = session.get(Account, account_id)
            if row is None:
                return False
            row.disabled = True
            self._revoke_sessions(session, account_id)
            session.execute(
                update(ApiToken)
                .where(ApiToken.account_id == account_id, ApiToken.revoked_at.is_(None))
                .values(revoked_at=self.clock())
            )
            return True

    def delete_account(self, account_id: uuid.UUID) -> bool:
        """Delete the account and everything of it (every row of its journal, its profile,
        recorded answers, sessions and tokens) in ONE transaction, for good; False when there
        is no such account."""
        with self._transaction(account_id) as session:
            erase_owner(session.connection(), account_id)
            session.execute(delete(Profile).where(Profile.account_id == account_id))
            session.execute(delete(AnswerRecord).where(AnswerRecord.account_id == account_id))
            session.execute(delete(ApiToken).where(ApiToken.account_id == account_id))
            session.execute(delete(LoginSession).where(LoginSession.account_id == account_id))
            gone = session.execute(delete(Account).where(Account.id == account_id))
            return bool(getattr(gone, "rowcount", 0))

    # ------------------------------------------------------------------ sessions

    def create_session(self, account_id: uuid.UUID) -> NewSession:
        """A login session for the account; its token is returned once and stored hashed."""
        token, digest = new_token(SESSION_PREFIX)
        now = self.clock()
        with self._transaction(account_id) as session:
            account = session.get(Account, account_id)
            if account is None or account.disabled:
                raise AuthenticationError()
            row = LoginSession(
                id=digest, account_id=account_id, created_at=now, expires_at=now + self.session_ttl
            )
            session.add(row)
            return NewSession(token, SessionInfo(_account(account), now, row.expires_at))

    def session(self, token: str) -> SessionInfo | None:
        """The live session of this token: None when unknown, expired, revoked or of a
        disabled account."""
        digest = hash_token(token)
        with self._transaction(session_id=digest) as session:
            row = session.get(LoginSession, digest)
            if row is None or not same_hash(row.id, digest):
                return None
            if row.revoked_at is not None or row.expires_at <= self.clock():
                return None
            self._act_for(session, row.account_id)
            account = session.get(Account, row.account_id)
            if account is None or account.disabled:
                return None
            return SessionInfo(_account(account), row.created_at, row.expires_at)

    def revoke_session(self, token: str) -> bool:
        """Log this session out; False when there was no such live session."""
        digest = hash_token(token)
        with self._transaction(session_id=digest) as session:
            row = session.get(LoginSession, digest)
            if row is None or row.revoked_at is not None:
                return False
            self._act_for(session, row.account_id)
            row.revoked_at = self.clock()
            return True

    def revoke_all_sessions(self, account_id: uuid.UUID) -> int:
        """Log out everywhere; returns how many sessions were revoked."""
        with self._transaction(account_id) as session:
            return self._revoke_sessions(session, account_id)

    def _revoke_sessions(
        self, session: Session, account_id: uuid.UUID, except_id: str | None = None
    ) -> int:
        query = update(LoginSession).where(
            LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None)
        )
        if except_id is not None:
            query = query.where(LoginSession.id != except_id)
        done = session.execute(query.values(revoked_at=self.clock()))
        return int(getattr(done, "rowcount", 0) or 0)

    # ------------------------------------------------------------------ API tokens

    def create_api_token(
        self, account_id: uuid.UUID, name: str, scopes: Collection[str]
    ) -> NewToken:
        """A token for programs; ``token`` of the result is shown once, only its hash is kept."""
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise InputError("name the token in 1 to 100 characters", field="name")
        chosen = check_scopes(scopes)
        token, digest = new_token(API_TOKEN_PREFIX)
        row = ApiToken(
            id=uuid.uuid4(),
            account_id=account_id,
            name=name,
            token_hash=digest,
            scopes=" ".join(chosen),
            created_at=self.clock(),
        )
        with self._transaction(account_id) as session:
            account = session.get(Account, account_id)
            if account is None or account.disabled:
                raise AuthenticationError()
            session.add(row)
        return NewToken(token, _token(row))

    def list_api_tokens(self, account_id: uuid.UUID) -> list[TokenInfo]:
        """The account's tokens (revoked ones too), newest first; never their secrets."""
        with self._transaction(account_id) as session:
            rows = session.scalars(
                select(ApiToken)
                .where(ApiToken.account_id == account_id)
                .order_by(ApiToken.created_at.desc(), ApiToken.id)
            )
            return [_token(row) for row in rows]

    def revoke_api_token(self, account_id: uuid.UUID, token_id: uuid.UUID) -> bool:
        """Revoke one of the account's tokens; False when it has no such live token."""
        with self._transaction(account_id) as session:
            done = session.execute(
                update(ApiToken)
                .where(
                    ApiToken.id == token_id,
                    ApiToken.account_id == account_id,
                    ApiToken.revoked_at.is_(None),
                )
                .values(revoked_at=self.clock())
            )
            return bool(getattr(done, "rowcount", 0))

    def api_token(self, token: str) -> TokenInfo | None:
        """The live token with this secret (its last use noted), or None: unknown, revoked,
        or of a disabled account."""
        found = self.api_token_account(token)
        return None if found is None else found[0]

    def api_token_account(self, token: str) -> tuple[TokenInfo, AccountInfo] | None:
        """The live token with this secret and its account (its last use noted), in one
        transaction; None as for :meth:`api_token`."""
        digest = hash_token(token)
        with self._transaction(token_hash=digest) as session:
            row = session.scalars(
                select(ApiToken).where(ApiToken.token_hash == digest)
            ).one_or_none()
            if row is None or not same_hash(row.token_hash, digest) or row.revoked_at is not None:
                return None
            self._act_for(session, row.account_id)
            account = session.get(Account, row.account_id)
            if account is None or account.disabled:
                return None
            row.last_used_at = self.clock()
            return _token(row), _account(account)

    # ------------------------------------------------------------------ invitations

    def create_invitation(self, *, days: int = INVITATION_DAYS, uses: int = 1) -> NewInvitation:
        """A new invitation that signs up ``uses`` people within ``days`` days; its ``code`` is
        returned once and only its SHA-256 is kept."""
        if not 1 <= days <= INVITATION_MAX_DAYS:
            raise InputError(
                f"an invitation lasts 1 to {INVITATION_MAX_DAYS} days, not {days}", field="days"
            )
        if not 1 <= uses <= INVITATION_MAX_USES:
            raise InputError(
                f"an invitation signs up 1 to {INVITATION_MAX_USES} people, not {uses}",
                field="uses",
            )
        code, digest = new_token(INVITATION_PREFIX)
        now = self.clock()
        row = Invitation(
            id=uuid.uuid4(),
            code_hash=digest,
            created_at=now,
            expires_at=now + timedelta(days=days),
            uses_left=uses,
        )
        with self._transaction(invitation_hash=digest) as session:
            session.add(row)
        return NewInvitation(code, _invitation(row))

    def list_invitations(self) -> list[InvitationInfo]:
        """Every invitation (used up, expired and revoked ones too), newest first; never a
        code. For the administrator (``twitchwise admin invites``)."""
        with self._transaction(invitations="manage") as session:
            rows = session.scalars(
                select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id)
            )
            return [_invitation(row) for row in rows]

    def revoke_invitation(self, invitation_id: uuid.UUID) -> InvitationInfo | None:
        """Make the invitation sign no one up from now on (again: no change); None when there
        is no such invitation."""
        with self._transaction(invitations="manage") as session:
            row = session.get(Invitation, invitation_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = self.clock()
            return _invitation(row)

    def create_invited_account(
        self,
        code: str,
        email: str,
        password: str,
        *,
        consent: bool = False,
        client: str | None = None,
    ) -> AccountInfo:
        """A new account made with an invitation ``code``, which loses one use in the same
        transaction. :class:`InvalidInvitation` for a wrong, expired, used-up or revoked code
        (counted against ``client``'s address as a failed login is), and
        :class:`InvitationThrottled` while that address must wait (the code is not checked
        then); InputError as :meth:`create_account` (an email with an account already takes
        no use)."""
        email = check_email(email)
        check_password(password)
        code = code.strip()
        if not code:
            raise InputError("give the invitation code you were sent", field="code")
        keys = invitation_keys(client)
        self._check_throttle(keys, InvitationThrottled)
        digest = hash_token(code)
        if not self._invitation_usable(digest):  # a guess: counted, and before argon2's work
            self._count_failure(keys)
            raise InvalidInvitation()
        row = self._new_account(email, password, consent)
        try:
            with self._transaction(row.id, invitation_hash=digest) as session:
                spent = session.execute(
                    update(Invitation)
                    .where(*_usable(digest, self.clock()))
                    .values(uses_left=Invitation.uses_left - 1)
                    .returning(Invitation.id)
                ).first()
                if spent is None:  # a right code whose last use someone else took meanwhile
                    raise InvalidInvitation()
                session.add(row)
        except IntegrityError as exc:  # the use is given back with the account's insert
            raise InputError(f"an account for {email} exists already", field="email") from exc
        return _account(row)

    def _invitation_usable(self, digest: str) -> bool:
        with self._transaction(invitation_hash=digest) as session:
            found = session.scalars(
                select(Invitation.code_hash).where(*_usable(digest, self.clock()))
            ).one_or_none()
            return found is not None and same_hash(found, digest)

    # ------------------------------------------------------------------ throttling

    def _check_throttle(
        self, keys: tuple[Key, ...], throttled: type[LoginThrottled] = LoginThrottled
    ) -> None:
        """``throttled`` (:class:`LoginThrottled`) while any of ``keys`` must wait."""
        now = self.clock()
        with self._transaction(throttle_keys=_named(keys)) as session:
            rows = session.scalars(
                select(LoginAttempt).where(LoginAttempt.key.in_([k.digest for k in keys]))
            )
            waits = [
                (row.blocked_until - now).total_seconds()
                for row in rows
                if row.blocked_until is not None
                and row.blocked_until > now
                and row.last_failure_at > now - RESET_AFTER
            ]
        if waits:
            raise throttled(int(-(-max(waits) // 1)))

    def _count_failure(self, keys: tuple[Key, ...]) -> None:
        """One more failure for each key (from one again when its last is stale), and how
        long the next login through it must wait; atomic, whichever worker counts."""
        now = self.clock()
        stale = now - RESET_AFTER
        with self._transaction(throttle_keys=_named(keys)) as session:
            for key in keys:
                upsert = _insert(self.engine.dialect.name)(LoginAttempt).values(
                    key=key.digest, kind=key.kind, failures=1, last_failure_at=now
                )
                upsert = upsert.on_conflict_do_update(
                    index_elements=[LoginAttempt.key],
                    set_={
                        "failures": case(
                            (LoginAttempt.last_failure_at < stale, 1),
                            else_=LoginAttempt.failures + 1,
                        ),
                        "last_failure_at": now,
                    },
                ).returning(LoginAttempt.failures)
                failures = int(session.execute(upsert).scalar_one())
                wait = key.policy.wait(failures)
                session.execute(
                    update(LoginAttempt)
                    .where(LoginAttempt.key == key.digest)
                    .values(blocked_until=now + wait if wait else None)
                )

    def _clear_throttle(self, keys: tuple[Key, ...]) -> None:
        with self._transaction(throttle_keys=_named(keys)) as session:
            session.execute(
                delete(LoginAttempt).where(LoginAttempt.key.in_([k.digest for k in keys]))
            )


def _named(keys: tuple[Key, ...]) -> str:
    """The keys as ``twitchwise.throttle_keys`` names them (the row-level security's list)."""
    return ",".join(k.digest for k in keys)


def _insert(dialect: str) -> Any:
    """The dialect's INSERT that can become an UPDATE on a conflict (an upsert)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def _usable(digest: str, now: datetime) -> tuple[Any, ...]:
    """The conditions of an invitation that signs someone up now."""
    return (
        Invitation.code_hash == digest,
        Invitation.uses_left > 0,
        Invitation.expires_at > now,
        Invitation.revoked_at.is_(None),
    )


def _invitation(row: Invitation) -> InvitationInfo:
    return InvitationInfo(row.id, row.created_at, row.expires_at, row.uses_left, row.revoked_at)


def _by_email(session: Session, email: str) -> Account | None:
    return session.scalars(select(Account).where(func.lower(Account.email) == email)).one_or_none()


def _account(row: Account) -> AccountInfo:
    return AccountInfo(row.id, row.email, row.created_at, row.disabled, row.consent)


def _token(row: ApiToken) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.account_id,
        row.name,
        tuple(row.scopes.split()),
        row.created_at,
        row.last_used_at,
        row.revoked_at,
    )
