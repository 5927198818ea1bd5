"""The hosted service (issue 15), below the faces: accounts, their database and migrations.

- :mod:`twitchwise.server.db`: the database URL, an engine, the accounts' Alembic migrations
  (their own version table, beside the journal's).
- :mod:`twitchwise.server.models`: the tables ``accounts``, ``sessions``, ``api_tokens``.
- :mod:`twitchwise.server.accounts`: :class:`~twitchwise.server.accounts.Accounts`, the one way
  to read and write them (PostgreSQL row-level security as a second wall); deleting an account
  deletes its journal too, through the journal's repository.
- :mod:`twitchwise.server.credentials`: argon2id passwords, random tokens stored as SHA-256.

Nothing here is medical, and the local single-user app does not use it. It needs the
``server`` extra (``pip install 'twitchwise[server]'``) for argon2 and psycopg.
"""
