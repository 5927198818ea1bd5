"""Invitations: one-time sign-up codes (``TWITCHWISE_SIGNUP=invite``); on PostgreSQL, row-level
security on them.

``invitations`` keeps each code's SHA-256 (never the code), when it was made and expires, how
many more people it may sign up, and when it was revoked. A sign-up spends a use in the same
transaction that makes the account.

On PostgreSQL (forced on the tables' owner too, as in ``a0002``):

- ``invitations_named``: a transaction sees and writes only the invitation whose code's hash
  it names with ``set_config('twitchwise.invitation_hash', hash, true)``: how a sign-up finds
  and spends the code it was given, and how an administrator adds a new one.
- ``invitations_managed``: a transaction that says it manages invitations
  (``twitchwise.invitations`` = ``manage``: listing and revoking them, from ``twitchwise
  admin``) sees them all. A web request never says so; a transaction that names neither sees
  none.

Revision ID: a0004
Revises: a0003
Create Date: 2027-01-17
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "a0004"
down_revision: str | None = "a0003"
branch_labels: str | None = None
depends_on: str | None = None

#: The invitation code's hash a transaction names; NULL (no row) when it names none.
NAMED_CODE = "NULLIF(current_setting('twitchwise.invitation_hash', true), '')"
#: Whether a transaction manages invitations (the administrator's commands).
MANAGING = "NULLIF(current_setting('twitchwise.invitations', true), '') = 'manage'"


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("uses_left >= 0", name="ck_invitations_uses_left"),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("code_hash", name="uq_invitations_code_hash"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE invitations ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE invitations FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY invitations_named ON invitations "
            f"USING (code_hash = {NAMED_CODE}) WITH CHECK (code_hash = {NAMED_CODE})"
        )
        op.execute(
            f"CREATE POLICY invitations_managed ON invitations USING ({MANAGING}) "
            f"WITH CHECK ({MANAGING})"
        )


def downgrade() -> None:
    op.drop_table("invitations")  # its policies go with it
