"""Alembic environment of the accounts: runs on the connection :func:`~twitchwise.server.db.upgrade`
hands over.

The accounts' migrations keep their own version table, ``twitchwise_accounts_version``, so
they never meet the journal's (``alembic_version``), even in one database. Offline (SQL
script) mode is not used.
"""

from __future__ import annotations

from alembic import context

from twitchwise.server.models import Base

VERSION_TABLE = "twitchwise_accounts_version"

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only twitchwise.server.db runs these migrations
    raise RuntimeError("the accounts migrations run through twitchwise.server.db.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite changes tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
