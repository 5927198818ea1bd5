"""Schemathesis against the app's OpenAPI document (issue 11): every operation, in-process.

The FastAPI app of ``create_app`` (with a journal in a temporary folder) is called through
its ASGI interface, no network: schemathesis reads ``/openapi.json`` and sends each operation
requests generated from its schema, valid and invalid. Every response must be no 5xx, carry
no traceback, and, when it is an error, have the one error shape (``ok``, ``status``,
``error``, ``errors``: :mod:`twitchwise.web.errors`).

The requests pass the app's own checks as a browser on this computer would
(:mod:`twitchwise.web.security`): ``Host: 127.0.0.1``, and the CSRF cookie repeated in the
``X-CSRF-Token`` header, so that uploads (multipart) are served and not refused with 403 before
they reach the handler.

``TWITCHWISE_FUZZ_EXAMPLES`` sets the examples per operation, as for tests/test_fuzz.py
(default 20); for a long run::

    TWITCHWISE_FUZZ_EXAMPLES=1000 python -m pytest -p no:cacheprovider tests/test_schemathesis.py
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
schemathesis = pytest.importorskip("schemathesis", reason="the dev extra is not installed")

from hypothesis import HealthCheck, settings  # noqa: E402

from twitchwise.journal.settings import JournalSettings  # noqa: E402
from twitchwise.web.app import create_app  # noqa: E402
from twitchwise.web.settings import WebSettings  # noqa: E402

EXAMPLES = int(os.environ.get("TWITCHWISE_FUZZ_EXAMPLES", "20"))
TOKEN = "schemathesis-csrf-token"
#: What a page of the app on this computer sends: its host, and the CSRF cookie repeated.
HEADERS = {"host": "127.0.0.1", "x-csrf-token": TOKEN}
COOKIES = {"twitchwise_csrf": TOKEN}
ERROR_KEYS = {"ok", "status", "error", "errors"}


FOLDER = tempfile.mkdtemp(prefix="twitchwise-schemathesis-")
JOURNAL = Path(FOLDER) / "journal.sqlite"
APP = create_app(WebSettings(journal=JournalSettings(f"sqlite:///{JOURNAL}", JOURNAL)))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, headers=HEADERS)


@pytest.fixture(scope="module", autouse=True)
def _remove_the_journal() -> Any:
    yield
    shutil.rmtree(FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation(case: Any) -> None:
    response = case.call(headers=HEADERS, cookies=COOKIES)
    case.validate_response(
        response, checks=[schemathesis.checks.not_a_server_error], headers=HEADERS
    )
    text = response.content.decode("utf-8", "replace")  # a PDF report is bytes
    assert "Traceback" not in text and 'File "/' not in text, text[:500]
    if response.status_code >= 400:
        body = json.loads(text)
        assert set(body) == ERROR_KEYS, body
        assert body["ok"] is False and body["status"] == response.status_code
        assert isinstance(body["error"], str) and body["error"] and "\n" not in body["error"]


def test_the_schema_lists_every_api_operation() -> None:
    """Nothing under /api is left out of the document (and so out of the test above)."""
    from twitchwise.web.routes.api import router

    listed = {(op.method.upper(), op.path) for op in _operations(schema)}
    routes = {(m, r.path) for r in router.routes for m in getattr(r, "methods", ())}
    assert routes <= listed, routes - listed


def _operations(api_schema: Any) -> list[Any]:
    found = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        found.append(operation)
    return found


def test_the_examples_come_from_the_environment() -> None:
    assert EXAMPLES >= 1
