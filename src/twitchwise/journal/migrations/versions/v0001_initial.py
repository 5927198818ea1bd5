"""The journal's first schema: imports, episodes, days and workouts.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows_added", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
        sa.UniqueConstraint("fingerprint", name="uq_imports_fingerprint"),
    )
    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("intensity", sa.SmallInteger(), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "intensity IS NULL OR intensity BETWEEN 1 AND 5", name="ck_episodes_intensity"
        ),
        sa.CheckConstraint(
            "side IS NULL OR side IN ('left', 'right', 'both')", name="ck_episodes_side"
        ),
        sa.CheckConstraint("duration_s IS NULL OR duration_s >= 0", name="ck_episodes_duration"),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name="fk_episodes_import_id_imports",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_episodes"),
        sa.UniqueConstraint("uid", name="uq_episodes_uid"),
    )
    op.create_index("ix_episodes_at", "episodes", ["at"])
    op.create_index("ix_episodes_local_date", "episodes", ["local_date"])
    op.create_index("ix_episodes_import_id", "episodes", ["import_id"])
    op.create_table(
        "days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("caffeine_mg", sa.Float(), nullable=True),
        sa.Column("sleep_h", sa.Float(), nullable=True),
        sa.Column("water_l", sa.Float(), nullable=True),
        sa.Column("workout_min", sa.Float(), nullable=True),
        sa.Column("workout_type", sa.String(64), nullable=True),
        sa.Column("stress", sa.SmallInteger(), nullable=True),
        sa.Column("alcohol_units", sa.Float(), nullable=True),
        sa.Column("medicines", sa.JSON(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=True),
        sa.Column("hrv_ms", sa.Float(), nullable=True),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("stress IS NULL OR stress BETWEEN 0 AND 10", name="ck_days_stress"),
        sa.PrimaryKeyConstraint("id", name="pk_days"),
        sa.UniqueConstraint("date", name="uq_days_date"),
    )
    op.create_table(
        "workouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("sport", sa.String(64), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("energy_kj", sa.Float(), nullable=True),
        sa.Column("avg_hr_bpm", sa.Float(), nullable=True),
        sa.Column("source_file", sa.String(255), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name="fk_workouts_import_id_imports",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_workouts"),
        sa.UniqueConstraint("fingerprint", name="uq_workouts_fingerprint"),
    )
    op.create_index("ix_workouts_start", "workouts", ["start"])
    op.create_index("ix_workouts_import_id", "workouts", ["import_id"])


def downgrade() -> None:
    op.drop_table("workouts")
    op.drop_table("days")
    op.drop_table("episodes")
    op.drop_table("imports")
