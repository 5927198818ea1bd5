"""What a process supervisor or load balancer asks: ``/healthz``, ``/readyz``, ``/metrics``.

- ``GET /healthz``: liveness. The process answers; no database, no work.
- ``GET /readyz``: readiness. The knowledge base is loaded (loading it on the first call)
  and the journal's database (``TWITCHWISE_DATABASE_URL``, else the SQLite file) answers
  ``SELECT 1``, and with accounts its accounts schema is up to date; else 503 in the one
  error shape with a one-line reason (the details go to the server's log only).
- ``GET /metrics``: Prometheus' text format when ``WebSettings.metrics`` is on, else 404;
  the database pool's gauges are read from the pool at the scrape.

All three are GETs (no CSRF check applies), plain JSON except the metrics, and listed in the
OpenAPI document.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from twitchwise.errors import TwitchwiseError
from twitchwise.web.deps import AppDep, accounts_of, get_journal
from twitchwise.web.errors import ApiError
from twitchwise.web.models import ErrorPublic

if TYPE_CHECKING:
    from twitchwise.web.observe import Metrics

__all__ = ["router"]

log = logging.getLogger("twitchwise.web")

router = APIRouter(tags=["operations"])

_ERROR = {"model": ErrorPublic}


@router.get(
    "/healthz",
    summary="Liveness: the process answers",
    responses={200: {"content": {"application/json": {"example": {"ok": True}}}}},
)
def healthz() -> JSONResponse:
    """Always `{"ok": true}` while the process answers; touches no database."""
    return JSONResponse({"ok": True})


@router.get(
    "/readyz",
    summary="Readiness: the knowledge base is loaded and the database answers",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"ok": True, "knowledge_base": "loaded", "database": "answers"}
                }
            }
        },
        503: {**_ERROR, "description": "Not ready: `error` says why in one line"},
    },
)
def readyz(request: Request, tw: AppDep) -> JSONResponse:
    """200 when the knowledge base is loaded and the database answers a trivial query."""
    try:
        tw.check_knowledge()
    except TwitchwiseError as exc:
        log.error("not ready: the knowledge base: %s", exc)
        raise ApiError(503, "not ready: the knowledge base could not be loaded") from None
    try:
        tw.check_journal(get_journal(request))
    except TwitchwiseError as exc:
        log.warning("not ready: the database: %s", exc)
        raise ApiError(503, "not ready: the database does not answer") from None
    if request.app.state.settings.accounts:
        try:
            accounts_of(request.app.state)
        except TwitchwiseError as exc:
            log.warning("not ready: the accounts: %s", exc)
            raise ApiError(503, "not ready: the accounts schema is not up to date") from None
    return JSONResponse({"ok": True, "knowledge_base": "loaded", "database": "answers"})


@router.get(
    "/metrics",
    summary="Prometheus metrics (when turned on)",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "Prometheus' text format"},
        404: {**_ERROR, "description": "Metrics are off (TWITCHWISE_METRICS)"},
    },
)
def metrics(request: Request) -> Response:
    """Request counts, latencies, requests in progress and the database's connection pool
    (connections checked out, idle, in overflow, and the limit), in Prometheus' text format;
    404 unless `TWITCHWISE_METRICS=1` (or `twitchwise serve --metrics`)."""
    collected: Metrics | None = getattr(request.app.state, "metrics", None)
    if collected is None:
        raise ApiError(
            404,
            "metrics are off; turn them on with TWITCHWISE_METRICS=1 or twitchwise serve --metrics",
        )
    collected.sample_pool(getattr(request.app.state, "journal", None))
    body, media_type = collected.exposition()
    return Response(body, media_type=media_type)
