"""The accounts' tables as typed SQLAlchemy 2 models: ``accounts``, ``sessions``, ``api_tokens``,
``login_attempts``, ``invitations``, ``profiles``, ``answers``.

The schema is created and changed only by the Alembic migrations in
``twitchwise/server/migrations`` (their own version table, so they never meet the journal's);
these models must match them (``tests/test_server_migrations.py`` compares the two). Nothing
outside :mod:`twitchwise.server.accounts` reads or writes these tables.

Ids are random UUIDs (never sequential); a session's id is the SHA-256 of its token and an API
token and an invitation keep only the SHA-256 of their secret, so the database never holds a
usable credential.
Timestamps are stored in UTC and read back timezone-aware (the journal's ``UTCDateTime``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from twitchwise.journal.models import NAMING_CONVENTION, UTCDateTime

__all__ = [
    "Account",
    "AnswerRecord",
    "ApiToken",
    "Base",
    "Invitation",
    "LoginAttempt",
    "LoginSession",
    "Profile",
]

#: A SHA-256 in hexadecimal.
HASH_LENGTH = 64


class Base(DeclarativeBase):
    """The accounts' own metadata: never mixed with the journal's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Account(Base):
    """One person. The email is unique whatever its case (a unique index on ``lower(email)``)."""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    #: Consent to keep health data (the hosted service asks before the first entry); off.
    consent: Mapped[bool] = mapped_column(Boolean, server_default=false())


Index("uq_accounts_email_lower", func.lower(Account.email), unique=True)


class LoginSession(Base):
    """A browser's login: ``id`` is the SHA-256 of the cookie's random token."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiToken(Base):
    """A program's token: only the SHA-256 of its secret is kept. ``scopes``: ``read``,
    ``write`` or ``read write``."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    scopes: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginAttempt(Base):
    """Failed logins counted against one key, for throttling (:mod:`twitchwise.server.throttle`):
    ``key`` is the SHA-256 of an email or of a client's address, never the email or address."""

    __tablename__ = "login_attempts"

    key: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    #: ``account`` (an email) or ``address`` (a client's address or IPv6 /64).
    kind: Mapped[str] = mapped_column(String(10))
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: No login through this key before then; None when it need not wait.
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Invitation(Base):
    """A one-time sign-up code an administrator made (``TWITCHWISE_SIGNUP=invite``): only the
    SHA-256 of the code is kept. It signs up ``uses_left`` more people until ``expires_at``,
    unless revoked."""

    __tablename__ = "invitations"
    __table_args__ = (CheckConstraint("uses_left >= 0", name="uses_left"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uses_left: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Profile(Base):
    """What a person chose to say of themselves on their account page, all of it optional:
    an age band and a sex from closed lists (``accounts.AGE_BANDS``, ``accounts.SEXES``), NULL
    for "prefer not to say". Never a date of birth. At most one row per account."""

    __tablename__ = "profiles"

    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    age_band: Mapped[str | None] = mapped_column(String(8), nullable=True)
    sex: Mapped[str | None] = mapped_column(String(8), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AnswerRecord(Base):
    """One answer the hosted app gave a person whose account consents (issue 16), with no
    free text at all: the day, the triage level, the ids of the interview's questions asked
    (space-separated; empty for an answer that was no interview's), the ids of the findings
    read as present (space-separated) and how many words were not understood (never the
    words). Deleted with the account, and every row of a person when they withdraw consent."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("not_understood >= 0", name="not_understood"),
        Index("ix_answers_account_id_day", "account_id", "day"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("accounts.id", ondelete="CASCADE")
    )
    day: Mapped[date] = mapped_column(Date)
    triage_level: Mapped[str] = mapped_column(String(20))
    questions: Mapped[str] = mapped_column(Text)
    findings: Mapped[str] = mapped_column(Text)
    not_understood: Mapped[int] = mapped_column(Integer)
