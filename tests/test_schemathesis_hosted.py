"""Schemathesis against the OpenAPI document of the app with accounts (the hosted service):
every operation, in-process, as a program with an API token of both scopes.

As tests/test_schemathesis.py does for the local app: the document (its security schemes and
per-operation scopes included) is read from ``/openapi.json`` and every operation gets
requests generated from it, valid and invalid; every response must be no 5xx, hold no
traceback, and be in the one error shape when it is an error. The requests carry
``Authorization: Bearer twt_...`` and no cookie (so no CSRF token either: a bearer request
needs none). ``TWITCHWISE_FUZZ_EXAMPLES`` sets the examples per operation (default 20).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
pytest.importorskip("multipart", reason="the web extra is not installed")
pytest.importorskip("argon2", reason="the server extra is not installed")
schemathesis = pytest.importorskip("schemathesis", reason="the dev extra is not installed")

from argon2 import PasswordHasher  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from twitchwise.journal.settings import JournalSettings  # noqa: E402
from twitchwise.journal.store import open_journal  # noqa: E402
from twitchwise.server.accounts import Accounts  # noqa: E402
from twitchwise.server.credentials import Passwords  # noqa: E402
from twitchwise.server.db import make_engine, upgrade  # noqa: E402
from twitchwise.web.app import create_app  # noqa: E402
from twitchwise.web.settings import WebSettings  # noqa: E402

EXAMPLES = int(os.environ.get("TWITCHWISE_FUZZ_EXAMPLES", "20"))
ERROR_KEYS = {"ok", "status", "error", "errors"}

FOLDER = tempfile.mkdtemp(prefix="twitchwise-schemathesis-hosted-")
URL = f"sqlite:///{Path(FOLDER) / 'hosted.sqlite'}"
open_journal(JournalSettings.from_url(URL)).close()  # what twitchwise db upgrade does
_engine = make_engine(URL)
upgrade(_engine)
_passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
_accounts = Accounts(_engine, passwords=_passwords)
_ann = _accounts.create_account("ann@example.org", "a long enough password", consent=True)
TOKEN = _accounts.create_api_token(_ann.id, "schemathesis", ["read", "write"]).token
_engine.dispose()

APP = create_app(
    WebSettings(accounts=True, journal=JournalSettings.from_url(URL)), passwords=_passwords
)
HEADERS = {"host": "127.0.0.1", "authorization": f"Bearer {TOKEN}"}
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers=HEADERS)


@pytest.fixture(scope="module", autouse=True)
def _remove_the_database() -> Any:
    yield
    from twitchwise.web.deps import close_journal

    close_journal(APP.state)
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_with_a_token(case: Any) -> None:
    response = case.call(headers=HEADERS)
    case.validate_response(
        response, checks=[schemathesis.checks.not_a_server_error], headers=HEADERS
    )
    text = response.content.decode("utf-8", "replace")
    assert "Traceback" not in text and 'File "/' not in text, text[:500]
    if response.status_code >= 400:
        body = json.loads(text)
        assert set(body) == ERROR_KEYS, body
        assert body["ok"] is False and body["status"] == response.status_code
        assert isinstance(body["error"], str) and body["error"] and "\n" not in body["error"]
