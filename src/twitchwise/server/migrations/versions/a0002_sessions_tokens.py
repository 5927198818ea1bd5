"""Login sessions and API tokens; on PostgreSQL, row-level security on both.

Each row belongs to one account. On PostgreSQL the policies let a transaction see and write
only the rows of the account it names with ``set_config('twitchwise.account_id', id, true)``
(that is, ``SET LOCAL``), plus, for reading only, the one session or token whose hash it
names (``twitchwise.session_id``, ``twitchwise.token_hash``: how a login is looked up before
its account is known; a hash is useless without the secret it was made from). ``FORCE`` makes
the table's owner obey them too; only superusers and ``BYPASSRLS`` roles pass.

Revision ID: a0002
Revises: a0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "a0002"
down_revision: str | None = "a0001"
branch_labels: str | None = None
depends_on: str | None = None

#: The account a transaction acts for; NULL when it names none (then no row is visible).
CURRENT_ACCOUNT = "NULLIF(current_setting('twitchwise.account_id', true), '')::uuid"


def _setting(name: str) -> str:
    return f"NULLIF(current_setting('twitchwise.{name}', true), '')"


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_sessions_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_account_id", "sessions", ["account_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_api_tokens_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_account_id", "api_tokens", ["account_id"])
    if op.get_bind().dialect.name == "postgresql":
        for table, lookup in (
            ("sessions", "id = " + _setting("session_id")),
            ("api_tokens", "token_hash = " + _setting("token_hash")),
        ):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY {table}_own ON {table} "
                f"USING (account_id = {CURRENT_ACCOUNT}) "
                f"WITH CHECK (account_id = {CURRENT_ACCOUNT})"
            )
            op.execute(f"CREATE POLICY {table}_lookup ON {table} FOR SELECT USING ({lookup})")


def downgrade() -> None:
    op.drop_index("ix_api_tokens_account_id", table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_sessions_account_id", table_name="sessions")
    op.drop_table("sessions")
