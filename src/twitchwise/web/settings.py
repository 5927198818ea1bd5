"""The web app's settings: where it listens, how big a request may be, which journal it uses.

=============================== =========== ==================================================
Setting                         Default     Meaning
=============================== =========== ==================================================
``host``                        127.0.0.1   Address to listen on (``twitchwise serve --host``,
                                            ``TWITCHWISE_HOST``).
``port``                        8000        Port (``twitchwise serve --port``,
                                            ``TWITCHWISE_PORT``).
``allowed_hosts``               ()          More names accepted in the ``Host`` header
                                            (``--allowed-host``, ``TWITCHWISE_ALLOWED_HOSTS``);
                                            required when ``host`` is not loopback.
``max_body_bytes``              1 MiB       Largest request body, except journal imports.
``max_upload_bytes``            256 MiB     Largest journal import upload
                                            (``TWITCHWISE_MAX_UPLOAD_MB``).
``header_timeout_s``            10          Seconds to send a request's headers.
``body_timeout_s``              60          Seconds to send a whole request body (else 408).
``keep_alive_s``                5           Seconds an idle keep-alive connection stays open
                                            (``TWITCHWISE_KEEP_ALIVE``).
``max_connections``             100         Connections one process serves at once; more get
                                            503 (``TWITCHWISE_MAX_CONNECTIONS``).
``workers``                     1           Worker processes (``--workers``,
                                            ``TWITCHWISE_WORKERS``); above 1 only with
                                            accounts on PostgreSQL.
``graceful_timeout_s``          20          Seconds requests in flight may take to finish
                                            after SIGTERM or SIGINT
                                            (``TWITCHWISE_GRACEFUL_TIMEOUT``).
``log_format``                  text        ``json``: one JSON log line per request with a request
                                            id (``--log-format``, ``TWITCHWISE_LOG_FORMAT``).
``metrics``                     False       Prometheus metrics at ``/metrics`` (``--metrics``,
                                            ``TWITCHWISE_METRICS``); else 404.
``accounts``                    False       The hosted service: sign-up, login, API tokens, each
                                            person's own journal (``--accounts``,
                                            ``TWITCHWISE_ACCOUNTS``; docs/hosted.md).
``signup``                      open        With accounts: ``open``, anyone may sign up at
                                            ``/signup``; ``invite``, only with a one-time code
                                            from ``twitchwise admin invite``; ``closed``, it
                                            answers 403 and accounts are made with
                                            ``twitchwise admin create-user`` (``--signup``,
                                            ``TWITCHWISE_SIGNUP``).
``trust_proxy``                 False       Believe ``X-Forwarded-Proto`` and ``X-Forwarded-For``
                                            of the reverse proxy in front (``--trust-proxy``,
                                            ``TWITCHWISE_TRUST_PROXY``).
``max_imports``                 2           Journal imports one process runs at once with
                                            accounts; more get 503 (``TWITCHWISE_MAX_IMPORTS``).
``journal``                     None        The journal's :class:`JournalSettings`; None reads
                                            ``TWITCHWISE_HOME`` / ``TWITCHWISE_DATABASE_URL``.
=============================== =========== ==================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from twitchwise.errors import ConfigError
from twitchwise.settings import PREFIX, Setting, environment_settings

if TYPE_CHECKING:
    from twitchwise.journal.settings import JournalSettings

__all__ = [
    "LOG_FORMATS",
    "LOOPBACK_HOSTS",
    "MAX_WORKERS",
    "SETTINGS",
    "SIGNUP_MODES",
    "Setting",
    "WebSettings",
]

MIB = 1024 * 1024
#: How the web app may log (``log_format``): ``text`` is the local app's default.
LOG_FORMATS = ("text", "json")
#: Who may sign up to the hosted service (``signup``): anyone, no one (an administrator
#: makes the accounts), or whoever has an invitation code from an administrator.
SIGNUP_MODES = ("open", "closed", "invite")
MAX_UPLOAD_BYTES = 256 * MIB
#: The most worker processes ``twitchwise serve --workers`` starts.
MAX_WORKERS = 64
#: Host names that always mean this machine.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Addresses that listen on every interface: never a name a browser asks for.
WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]")  # noqa: S104 - names, not a bind
#: A host name or IPv4 address, or an IPv6 address in brackets; no port, no wildcard.
_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?|\[[0-9a-f:.]+\]")


#: Every web setting; docs/web.md documents each one (tests/test_web_api.py checks).
SETTINGS = (
    Setting("host", "127.0.0.1", "Address to listen on; only this computer can connect."),
    Setting("port", "8000", "Port to listen on."),
    Setting(
        "allowed_hosts",
        "()",
        "More Host header names accepted (--allowed-host, TWITCHWISE_ALLOWED_HOSTS); "
        "required for a host that is not loopback.",
    ),
    Setting("max_body_bytes", "1048576", "Largest request body (JSON or form), except imports."),
    Setting(
        "max_upload_bytes",
        "268435456",
        "Largest journal import upload; TWITCHWISE_MAX_UPLOAD_MB sets it in megabytes.",
    ),
    Setting("header_timeout_s", "10", "Seconds a connection has to send a request's headers."),
    Setting("body_timeout_s", "60", "Seconds a request has to send its whole body (else 408)."),
    Setting(
        "keep_alive_s",
        "5",
        "Seconds an idle keep-alive connection stays open (TWITCHWISE_KEEP_ALIVE).",
    ),
    Setting(
        "max_connections",
        "100",
        "Connections one process serves at once; past it, 503 at once "
        "(TWITCHWISE_MAX_CONNECTIONS).",
    ),
    Setting(
        "workers",
        "1",
        "Worker processes (--workers, TWITCHWISE_WORKERS); above 1 only with accounts on "
        "PostgreSQL.",
    ),
    Setting(
        "graceful_timeout_s",
        "20",
        "Seconds requests in flight may take to finish after SIGTERM or SIGINT "
        "(TWITCHWISE_GRACEFUL_TIMEOUT).",
    ),
    Setting(
        "log_format",
        "text",
        "json: one JSON log line per request with a request id (--log-format, "
        "TWITCHWISE_LOG_FORMAT); text logs as before.",
    ),
    Setting(
        "metrics",
        "False",
        "Prometheus metrics at /metrics (--metrics, TWITCHWISE_METRICS); else /metrics is 404.",
    ),
    Setting(
        "accounts",
        "False",
        "The hosted service: sign-up, login, API tokens and each person's own journal "
        "(--accounts, TWITCHWISE_ACCOUNTS).",
    ),
    Setting(
        "signup",
        "open",
        "With accounts: open, anyone may sign up at /signup; invite, only with a one-time "
        "code from twitchwise admin invite; closed, it answers 403 and accounts are made with "
        "twitchwise admin create-user (--signup, TWITCHWISE_SIGNUP).",
    ),
    Setting(
        "trust_proxy",
        "False",
        "Believe X-Forwarded-Proto and X-Forwarded-For from the reverse proxy in front "
        "(--trust-proxy, TWITCHWISE_TRUST_PROXY).",
    ),
    Setting(
        "max_imports",
        "2",
        "With accounts: journal imports one process runs at once; more get 503 "
        "(TWITCHWISE_MAX_IMPORTS).",
    ),
    Setting("journal", "None", "Journal settings; None reads TWITCHWISE_HOME and friends."),
)


@dataclass(frozen=True)
class WebSettings:
    """What ``create_app`` needs to know (see the module docstring)."""

    host: str = "127.0.0.1"
    port: int = 8000
    allowed_hosts: tuple[str, ...] = ()
    max_body_bytes: int = 1 * MIB
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    keep_alive_s: int = 5
    max_connections: int = 100
    workers: int = 1
    graceful_timeout_s: float = 20.0
    log_format: str = "text"
    metrics: bool = False
    accounts: bool = False
    signup: str = "open"
    trust_proxy: bool = False
    max_imports: int = 2
    journal: JournalSettings | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port must be from 1 to 65535, not {self.port}")
        for name in ("max_body_bytes", "max_upload_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 byte")
        if not 1 <= self.max_imports <= 64:
            raise ConfigError(f"max_imports must be from 1 to 64, not {self.max_imports}")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"workers must be from 1 to {MAX_WORKERS}, not {self.workers}")
        for name in (
            "header_timeout_s",
            "body_timeout_s",
            "keep_alive_s",
            "max_connections",
            "graceful_timeout_s",
        ):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be above 0, not {getattr(self, name)}")
        if self.log_format not in LOG_FORMATS:
            raise ConfigError(
                f"log_format must be {' or '.join(LOG_FORMATS)}, not {self.log_format!r}"
            )
        if self.signup not in SIGNUP_MODES:
            raise ConfigError(f"signup must be {_one_of(SIGNUP_MODES)}, not {self.signup!r}")
        names = tuple(_host_name(name) for name in self.allowed_hosts)
        object.__setattr__(self, "allowed_hosts", names)
        if not self.loopback and not names:
            raise ConfigError(
                f"listening on {self.host} needs the names people will use to reach this "
                "computer: add --allowed-host NAME (repeatable, e.g. --allowed-host "
                "192.168.1.20) or set TWITCHWISE_ALLOWED_HOSTS=NAME,NAME"
            )

    @classmethod
    def from_env(
        cls,
        host: str | None = None,
        port: int | None = None,
        allowed_hosts: tuple[str, ...] = (),
        log_format: str | None = None,
        metrics: bool | None = None,
        accounts: bool | None = None,
        trust_proxy: bool | None = None,
        database_url: str | None = None,
        workers: int | None = None,
        signup: str | None = None,
    ) -> WebSettings:
        """Settings for ``twitchwise serve``: the options, ``TWITCHWISE_ALLOWED_HOSTS``
        (comma-separated, added to ``allowed_hosts``), ``TWITCHWISE_MAX_UPLOAD_MB``,
        ``TWITCHWISE_MAX_IMPORTS``, ``TWITCHWISE_MAX_CONNECTIONS``, ``TWITCHWISE_KEEP_ALIVE``,
        ``TWITCHWISE_GRACEFUL_TIMEOUT``, and ``TWITCHWISE_HOST``, ``TWITCHWISE_PORT``,
        ``TWITCHWISE_LOG_FORMAT``, ``TWITCHWISE_METRICS``, ``TWITCHWISE_ACCOUNTS``,
        ``TWITCHWISE_TRUST_PROXY``, ``TWITCHWISE_WORKERS`` and ``TWITCHWISE_SIGNUP`` unless an
        option gives them.
        ``database_url`` (``--database-url``) replaces ``TWITCHWISE_DATABASE_URL``; its
        connection pool is ``TWITCHWISE_DB_POOL_*``'s.

        A worker process of ``twitchwise serve --workers`` builds its settings with this and
        no arguments, from the variables :meth:`environment` gave it."""
        env: Any = environment_settings()
        allowed_hosts += env.allowed_hosts
        megabytes: float | None = env.max_upload_mb
        upload = MAX_UPLOAD_BYTES if megabytes is None else int(megabytes * MIB)
        journal = None
        if database_url is not None and database_url.strip():
            from twitchwise.journal.settings import JournalSettings, pool_settings

            journal = JournalSettings.from_url(database_url, pool_settings())
        default = cls.__dataclass_fields__

        def pick(given: Any, name: str, field_name: str) -> Any:
            if given is not None:
                return given
            found = getattr(env, name)
            return default[field_name].default if found is None else found

        return cls(
            host=pick(host, "host", "host"),
            port=pick(port, "port", "port"),
            allowed_hosts=allowed_hosts,
            log_format=log_format or env.log_format,
            metrics=env.metrics if metrics is None else metrics,
            max_upload_bytes=upload,
            max_connections=pick(None, "max_connections", "max_connections"),
            keep_alive_s=pick(None, "keep_alive", "keep_alive_s"),
            workers=pick(workers, "workers", "workers"),
            graceful_timeout_s=pick(None, "graceful_timeout", "graceful_timeout_s"),
            accounts=env.accounts if accounts is None else accounts,
            signup=env.signup if signup is None else signup,
            trust_proxy=env.trust_proxy if trust_proxy is None else trust_proxy,
            max_imports=pick(None, "max_imports", "max_imports"),
            journal=journal,
        )

    def environment(self) -> dict[str, str]:
        """The ``TWITCHWISE_*`` variables from which :meth:`from_env` (with no arguments)
        gives these settings again: how ``twitchwise serve --workers`` hands its settings
        to the worker processes, which share nothing with it but the environment. The
        journal's database is ``TWITCHWISE_DATABASE_URL`` with its pool
        (``TWITCHWISE_DB_POOL_*``), or ``TWITCHWISE_HOME``'s file and the pool as the
        environment already says; the timeouts and body limit other than the upload
        size have no variable and keep their defaults."""
        variables = {
            "HOST": self.host,
            "PORT": str(self.port),
            "ALLOWED_HOSTS": ",".join(self.allowed_hosts),
            "LOG_FORMAT": self.log_format,
            "METRICS": "1" if self.metrics else "0",
            "ACCOUNTS": "1" if self.accounts else "0",
            "SIGNUP": self.signup,
            "TRUST_PROXY": "1" if self.trust_proxy else "0",
            "MAX_UPLOAD_MB": repr(self.max_upload_bytes / MIB),
            "MAX_IMPORTS": str(self.max_imports),
            "MAX_CONNECTIONS": str(self.max_connections),
            "KEEP_ALIVE": str(self.keep_alive_s),
            "WORKERS": str(self.workers),
            "GRACEFUL_TIMEOUT": repr(self.graceful_timeout_s),
        }
        if self.journal is not None:
            pool = self.journal.pool
            variables["DATABASE_URL"] = self.journal.url
            variables["DB_POOL_SIZE"] = str(pool.size)
            variables["DB_POOL_MAX_OVERFLOW"] = str(pool.max_overflow)
            variables["DB_POOL_TIMEOUT"] = repr(pool.timeout_s)
            variables["DB_POOL_RECYCLE"] = str(pool.recycle_s or 0)
        return {f"{PREFIX}{name}": value for name, value in variables.items()}

    @property
    def accepted_hosts(self) -> frozenset[str]:
        """Host header names accepted (the DNS-rebinding guard, on for every bind): this
        computer's loopback names, the address listened on unless it is a wildcard, and
        ``allowed_hosts``."""
        name = self.host.lower()
        bound = () if name in WILDCARD_HOSTS else (f"[{name}]" if ":" in name else name,)
        return frozenset((*LOOPBACK_HOSTS, *bound, *self.allowed_hosts))

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")


def _one_of(values: tuple[str, ...]) -> str:
    """``a, b or c``."""
    return " or ".join((", ".join(values[:-1]), values[-1])) if len(values) > 1 else values[0]


def _host_name(name: str) -> str:
    """``name`` as the Host check compares it (lower case), or a one-line ConfigError."""
    value = name.strip().lower()
    if ":" in value and not value.startswith("["):
        value = f"[{value}]"  # a bare IPv6 address
    if not _HOST_NAME.fullmatch(value) or value in WILDCARD_HOSTS:
        raise ConfigError(
            f"allowed host {name!r} is not a host name or address; give a name such as "
            "mypc.local or 192.168.1.20, without a port or wildcard"
        )
    return value
