"""The hosted service (issue 15), below the faces: accounts, their database and migrations.

- :mod:`twitchwise.server.db`: the database URL, an engine, the accounts' Alembic migrations
  (their own version table, beside the journal's).
- :mod:`twitchwise.server.models`: the tables ``accounts``, ``sessions``, ``api_tokens``,
  ``login_attempts``, ``invitations``.
- :mod:`twitchwise.server.accounts`: :class:`~twitchwise.server.accounts.Accounts`, the one way
  to read and write them, invitation codes too (PostgreSQL row-level security as a second
  wall); deleting an account deletes its journal too, through the journal's repository.
- :mod:`twitchwise.server.credentials`: argon2id passwords, random tokens stored as SHA-256.
- :mod:`twitchwise.server.access`: who a request acts for (a session or an API token), the
  scope a method needs, consent before a journal write; the errors for each refusal.
- :mod:`twitchwise.server.throttle`: how long a login waits after failures, per email and
  per address, and a sign-up after wrong invitation codes, per address (the counts are kept
  by ``Accounts``, in ``login_attempts``).

Nothing here is medical, and the local single-user app uses none of it (its web app knows the
error classes of ``access`` and ``db``, which import neither argon2 nor a driver). It needs
the ``server`` extra (``pip install 'twitchwise[server]'``) for argon2 and psycopg.
"""
