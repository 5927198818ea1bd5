"""Every setting twitchwise reads from the environment, in one pydantic-settings model.

=================================== ============================================================
Variable                            Meaning
=================================== ============================================================
``TWITCHWISE_HOME``                 Folder of the journal (``journal.sqlite``); default: the user
                                    data folder (platformdirs; ``~/.local/share/twitchwise``).
``TWITCHWISE_DATABASE_URL``         A SQLAlchemy URL that replaces the SQLite file.
``TWITCHWISE_DB_POOL_SIZE``         Connections the database's pool keeps open, per process
                                    (default 5).
``TWITCHWISE_DB_POOL_MAX_OVERFLOW`` Connections the pool may open beyond its size at a peak,
                                    closed when given back (default 10).
``TWITCHWISE_DB_POOL_TIMEOUT``      Seconds to wait for a pooled connection when all are in use,
                                    then fail (503 in the web app; default 30).
``TWITCHWISE_DB_POOL_RECYCLE``      Seconds after which a pooled connection is replaced when
                                    next taken (default, and 0: never).
``TWITCHWISE_ALLOWED_HOSTS``        Comma-separated host names ``twitchwise serve`` accepts besides
                                    this computer's (``--allowed-host``).
``TWITCHWISE_MAX_UPLOAD_MB``        Largest journal import upload the web app takes, in MB.
``TWITCHWISE_LOG_FORMAT``           ``text`` (default: the local app logs as before) or ``json``:
                                    one JSON line per request with a request id
                                    (``serve --log-format``).
``TWITCHWISE_METRICS``              ``1`` (or ``true``): Prometheus metrics at ``/metrics``
                                    (``serve --metrics``); off by default (404).
``TWITCHWISE_ACCOUNTS``             ``1`` (or ``true``): ``twitchwise serve`` is the hosted service,
                                    with accounts (``serve --accounts``); off by default.
``TWITCHWISE_SIGNUP``               ``open`` (default): anyone may sign up at ``/signup`` of the
                                    hosted service; ``invite``: only with a one-time code from
                                    ``twitchwise admin invite``; ``closed``: no one may, and
                                    accounts are made with ``twitchwise admin create-user``
                                    (``serve --signup``).
``TWITCHWISE_TRUST_PROXY``          ``1`` (or ``true``): believe ``X-Forwarded-Proto`` and
                                    ``X-Forwarded-For`` from the reverse proxy in front
                                    (``serve --trust-proxy``); off by default.
``TWITCHWISE_MAX_IMPORTS``          Journal imports one web worker process runs at once (hosted
                                    service; default 2).
``TWITCHWISE_HOST``                 Address ``twitchwise serve`` listens on (``serve --host``;
                                    default 127.0.0.1).
``TWITCHWISE_PORT``                 Port ``twitchwise serve`` listens on (``serve --port``; 8000).
``TWITCHWISE_WORKERS``              Worker processes of ``twitchwise serve --accounts`` on
                                    PostgreSQL (``serve --workers``; default 1).
``TWITCHWISE_GRACEFUL_TIMEOUT``     Seconds ``twitchwise serve`` lets requests in flight finish
                                    after SIGTERM or SIGINT (default 20).
``TWITCHWISE_MAX_CONNECTIONS``      Connections one worker process serves at once; more get 503
                                    (default 100).
``TWITCHWISE_KEEP_ALIVE``           Seconds an idle keep-alive connection stays open (default 5;
                                    behind a proxy, longer than the proxy's idle timeout).
``TWITCHWISE_COHORT_KEY``           The secret key of ``twitchwise cohort export`` (at least 32
                                    characters) when no ``--key-file`` is given.
``TWITCHWISE_CACHE_DIR``            Folder of the compiled knowledge base and parser.
``TWITCHWISE_NO_CACHE``             Any value: build them on every run, write no cache.
=================================== ============================================================

An empty variable counts as unset. The settings are read again on every call of
:func:`environment_settings` (tests and long-lived processes change the environment).

The two cache variables are read by the start-up path of ``twitchwise ask`` itself
(:func:`cache_settings`), without pydantic, which an answer never imports (start-up time,
docs/performance.md); they are fields of the model all the same, so that the model is the one
list of every variable and its meaning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from twitchwise.errors import ConfigError

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings

__all__ = ["PREFIX", "Setting", "cache_settings", "environment_settings", "settings_model"]

PREFIX = "TWITCHWISE_"


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting as the docs list it: its name, default and what it does."""

    name: str
    default: str
    help: str


def settings_model() -> type[BaseSettings]:
    """The pydantic-settings model (built on first use: pydantic is not imported before)."""
    return _model()


def environment_settings() -> BaseSettings:
    """The settings as the environment gives them now; a one-line :class:`ConfigError` names
    the variable that cannot be read."""
    from pydantic import ValidationError

    try:
        return settings_model()()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        wanted = _EXPECTED.get(field, first["msg"].lower())
        raise ConfigError(
            f"{PREFIX}{field.upper()} must be {wanted}, not {first.get('input')!r}"
        ) from None


