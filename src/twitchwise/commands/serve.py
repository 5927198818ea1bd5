"""``twitchwise serve``: the web app and REST API on this computer (FastAPI with uvicorn), or
with ``--accounts`` the hosted service (docs/hosted.md), in one process or, with
``--workers N`` on PostgreSQL, in N worker processes (docs/hosted.md, "worker processes").

FastAPI and uvicorn come with the ``web`` extra and are imported inside the command, after a
check that names the install command when they are missing; accounts need the ``server``
extra too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from twitchwise.commands._common import long_running
from twitchwise.errors import ConfigError, InputError

if TYPE_CHECKING:
    from twitchwise.web.settings import WebSettings

#: The web extra's modules; python-multipart is importable as either name.
WEB_MODULES = (("fastapi",), ("uvicorn",), ("python_multipart", "multipart"))
INSTALL = "pip install 'twitchwise[web]'"


def serve(
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            metavar="ADDRESS",
            help="Address to listen on; the default, 127.0.0.1, lets only this computer in. "
            "Also TWITCHWISE_HOST.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            metavar="PORT",
            help="Port to listen on (1-65535; default 8000). Also TWITCHWISE_PORT.",
            show_default=False,
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            metavar="NAME",
            help="A name or address browsers use to reach this computer (repeatable); needed "
            "when --host is not 127.0.0.1. Also TWITCHWISE_ALLOWED_HOSTS=NAME,NAME.",
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            metavar="text|json",
            help="json: one JSON log line per request, with a request id (X-Request-ID); "
            "text (the default) logs as before. Also TWITCHWISE_LOG_FORMAT.",
            show_default=False,
        ),
    ] = None,
    metrics: Annotated[
        bool | None,
        typer.Option(
            "--metrics/--no-metrics",
            help="Prometheus metrics at /metrics (the server extra); off by default, when "
            "/metrics is 404. Also TWITCHWISE_METRICS=1.",
            show_default=False,
        ),
    ] = None,
    accounts: Annotated[
        bool | None,
        typer.Option(
            "--accounts/--no-accounts",
            help="The hosted service: sign-up, login, API tokens and each person's own "
            "journal in the database (run 'twitchwise db upgrade' first; the server extra). "
            "Also TWITCHWISE_ACCOUNTS=1.",
            show_default=False,
        ),
    ] = None,
    signup: Annotated[
        str | None,
        typer.Option(
            "--signup",
            metavar="open|closed|invite",
            help="With --accounts: open (the default), anyone may sign up at /signup; invite, "
            "only with a one-time code from 'twitchwise admin invite'; closed, no one may (403) "
            "and 'twitchwise admin create-user' makes the accounts. Also TWITCHWISE_SIGNUP.",
            show_default=False,
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="SQLAlchemy URL of the database (default: TWITCHWISE_DATABASE_URL, else the "
            "journal's SQLite file), e.g. postgresql+psycopg://twitchwise@db/twitchwise.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            metavar="N",
            help="Worker processes (default 1). Above 1 needs --accounts and a PostgreSQL "
            "database: each process serves requests and shares nothing but the database. "
            "Also TWITCHWISE_WORKERS.",
            show_default=False,
        ),
    ] = None,
    trust_proxy: Annotated[
        bool | None,
        typer.Option(
            "--trust-proxy/--no-trust-proxy",
            help="Believe X-Forwarded-Proto (for Secure cookies) and X-Forwarded-For (the "
            "address login throttling counts) from the reverse proxy in front; only when "
            "every request comes through it. Also TWITCHWISE_TRUST_PROXY=1.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Start the web app and REST API: ask, questions, guides and your journal, in a browser.

    Example: twitchwise serve  (then open http://127.0.0.1:8000)
    """
    long_running()
    missing = _missing_module()
    if missing:
        raise ConfigError(
            f"twitchwise serve needs the web extra ({missing} is not installed); run: {INSTALL}"
        )
    if port is not None and not 1 <= port <= 65535:
        raise InputError(f"--port must be from 1 to 65535, not {port}")
    from twitchwise.web.settings import LOG_FORMATS, MAX_WORKERS, SIGNUP_MODES, WebSettings

    if workers is not None and not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers must be from 1 to {MAX_WORKERS}, not {workers}")
    if log_format is not None and log_format.strip().lower() not in LOG_FORMATS:
        raise InputError(f"--log-format must be text or json, not {log_format!r}")
    if signup is not None and signup.strip().lower() not in SIGNUP_MODES:
        raise InputError(f"--signup must be open, closed or invite, not {signup!r}")
    settings = WebSettings.from_env(
        host=host,
        port=port,
        allowed_hosts=tuple(allowed_host or ()),
        log_format=log_format.strip().lower() if log_format else None,
        metrics=metrics,
        accounts=accounts,
        trust_proxy=trust_proxy,
        database_url=database_url,
        workers=workers,
        signup=signup.strip().lower() if signup else None,
    )
    if settings.workers > 1:
        _check_workers(settings)
    if settings.accounts:
        _check_accounts(settings)
    host, port = settings.host, settings.port
    _check_free(host, port)

    import uvicorn

    from twitchwise.web.app import create_app
    from twitchwise.web.server import uvicorn_options

    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"twitchwise is running at http://{shown}:{port}/ (API: /api, docs: /docs).")
    if settings.accounts and settings.signup == "open":
        typer.echo(
            "Press Ctrl+C to stop it. Accounts are on: sign up at /signup; each person sees "
            "only their own journal."
        )
    elif settings.accounts and settings.signup == "invite":
        typer.echo(
            "Press Ctrl+C to stop it. Accounts are on and sign-up needs an invitation: make "
            "codes with 'twitchwise admin invite'; each person sees only their own journal."
        )
    elif settings.accounts:
        typer.echo(
            "Press Ctrl+C to stop it. Accounts are on and sign-up is closed: make them with "
            "'twitchwise admin create-user'; each person sees only their own journal."
        )
    else:
        typer.echo("Press Ctrl+C to stop it. Nothing you type leaves this computer.")
    if not settings.loopback and not settings.accounts:
        typer.echo(
            f"warning: listening on {host} lets other computers on the network reach the app and "
            f"your journal as {', '.join(settings.allowed_hosts)}; there is no login. "
            "Use --host 127.0.0.1 unless you mean it.",
            err=True,
        )
    if settings.workers > 1:
        typer.echo(f"{settings.workers} worker processes; SIGTERM or Ctrl+C lets requests finish.")
        from twitchwise.web.server import WORKER_APP

        with _worker_environment(settings):
            uvicorn.run(WORKER_APP, **uvicorn_options(settings))
        return
    uvicorn.run(create_app(settings), **uvicorn_options(settings))


