"""Episodes get a public id: a random UUID (version 4), never sequential.

An episode's ``id`` counts up over the whole table, so in a database many people share it
says how many episodes everyone has logged, and the next one is easy to guess. The hosted
service's API names an episode by ``public_id`` instead (``POST /api/journal/episodes``):
122 random bits, unique over the table (``uq_episodes_public_id``), never NULL. Every episode
already there gets one of its own as the column is added. The integer ``id`` stays the key
the database joins on, and the local app's API keeps it (docs/hosted.md, "Ids in addresses").

On PostgreSQL the column is added with the default ``gen_random_uuid()`` (PostgreSQL 13 or
newer), which gives every existing row its own value as the table is rewritten: that is not
a query, so the row-level security of ``0003``, forced on the tables' owner, hides no row from
it. On SQLite, which cannot add a column with such a default, the column is added empty,
filled a batch at a time with ``uuid.uuid4()`` and then made NOT NULL, with the default
``lower(hex(randomblob(16)))`` (128 random bits, the text of a UUID column there), by copying
the table (Alembic's batch mode; the store runs its migrations with SQLite's foreign keys off
and checks every reference before it commits, as for ``0003``). The store gives each episode
it writes a version-4 UUID of its own; the defaults are for rows written outside it (a hand
edit), as ``owner_id``'s is.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-10
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None

INDEX = "uq_episodes_public_id"
#: A random UUID for a row written without one (PostgreSQL 13 or newer has it built in).
POSTGRESQL_DEFAULT = sa.text("gen_random_uuid()")
#: SQLite's text of a UUID column is its 32 hexadecimal digits: 16 random bytes.
SQLITE_DEFAULT = sa.text("(lower(hex(randomblob(16))))")
#: Episodes given their public id per statement on SQLite (bounded memory on a big journal).
BATCH = 5000


def _foreign_keys_off() -> None:
    """On SQLite, refuse to copy ``episodes`` with foreign keys on (see migration 0003)."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite" and bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError(
            "migration 0004 copies the episodes table: run it with SQLite's foreign keys off "
            "(twitchwise.journal.store.migrate does)"
        )


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.add_column(
            "episodes",
            sa.Column("public_id", sa.Uuid(), server_default=POSTGRESQL_DEFAULT, nullable=False),
        )
    else:
        _foreign_keys_off()
        op.add_column("episodes", sa.Column("public_id", sa.Uuid(), nullable=True))
        _fill(bind)
        with op.batch_alter_table("episodes") as batch:
            batch.alter_column(
                "public_id",
                existing_type=sa.Uuid(),
                nullable=False,
                server_default=SQLITE_DEFAULT,
            )
    op.create_index(INDEX, "episodes", ["public_id"], unique=True)


def _fill(bind: sa.Connection) -> None:
    """Give every episode without a public id a random one, a batch at a time."""
    episodes = sa.table(
        "episodes", sa.column("id", sa.Integer()), sa.column("public_id", sa.Uuid())
    )
    update = (
        sa.update(episodes)
        .where(episodes.c.id == sa.bindparam("row_id"))
        .values(public_id=sa.bindparam("new_id"))
    )
    while True:
        rows = bind.execute(
            sa.select(episodes.c.id).where(episodes.c.public_id.is_(None)).limit(BATCH)
        ).scalars()
        batch = [{"row_id": row_id, "new_id": uuid.uuid4()} for row_id in rows]
        if not batch:
            return
        bind.execute(update, batch)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _foreign_keys_off()
    op.drop_index(INDEX, table_name="episodes")
    with op.batch_alter_table("episodes") as batch:
        batch.drop_column("public_id")