#: What a variable must hold, for its error message (fields not named: pydantic's words).
_EXPECTED = {
    "max_upload_mb": "a number of megabytes above 0",
    "log_format": "text or json",
    "metrics": "1 or 0 (true or false)",
    "accounts": "1 or 0 (true or false)",
    "signup": "open, closed or invite",
    "trust_proxy": "1 or 0 (true or false)",
    "max_imports": "a whole number from 1 to 64",
    "port": "a whole number from 1 to 65535",
    "workers": "a whole number from 1 to 64",
    "graceful_timeout": "a number of seconds above 0, at most 3600",
    "max_connections": "a whole number from 1 to 100000",
    "keep_alive": "a whole number of seconds from 1 to 3600",
    "db_pool_size": "a whole number from 1 to 1000",
    "db_pool_max_overflow": "a whole number from 0 to 1000",
    "db_pool_timeout": "a number of seconds above 0, at most 3600",
    "db_pool_recycle": "a whole number of seconds from 0 (never) to 86400",
}


def cache_settings() -> tuple[Path | None, bool]:
    """(``TWITCHWISE_CACHE_DIR``, ``TWITCHWISE_NO_CACHE``) straight from the environment, for
    the start-up path, which imports no pydantic; the same meaning as the model's fields."""
    folder = os.environ.get(f"{PREFIX}CACHE_DIR", "").strip()
    off = bool(os.environ.get(f"{PREFIX}NO_CACHE", "").strip())
    return (Path(folder).expanduser() if folder else None), off


_MODEL: type[BaseSettings] | None = None


def _model() -> type[BaseSettings]:
    global _MODEL
    if _MODEL is not None:
        return _MODEL
    from typing import Annotated, Literal

    from pydantic import Field, SecretStr, field_validator
    from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

    class Settings(BaseSettings):
        """twitchwise's settings from ``TWITCHWISE_*`` variables (see the module docs)."""

        model_config = SettingsConfigDict(
            env_prefix=PREFIX, env_ignore_empty=True, frozen=True, extra="ignore"
        )

        home: Path | None = Field(None, description="Folder of the journal (journal.sqlite).")
        database_url: str | None = Field(
            None, description="SQLAlchemy URL of the journal database; replaces the SQLite file."
        )
        db_pool_size: int | None = Field(
            None, ge=1, le=1000, description="Connections the database pool keeps open."
        )
        db_pool_max_overflow: int | None = Field(
            None, ge=0, le=1000, description="More connections the pool may open at a peak."
        )
        db_pool_timeout: float | None = Field(
            None, gt=0, le=3600, description="Seconds to wait for a pooled connection."
        )
        db_pool_recycle: int | None = Field(
            None, ge=0, le=86_400, description="Seconds until a connection is replaced (0: never)."
        )
        allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
            (), description="More Host header names the web app accepts, comma-separated."
        )
        max_upload_mb: float | None = Field(
            None, gt=0, le=1024 * 1024, description="Largest journal import upload, in MB."
        )
        log_format: Literal["text", "json"] = Field(
            "text", description="How the web app logs: text, or json (a line per request)."
        )
        metrics: bool = Field(False, description="Prometheus metrics at /metrics (serve).")
        accounts: bool = Field(False, description="The hosted service, with accounts (serve).")
        signup: Literal["open", "closed", "invite"] = Field(
            "open",
            description="Who may sign up to the hosted service: anyone, no one, or with an "
            "invitation code (serve).",
        )
        trust_proxy: bool = Field(
            False, description="Believe X-Forwarded-Proto and X-Forwarded-For (serve)."
        )
        max_imports: int | None = Field(
            None, ge=1, le=64, description="Journal imports a web worker runs at once."
        )
        host: str | None = Field(None, description="Address serve listens on (--host).")
        port: int | None = Field(
            None, ge=1, le=65535, description="Port serve listens on (--port)."
        )
        workers: int | None = Field(
            None, ge=1, le=64, description="Worker processes of serve --accounts (--workers)."
        )
        graceful_timeout: float | None = Field(
            None,
            gt=0,
            le=3600,
            description="Seconds requests in flight may take to finish at shutdown (serve).",
        )
        max_connections: int | None = Field(
            None, ge=1, le=100_000, description="Connections one web worker serves at once."
        )
        keep_alive: int | None = Field(
            None, ge=1, le=3600, description="Seconds an idle keep-alive connection stays open."
        )
        cohort_key: SecretStr | None = Field(
            None, description="The secret key of twitchwise cohort export (--key-file)."
        )
        cache_dir: Path | None = Field(
            None, description="Folder of the compiled knowledge base and parser."
        )
        no_cache: bool = Field(False, description="Build on every run and write no cache.")

        @field_validator("allowed_hosts", mode="before")
        @classmethod
        def _split(cls, value: object) -> object:
            if isinstance(value, str):
                return tuple(name.strip() for name in value.split(",") if name.strip())
            return value

        @field_validator("database_url", "host", mode="before")
        @classmethod
        def _strip(cls, value: object) -> object:
            return value.strip() or None if isinstance(value, str) else value

        @field_validator("log_format", "signup", mode="before")
        @classmethod
        def _lower(cls, value: object) -> object:
            return value.strip().lower() if isinstance(value, str) else value

        @field_validator("no_cache", mode="before")
        @classmethod
        def _any_value(cls, value: object) -> object:
            return bool(str(value).strip()) if isinstance(value, str) else value

    _MODEL = Settings
    return Settings
