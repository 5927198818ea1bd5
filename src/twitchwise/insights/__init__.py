"""Insights from the journal: which factors precede twitching, alerts, charts, the doctor report.

::

    twitchwise.insights
     ├── stats      daily series; one model of all factor x lag terms, rate ratios, BH q-values
     ├── alerts     the pattern (spreading, several sites, > 2 weeks, weakness noted) -> triage
     ├── analysis   stats + alerts + notes: the ``twitchwise insights`` result
     ├── charts     SVG: calendar heatmap, body map, factor effects
     ├── report     the doctor report: HTML (Jinja2) and PDF (fpdf2)
     ├── fhir       the journal as a FHIR R4 Bundle, validated with fhir.resources
     └── source     what they read: the journal read whole, or its summary

Pure functions over the journal as read (:class:`~twitchwise.journal.rows.JournalData`, typed
rows) or its summary (:class:`~twitchwise.journal.summary.JournalSummary`, bounded memory);
they read the knowledge base and the triage rules for alerts, never the answer or web
layers. numpy, threadpoolctl, fpdf2 and fhir.resources are imported inside the functions that
need them (the ``insights`` and ``report`` extras). See docs/insights.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twitchwise.insights.alerts import Alert, alerts_for
    from twitchwise.insights.analysis import Insights, analyse
    from twitchwise.insights.charts import charts
    from twitchwise.insights.fhir import fhir_bundle, fhir_chunks, validate_bundle
    from twitchwise.insights.report import DoctorReport, build_report, render_html, render_pdf
    from twitchwise.insights.stats import Effect

__all__ = [
    "Alert",
    "DoctorReport",
    "Effect",
    "Insights",
    "alerts_for",
    "analyse",
    "build_report",
    "charts",
    "fhir_bundle",
    "fhir_chunks",
    "render_html",
    "render_pdf",
    "validate_bundle",
]

_WHERE = {
    "Alert": "alerts",
    "alerts_for": "alerts",
    "Insights": "analysis",
    "analyse": "analysis",
    "charts": "charts",
    "fhir_bundle": "fhir",
    "fhir_chunks": "fhir",
    "validate_bundle": "fhir",
    "DoctorReport": "report",
    "build_report": "report",
    "render_html": "report",
    "render_pdf": "report",
    "Effect": "stats",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'twitchwise.insights' has no attribute {name!r}")
    return getattr(import_module(f"twitchwise.insights.{module}"), name)
