"""The journal as a FHIR R4 ``Bundle`` (type ``collection``) of Observations.

One ``Patient`` with no name or identifier (the person adds those in their own record), then:

- one ``Observation`` per twitch episode: ``effectiveDateTime`` the episode's time,
  ``bodySite`` the region and side as text, components for intensity (1-5) and duration
  (seconds, UCUM ``s``), the note as ``note``;
- one ``Observation`` per recorded daily factor: ``effectiveDateTime`` the date,
  ``valueQuantity`` in UCUM units. Sleep, steps and heart-rate variability carry their LOINC
  codes (93832-4 Sleep duration, 41950-7 Number of steps in 24 hour Measured, 80404-7 R-R
  interval.standard deviation); every Observation carries a code of the twitchwise code system
  :data:`CODE_SYSTEM` and a ``text``.

Ids are UUIDs derived from the records (``uuid5``), so exporting the same journal twice gives
the same bundle apart from its timestamps. :func:`validate_bundle` checks the bundle with the R4B
models of fhir.resources (R4B's Bundle and Observation have R4's structure).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from twitchwise.journal.factors import FACTORS
from twitchwise.knowledge.load import KnowledgeBase

if TYPE_CHECKING:
    from twitchwise.journal.rows import EpisodeRow, JournalData

__all__ = ["CODE_SYSTEM", "fhir_bundle", "validate_bundle"]

CODE_SYSTEM = "https://github.com/twitchwise/twitchwise/blob/main/docs/insights.md#fhir-codes"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_NAMESPACE = uuid.UUID("6f1c4c8e-3a0e-4c7e-9a57-2f1d0c5b7e11")

_CATEGORY_DISPLAY = {"survey": "Survey", "activity": "Activity", "vital-signs": "Vital Signs"}


def _id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def _category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY, "code": code, "display": _CATEGORY_DISPLAY[code]}]}]


def _concept(code: str, display: str, loinc: tuple[str, str] | None = None) -> dict[str, Any]:
    coding = [{"system": CODE_SYSTEM, "code": code, "display": display}]
    if loinc is not None:
        coding.insert(0, {"system": LOINC, "code": loinc[0], "display": loinc[1]})
    return {"coding": coding, "text": display}


def fhir_bundle(
    data: JournalData, *, kb: KnowledgeBase, now: datetime | None = None
) -> dict[str, Any]:
    """The journal as a FHIR R4 Bundle, as plain JSON-ready values."""
    now = now or datetime.now(UTC)
    patient_id = _id("patient")
    patient_ref = {"reference": f"urn:uuid:{patient_id}"}
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{patient_id}",
            "resource": {
                "resourceType": "Patient",
                "id": patient_id,
                "text": {
                    "status": "generated",
                    "div": '<div xmlns="http://www.w3.org/1999/xhtml">The person who kept this '
                    "twitch journal (twitchwise).</div>",
                },
            },
        }
    ]
    for e in data.episodes:
        entries.append(_entry(_episode(e, patient_ref, kb)))
    for d in data.days:
        for name in FACTORS:
            value = getattr(d.factors, name)
            if value is not None:
                entries.append(_entry(_factor(d.date, name, value, patient_ref)))
    return {
        "resourceType": "Bundle",
        "id": _id("bundle", *(entry["resource"]["id"] for entry in entries)),
        "meta": {"lastUpdated": now.isoformat(timespec="seconds")},
        "type": "collection",
        "timestamp": now.isoformat(timespec="seconds"),
        "entry": entries,
    }


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _episode(e: EpisodeRow, subject: dict[str, str], kb: KnowledgeBase) -> dict[str, Any]:
    at = e.at.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id("episode", e.uid or at),
        "status": "final",
        "category": _category("survey"),
        "code": _concept("twitch-episode", "Muscle twitching episode"),
        "subject": subject,
        # a CSV gives the day only (its episodes are stored at noon UTC): say just the day
        "effectiveDateTime": e.date.isoformat() if e.source == "csv" else at,
        "valueBoolean": True,
    }
    region = e.region
    if region:
        finding = kb.findings.get(region)
        label = finding.label if finding is not None else region
        side = e.side
        text = f"{label}, {'both sides' if side == 'both' else side}" if side else label
        resource["bodySite"] = {"text": text}
    components = []
    if e.intensity is not None:
        components.append(
            {
                "code": _concept("intensity", "Twitch intensity (1 faint to 5 strong)"),
                "valueInteger": int(e.intensity),
            }
        )
    if e.duration_s is not None:
        components.append(
            {
                "code": _concept("duration", "Twitch episode duration"),
                "valueQuantity": _quantity(float(e.duration_s), "s", "s"),
            }
        )
    if components:
        resource["component"] = components
    if e.note:
        resource["note"] = [{"text": e.note}]
    return resource


def _factor(day: date, name: str, value: float, subject: dict[str, str]) -> dict[str, Any]:
    factor = FACTORS[name]  # its UCUM unit, category and LOINC code are in the registry
    return {
        "resourceType": "Observation",
        "id": _id("day", day, name),
        "status": "final",
        "category": _category(factor.fhir.category),
        "code": _concept(name, factor.label, factor.fhir.loinc),
        "subject": subject,
        "effectiveDateTime": day.isoformat(),
        "valueQuantity": _quantity(float(value), factor.fhir.unit, factor.fhir.ucum),
    }


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    number: float | int = int(value) if value.is_integer() else value
    return {"value": number, "unit": unit, "system": UCUM, "code": code}


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Raise ``ValueError`` (pydantic's ValidationError) if the bundle is not valid FHIR R4B."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
