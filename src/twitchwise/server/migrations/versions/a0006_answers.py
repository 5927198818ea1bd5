"""Answers: a record of the hosted app's answers to people who consent, without any free
text; on PostgreSQL, row-level security on them.

``answers`` holds one row per answer the hosted app gave a signed-in person whose account
consents (docs/hosted.md#the-record-of-answers): its owner (deleted with the account), the
day, the triage level, the ids of the interview's questions asked (space-separated; empty
when the answer was not an interview's), the ids of the findings read as present
(space-separated) and how many words were not understood. Never the words themselves, nor
any other text. Every row of a person goes when they withdraw their consent.

On PostgreSQL (forced on the tables' owner too, as in ``a0002``), ``answers_own``: a
transaction sees and writes only the answers of the account it names with
``set_config('twitchwise.account_id', id, true)``.

Revision ID: a0006
Revises: a0005
Create Date: 2027-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "a0006"
down_revision: str | None = "a0005"
branch_labels: str | None = None
depends_on: str | None = None

#: The account a transaction acts for; NULL when it names none (then no row is visible).
CURRENT_ACCOUNT = "NULLIF(current_setting('twitchwise.account_id', true), '')::uuid"


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("triage_level", sa.String(20), nullable=False),
        sa.Column("questions", sa.Text(), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("not_understood", sa.Integer(), nullable=False),
        sa.CheckConstraint("not_understood >= 0", name="ck_answers_not_understood"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_answers_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
    )
    op.create_index("ix_answers_account_id_day", "answers", ["account_id", "day"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE answers ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE answers FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY answers_own ON answers "
            f"USING (account_id = {CURRENT_ACCOUNT}) WITH CHECK (account_id = {CURRENT_ACCOUNT})"
        )


def downgrade() -> None:
    op.drop_index("ix_answers_account_id_day", table_name="answers")
    op.drop_table("answers")  # its policy goes with it
