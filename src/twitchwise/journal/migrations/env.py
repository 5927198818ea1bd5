"""Alembic environment of the journal: runs on the connection the store hands over.

The store (:func:`twitchwise.journal.store.migrate`) puts an open connection in
``config.attributes["connection"]``; migrations run inside its transaction. Offline (SQL
script) mode is not used.
"""

from __future__ import annotations

from alembic import context

from twitchwise.journal.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only the store runs these migrations
    raise RuntimeError("the journal migrations run through twitchwise.journal.store.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite changes tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
