"""Login throttling; on PostgreSQL, row-level security on ``accounts`` and ``login_attempts``.

``login_attempts`` counts failed logins per key: the SHA-256 of an email or of a client's
address (never the email or the address itself), with the time of the last failure and until
when a login through that key must wait (:mod:`twitchwise.server.throttle`).

On PostgreSQL (forced on the tables' owner too, as in ``a0002``):

- ``accounts``: a transaction sees and changes only the account it names with
  ``set_config('twitchwise.account_id', id, true)`` and may add only that one; a login may
  read the one account whose email (lower case) it names in ``twitchwise.email``, to check
  its password. A transaction that names neither sees no account at all.
- ``login_attempts``: a transaction sees and writes only the keys it names, comma-separated,
  in ``twitchwise.throttle_keys``; no list of who tried to log in can be read.

Revision ID: a0003
Revises: a0002
Create Date: 2026-12-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "a0003"
down_revision: str | None = "a0002"
branch_labels: str | None = None
depends_on: str | None = None

#: The account a transaction acts for; NULL when it names none.
CURRENT_ACCOUNT = "NULLIF(current_setting('twitchwise.account_id', true), '')::uuid"
#: The email a login looks up (lower case); NULL when it names none.
LOOKED_UP_EMAIL = "NULLIF(current_setting('twitchwise.email', true), '')"
#: The throttling keys a transaction names; NULL (no row) when it names none.
NAMED_KEYS = "string_to_array(NULLIF(current_setting('twitchwise.throttle_keys', true), ''), ',')"


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_login_attempts"),
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in ("accounts", "login_attempts"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY accounts_own ON accounts "
            f"USING (id = {CURRENT_ACCOUNT}) WITH CHECK (id = {CURRENT_ACCOUNT})"
        )
        op.execute(
            "CREATE POLICY accounts_lookup ON accounts FOR SELECT "
            f"USING (lower(email) = {LOOKED_UP_EMAIL})"
        )
        op.execute(
            "CREATE POLICY login_attempts_named ON login_attempts "
            f"USING (key = ANY ({NAMED_KEYS})) WITH CHECK (key = ANY ({NAMED_KEYS}))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS accounts_lookup ON accounts")
        op.execute("DROP POLICY IF EXISTS accounts_own ON accounts")
        op.execute("ALTER TABLE accounts NO FORCE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE accounts DISABLE ROW LEVEL SECURITY")
    op.drop_table("login_attempts")
