"""``twitchwise cohort report``: population analytics over a cohort folder, and ``twitchwise
cohort export``: the folder, from the hosted service's consenting accounts (docs/cohort.md).

The commands only translate: they check the options, make one call into
:mod:`twitchwise.cohort` or :mod:`twitchwise.app.cohort` (ibis, DuckDB, PySpark, pyarrow and
the server extra are imported there, inside functions) and print the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from twitchwise.commands._common import echo, long_running
from twitchwise.errors import InputError

COHORT_FORMATS = ("terminal", "json", "html")

cohort_app = typer.Typer(
    name="cohort",
    help="Population analytics over a cohort of pseudonymous journals (Parquet).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def report(
    folder: Annotated[
        Path,
        typer.Argument(
            help="The cohort folder (cohort.json, people/, days/, effects/, experiments/, "
            "answers/)."
        ),
    ],
    engine: Annotated[
        str,
        typer.Option("--engine", "-e", help="duckdb (embedded, the default) or spark (local)."),
    ] = "duckdb",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Output format: terminal, json or html.")
    ] = "terminal",
) -> None:
    """Across people: which factors precede twitching, how much people differ, and which
    regions and triage levels are reported by age band, sex, season and week. No group of
    fewer than 10 people is shown.

    Example: twitchwise cohort report cohort/ --engine duckdb --format json
    """
    long_running()
    if fmt not in COHORT_FORMATS:
        raise InputError(
            f"unknown format {fmt!r}; use --format terminal, json or html", field="format"
        )
    from twitchwise.cohort.engines import require
    from twitchwise.cohort.format import read_manifest

    require(engine)
    read_manifest(folder)
    from twitchwise.cohort.report import cohort_report

    echo(cohort_report(folder, engine).render(fmt), nl=False)


def export(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="The folder to make (it must not exist, or be empty).",
            show_default=False,
        ),
    ],
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL of the hosted service's database (default: "
            "TWITCHWISE_DATABASE_URL).",
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="A file holding the secret key (32 bytes or more) that makes the pseudonyms "
            "and date shifts (default: TWITCHWISE_COHORT_KEY).",
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Go on with an interrupted export of --out.")
    ] = False,
    buckets: Annotated[
        int, typer.Option("--buckets", help="Partitions of each table (1-1000).")
    ] = 8,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="People written per batch (memory grows with it).")
    ] = 1000,
) -> None:
    """Write the journals of every consenting account as a pseudonymous cohort (Parquet) that
    'twitchwise cohort report' reads: keyed-hash ids, dates moved per person, no free text.
    Resumable; progress on standard error.

    Example: twitchwise cohort export --database-url postgresql+psycopg://export@db/twitchwise
    --key-file cohort.key --out cohort/
    """
    long_running()
    if not 1 <= buckets <= 1000:
        raise InputError(f"--buckets must be 1 to 1000, not {buckets}", field="buckets")
    if batch_size < 1:
        raise InputError(f"--batch-size must be 1 or more, not {batch_size}", field="batch_size")
    secret = _export_key(key_file)
    from twitchwise.app.cohort import export_cohort
    from twitchwise.server.db import database_url as url_of

    try:
        result = export_cohort(
            url_of(database_url),
            out,
            secret,
            resume=resume,
            buckets=buckets,
            batch_size=batch_size,
            progress=lambda line: echo(line, err=True),
        )
    except KeyboardInterrupt:
        echo(
            f"interrupted: what was written is kept in {out}.partial; run the same command "
            "with --resume to go on",
            err=True,
        )
        raise typer.Exit(130) from None
    if result.already_done:
        echo(f"the interrupted export was already whole: {out} holds {result.people:,} people")
        return
    removed = (
        f"; {result.withdrawn:,} taken out again (consent withdrawn)" if result.withdrawn else ""
    )
    empty = f"{result.empty:,} consenting account{'' if result.empty == 1 else 's'}"
    echo(f"exported {result.people:,} people to {out} ({empty} had nothing to export{removed})")


def _export_key(key_file: Path | None) -> bytes:
    """The export's secret: the bytes of ``--key-file``, else ``TWITCHWISE_COHORT_KEY``."""
    if key_file is not None:
        try:
            return key_file.read_bytes()
        except OSError as exc:
            raise InputError(
                f"cannot read the key file {key_file}: {exc.strerror or exc}", field="key_file"
            ) from None
    from twitchwise.settings import environment_settings

    found = environment_settings().cohort_key  # type: ignore[attr-defined]
    if found is None:
        raise InputError(
            "the export needs a secret key for the pseudonyms: give --key-file FILE or set "
            "TWITCHWISE_COHORT_KEY (32 random bytes or more; make one with \"python -c 'import "
            "secrets; print(secrets.token_hex(32))'\")",
            field="key_file",
        )
    return bytes(found.get_secret_value().encode())


def register(app: typer.Typer) -> None:
    cohort_app.command("report")(report)
    cohort_app.command("export")(export)
    app.add_typer(cohort_app, name="cohort")
