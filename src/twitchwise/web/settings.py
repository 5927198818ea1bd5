"""The web app's settings: where it listens, how big a request may be, which journal it uses.

=============================== =========== ==================================================
Setting                         Default     Meaning
=============================== =========== ==================================================
``host``                        127.0.0.1   Address to listen on (``twitchwise serve --host``).
``port``                        8000        Port (``twitchwise serve --port``).
``max_body_bytes``              1 MiB       Largest request body, except journal imports.
``max_upload_bytes``            256 MiB     Largest journal import upload
                                            (``TWITCHWISE_MAX_UPLOAD_MB``).
``journal``                     None        The journal's :class:`JournalSettings`; None reads
                                            ``TWITCHWISE_HOME`` / ``TWITCHWISE_DATABASE_URL``.
=============================== =========== ==================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from twitchwise.errors import ConfigError

if TYPE_CHECKING:
    from twitchwise.journal.settings import JournalSettings

__all__ = ["LOOPBACK_HOSTS", "SETTINGS", "Setting", "WebSettings"]

MIB = 1024 * 1024
#: Host names that always mean this machine.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: Also accepted: the host name of Starlette's TestClient (not a name DNS gives out).
TEST_CLIENT_HOST = "testserver"
#: Addresses that listen on every interface: any Host header is then accepted.
WILDCARD_HOSTS = ("0.0.0.0", "::", "[::]")  # noqa: S104 - names, not a bind


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: str
    help: str


#: Every web setting; docs/web.md documents each one (tests/test_web_api.py checks).
SETTINGS = (
    Setting("host", "127.0.0.1", "Address to listen on; only this computer can connect."),
    Setting("port", "8000", "Port to listen on."),
    Setting("max_body_bytes", "1048576", "Largest request body (JSON or form), except imports."),
    Setting(
        "max_upload_bytes",
        "268435456",
        "Largest journal import upload; TWITCHWISE_MAX_UPLOAD_MB sets it in megabytes.",
    ),
    Setting("journal", "None", "Journal settings; None reads TWITCHWISE_HOME and friends."),
)


@dataclass(frozen=True)
class WebSettings:
    """What ``create_app`` needs to know (see the module docstring)."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1 * MIB
    max_upload_bytes: int = 256 * MIB
    journal: JournalSettings | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port must be from 1 to 65535, not {self.port}")
        for name in ("max_body_bytes", "max_upload_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1 byte")

    @classmethod
    def from_env(cls, host: str = "127.0.0.1", port: int = 8000) -> WebSettings:
        """Settings for ``twitchwise serve``: the options plus ``TWITCHWISE_MAX_UPLOAD_MB``."""
        raw = os.environ.get("TWITCHWISE_MAX_UPLOAD_MB", "").strip()
        if not raw:
            return cls(host=host, port=port)
        try:
            megabytes = float(raw)
        except ValueError:
            megabytes = -1.0
        if not 0 < megabytes <= 1024 * 1024:
            raise ConfigError(
                f"TWITCHWISE_MAX_UPLOAD_MB must be a number of megabytes above 0, not {raw!r}"
            )
        return cls(host=host, port=port, max_upload_bytes=int(megabytes * MIB))

    @property
    def allowed_hosts(self) -> frozenset[str] | None:
        """Host header values accepted (DNS-rebinding guard); None when any is accepted."""
        if self.host in WILDCARD_HOSTS:
            return None
        return frozenset((*LOOPBACK_HOSTS, TEST_CLIENT_HOST, self.host.lower()))

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")
