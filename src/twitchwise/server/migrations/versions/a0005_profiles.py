"""Profiles: the age band and sex a person may choose to give on their account page; on
PostgreSQL, row-level security on them.

``profiles`` holds at most one row per account (its key is the account's id, deleted with
the account): an age band and a sex from closed lists, each NULL for "prefer not to say",
and when they were last set. Never a date of birth.

On PostgreSQL (forced on the tables' owner too, as in ``a0002``), ``profiles_own``: a
transaction sees and writes only the profile of the account it names with
``set_config('twitchwise.account_id', id, true)``.

Revision ID: a0005
Revises: a0004
Create Date: 2027-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "a0005"
down_revision: str | None = "a0004"
branch_labels: str | None = None
depends_on: str | None = None

#: The account a transaction acts for; NULL when it names none (then no row is visible).
CURRENT_ACCOUNT = "NULLIF(current_setting('twitchwise.account_id', true), '')::uuid"


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("age_band", sa.String(8), nullable=True),
        sa.Column("sex", sa.String(8), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_profiles_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name="pk_profiles"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE profiles ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE profiles FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY profiles_own ON profiles "
            f"USING (account_id = {CURRENT_ACCOUNT}) WITH CHECK (account_id = {CURRENT_ACCOUNT})"
        )


def downgrade() -> None:
    op.drop_table("profiles")  # its policy goes with it