def _check_workers(settings: WebSettings) -> None:
    """Several workers only for the hosted service on PostgreSQL: one line otherwise. The
    local app is one person's (and opens, and may create and migrate, its SQLite file on
    first use, which two processes must not do at once); SQLite takes one writer at a time,
    so processes would wait on each other and gain nothing."""
    if not settings.accounts:
        raise InputError(
            f"--workers {settings.workers} needs --accounts: the local app is one person's "
            "and runs in one process (use --workers 1)"
        )
    from twitchwise.journal.settings import journal_settings

    journal = settings.journal or journal_settings()
    if journal.url.startswith("sqlite"):
        raise InputError(
            f"--workers {settings.workers} needs a PostgreSQL database (--database-url "
            "postgresql+psycopg://...): SQLite serves one process (use --workers 1)"
        )


@contextmanager
def _worker_environment(settings: WebSettings) -> Iterator[None]:
    """The environment the worker processes start with, while they run: the settings as
    ``TWITCHWISE_*`` variables (each worker reads them back: nothing else of this process
    reaches them), and for metrics a private, empty ``PROMETHEUS_MULTIPROC_DIR`` made here
    and removed afterwards (one given in the environment is used as it is), so that
    ``/metrics`` on any worker sums them all. The environment is restored at the end."""
    import shutil
    import tempfile

    from twitchwise.web.observe import MULTIPROC_DIR

    variables = settings.environment()
    made: str | None = None
    if settings.metrics and not os.environ.get(MULTIPROC_DIR):
        made = tempfile.mkdtemp(prefix="twitchwise-metrics-")  # 0700: this user's only
        variables[MULTIPROC_DIR] = made
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


def _check_accounts(settings: object) -> None:
    """One line, before anything starts, when the accounts cannot be served: no server
    extra, a database that does not answer, or one that is not upgraded."""
    try:
        import argon2  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "twitchwise serve --accounts needs the server extra: pip install 'twitchwise[server]'"
        ) from exc
    from types import SimpleNamespace

    from twitchwise.app.core import Twitchwise
    from twitchwise.web.deps import accounts_of, close_journal

    tw = Twitchwise(journal_settings=getattr(settings, "journal", None))
    state = SimpleNamespace(twitchwise=tw)
    try:
        accounts_of(state)
    except ConfigError as exc:
        where = tw.journal_settings.where
        raise ConfigError(f"{where}: {exc}") from None
    finally:
        close_journal(state)


def _missing_module() -> str | None:
    """The first module of the web extra that is not installed (found without importing)."""
    import importlib.util

    for names in WEB_MODULES:
        if not any(importlib.util.find_spec(name) is not None for name in names):
            return names[0]
    return None


def _check_free(host: str, port: int) -> None:
    """A clear error, before uvicorn starts, when the address cannot be used."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InputError(f"--host {host!r} is not an address of this computer") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise InputError(
                f"cannot listen on {host}:{port} ({reason}); choose another with --port, "
                "e.g. twitchwise serve --port 8080"
            ) from None


def register(app: typer.Typer) -> None:
    app.command()(serve)
