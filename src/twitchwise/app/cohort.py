"""The cohort export as a use case: consenting accounts of the hosted service's database,
each journal read through its owner's :class:`~twitchwise.journal.store.Journal`, written by
:mod:`twitchwise.cohort.export` (docs/cohort.md#the-export). A person's self-experiments that
have finished or were stopped go in as their results (:func:`twitchwise.app.experiment.results_of`,
the analysis ``twitchwise experiment result`` gives them). The age band and sex are those the
person chose in their account's profile (:meth:`~twitchwise.server.accounts.Accounts.profile`),
null when not given. Each day's triage level is the most urgent of the answers the hosted app
gave them that day (:meth:`~twitchwise.server.accounts.Accounts.answers`, kept only while they
consent), and each of those answers is a row of the answers table, its question and finding
ids on the vocabulary of ``tw``'s knowledge base (an id it does not have is ``other``).

::

    result = export_cohort(url, Path("cohort"), key, resume=False)
    result.people, result.manifest

Every import of SQLAlchemy, the server extra, pyarrow and numpy is inside the function.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from twitchwise.app.core import Twitchwise
    from twitchwise.cohort.export import ExportResult

__all__ = ["export_cohort"]


def export_cohort(
    database_url: str,
    out: Path,
    secret: bytes,
    *,
    resume: bool = False,
    buckets: int = 8,
    batch_size: int | None = None,
    progress: Callable[[str], None] | None = None,
    tw: Twitchwise | None = None,
    today: date | None = None,
) -> ExportResult:
    """Export every consenting, enabled account's journal into the folder ``out``.

    Checks come before anything is written: the extras, the key, the folder (a finished
    export, or an interrupted one without ``resume``, is an :class:`InputError`), the
    database (unreachable, or not upgraded) and whether the accounts can be listed. Each
    person's consent is read again just before their journal is; the journal (its summary,
    then its experiments) is read in transactions that name its owner (row-level security
    on PostgreSQL). The experiments are those no longer running on ``today`` (default: the
    day it runs), analysed with the kinds of ``tw``'s knowledge base (default: the packaged
    one)."""
    from twitchwise.__about__ import __version__
    from twitchwise.app.core import Twitchwise
    from twitchwise.app.experiment import results_of
    from twitchwise.cohort.export import (
        BATCH_PEOPLE,
        CohortExport,
        ExportKey,
        destination,
        person_rows,
        require_export,
    )

    require_export()
    key = ExportKey(secret)
    tw = tw or Twitchwise()
    now = today or date.today()
    target = destination(out, resume=resume)
    engine = _upgraded_engine(database_url)
    try:
        from twitchwise.journal.settings import JournalSettings
        from twitchwise.journal.store import open_journal
        from twitchwise.server.accounts import Accounts

        accounts = Accounts(engine)
        listed = accounts.consenting_accounts()
        first = next(listed, None)  # the first page: can this role list them at all?
        consenting = chain([first], listed) if first is not None else iter(())
        root = open_journal(JournalSettings.from_url(database_url))
        try:
            with CohortExport(
                target,
                key,
                buckets=buckets,
                batch_people=batch_size or BATCH_PEOPLE,
                source=f"twitchwise {__version__} cohort export of a hosted service",
                progress=progress,
                # the interview's questions, and the findings it asks about one by one
                questions=[*tw.kb.questions, *(f for f, x in tw.kb.findings.items() if x.question)],
                findings=tw.kb.findings,
            ) as export:
                if export.finished_before:
                    return export.finish()
                for account_id in consenting:
                    person = key.person_id(account_id)
                    if export.done(person):
                        export.seen(person)
                        continue
                    info = accounts.get(account_id)
                    if info is None or not info.consent or info.disabled:
                        continue  # withdrawn (or disabled) since the page was listed
                    profile = accounts.profile(account_id)  # only what they chose to give
                    # the record of answers (kept only with consent): each day's most urgent
                    answers = accounts.answers(account_id)
                    levels = [(a.day, a.triage_level) for a in answers]
                    journal = root.for_owner(account_id)
                    summary = journal.summary(notes_days=0)
                    stored = journal.experiments()
                    experiments = results_of(tw, stored, summary, now) if stored else []
                    rows = person_rows(
                        summary,
                        person_id=person,
                        shift_days=key.shift_days(account_id),
                        buckets=export.buckets,
                        age_band=profile.age_band,
                        sex=profile.sex,
                        experiments=experiments,
                        levels=levels,
                        answers=answers,
                        vocabulary=export.vocabulary,
                    )
                    export.add(person, rows)
                return export.finish()
        finally:
            root.close()
    finally:
        engine.dispose()


def _upgraded_engine(database_url: str) -> Engine:
    """An engine for the database, which must answer and hold the journal's and the
    accounts' tables at their newest revision (else one line saying what to do)."""
    from twitchwise.errors import ConfigError
    from twitchwise.journal.store import HEAD_REVISION as JOURNAL_HEAD
    from twitchwise.journal.store import current_revision as journal_revision
    from twitchwise.server.db import (
        HEAD_REVISION,
        DatabaseError,
        current_revision,
        describe,
        make_engine,
    )

    engine = make_engine(database_url)
    where = describe(database_url)
    try:
        accounts_at = current_revision(engine)
        journal_at = journal_revision(engine)
    except Exception as exc:  # any driver error (refused, unknown database...): one line
        engine.dispose()
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseError(f"could not reach {where}: {detail}") from exc
    if accounts_at != HEAD_REVISION or journal_at != JOURNAL_HEAD:
        engine.dispose()
        raise ConfigError(
            f"the database {where} is not up to date (accounts {accounts_at or 'none'}, "
            f"journal {journal_at or 'none'}): run 'twitchwise db upgrade' first"
        )
    return engine
