"""The journal per person: every personal row gets its owner; on PostgreSQL, row-level security.

Every table (``imports``, ``episodes``, ``days``, ``workouts``, ``experiments``,
``experiment_days``) gets ``owner_id``, a UUID that is never NULL. Rows already there are the
local person's: the column's default is the local owner (all zeros, ``LOCAL_OWNER`` in
:mod:`twitchwise.journal.models`), which fills them as the column is added. What was unique is
unique per owner (a day's date, an import's or a workout's fingerprint, an episode's ``uid``,
an experiment's check-in for a date), and the indexes the reads use lead with the owner. The
indexes on ``import_id`` and ``experiment_id`` stay as they are: they serve the database's own
look-ups when an import or an experiment is deleted, which go by that id alone.

SQLite cannot change a constraint in place, so the tables are copied (Alembic's batch mode);
the journal's store runs the migrations with SQLite's foreign keys off (a copied table is
dropped, which would otherwise set its children's references to NULL or delete them) and
checks every reference before it commits.

On PostgreSQL, each table gets row-level security, forced on the tables' owner too (only
superusers and ``BYPASSRLS`` roles pass), with one policy: a transaction sees, changes and
adds only the rows of the owner it names with ``set_config('twitchwise.account_id', id,
true)`` (the setting the accounts' policies read, migration ``a0002``), and no row when it
names none. The journal's store names its owner in every transaction.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-20
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

#: The local owner, written as 32 hexadecimal digits: SQLite's text of a UUID column, and a
#: UUID PostgreSQL reads as such. (Frozen here: a migration must not change with the code.)
LOCAL_OWNER_HEX = "0" * 32
#: The owner a transaction names; NULL when it names none (then no row is visible).
CURRENT_OWNER = "NULLIF(current_setting('twitchwise.account_id', true), '')::uuid"

#: Every personal table, with what was unique (name, columns) and the indexes (name, columns)
#: before this migration and after it.
TABLES: dict[str, dict[str, list[tuple[str, list[str]]]]] = {
    "imports": {
        "unique_before": [("uq_imports_fingerprint", ["fingerprint"])],
        "unique_after": [("uq_imports_owner_fingerprint", ["owner_id", "fingerprint"])],
        "index_before": [],
        "index_after": [],
    },
    "episodes": {
        "unique_before": [("uq_episodes_uid", ["uid"])],
        "unique_after": [("uq_episodes_owner_uid", ["owner_id", "uid"])],
        "index_before": [("ix_episodes_at", ["at"]), ("ix_episodes_local_date", ["local_date"])],
        "index_after": [
            ("ix_episodes_owner_at", ["owner_id", "at"]),
            ("ix_episodes_owner_local_date", ["owner_id", "local_date"]),
        ],
    },
    "days": {
        "unique_before": [("uq_days_date", ["date"])],
        "unique_after": [("uq_days_owner_date", ["owner_id", "date"])],
        "index_before": [],
        "index_after": [],
    },
    "workouts": {
        "unique_before": [("uq_workouts_fingerprint", ["fingerprint"])],
        "unique_after": [("uq_workouts_owner_fingerprint", ["owner_id", "fingerprint"])],
        "index_before": [("ix_workouts_start", ["start"])],
        "index_after": [("ix_workouts_owner_start", ["owner_id", "start"])],
    },
    "experiments": {
        "unique_before": [],
        "unique_after": [],
        "index_before": [],
        "index_after": [("ix_experiments_owner_id", ["owner_id"])],
    },
    "experiment_days": {
        "unique_before": [("uq_experiment_days_day", ["experiment_id", "date"])],
        "unique_after": [("uq_experiment_days_owner_day", ["owner_id", "experiment_id", "date"])],
        "index_before": [],
        "index_after": [],
    },
}


def _foreign_keys_off() -> None:
    """On SQLite, refuse to run with foreign keys on: copying a table drops the old one, and
    dropping ``imports`` or ``experiments`` would then clear or delete the rows that refer to
    them. (The journal's store turns them off for its migrations.)"""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "migration 0003 copies the journal's tables: run it with SQLite's foreign keys off "
            "(twitchwise.journal.store.migrate does)"
        )


def upgrade() -> None:
    _foreign_keys_off()
    for table, keys in TABLES.items():
        for name, _ in keys["index_before"]:
            op.drop_index(name, table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "owner_id",
                    sa.Uuid(),
                    server_default=sa.text(f"'{LOCAL_OWNER_HEX}'"),
                    nullable=False,
                )
            )
            for name, _ in keys["unique_before"]:
                batch.drop_constraint(name, type_="unique")
            for name, columns in keys["unique_after"]:
                batch.create_unique_constraint(name, columns)
        for name, columns in keys["index_after"]:
            op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY {table}_own ON {table} "
                f"USING (owner_id = {CURRENT_OWNER}) "
                f"WITH CHECK (owner_id = {CURRENT_OWNER})"
            )


def downgrade() -> None:
    """Back to one journal per database: refused while it holds rows of any other owner than
    the local one (they would become the local person's)."""
    _foreign_keys_off()
    bind = op.get_bind()
    local = uuid.UUID(LOCAL_OWNER_HEX)
    for table in TABLES:
        owner = sa.column("owner_id", sa.Uuid())
        others = bind.execute(
            sa.select(sa.func.count()).select_from(sa.table(table, owner)).where(owner != local)
        ).scalar()
        if others:
            raise RuntimeError(
                f"cannot go back before migration 0003: {table} holds {others} rows of "
                "other owners than the local one; delete them first"
            )
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP POLICY {table}_own ON {table}")
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for table, keys in reversed(TABLES.items()):
        for name, _ in keys["index_after"]:
            op.drop_index(name, table_name=table)
        with op.batch_alter_table(table) as batch:
            for name, _ in keys["unique_after"]:
                batch.drop_constraint(name, type_="unique")
            for name, columns in keys["unique_before"]:
                batch.create_unique_constraint(name, columns)
            batch.drop_column("owner_id")
        for name, columns in keys["index_before"]:
            op.create_index(name, table, columns)
