"""The journal as a FHIR R4 ``Bundle`` (type ``collection``) of Observations.

One ``Patient`` with no name or identifier (the person adds those in their own record), then:

- one ``Observation`` per twitch episode: ``effectiveDateTime`` the episode's time,
  ``bodySite`` the region and side as text, components for intensity (1-5) and duration
  (seconds, UCUM ``s``), the note as ``note``;
- one ``Observation`` per recorded daily factor: ``effectiveDateTime`` the date,
  ``valueQuantity`` in UCUM units. Sleep, steps and heart-rate variability carry their LOINC
  codes (93832-4 Sleep duration, 41950-7 Number of steps in 24 hour Measured, 80404-7 R-R
  interval.standard deviation); every Observation carries a code of the twitchwise code system
  :data:`CODE_SYSTEM` and a ``text``;
- one ``Observation`` per finished (or stopped) self-experiment: ``effectivePeriod`` its
  first and last day, ``valueString`` the result in plain words, ``method`` the design, the
  notes as ``note``, and components for the kind, the change, whether it was stopped early,
  the rate ratio (UCUM ``1``) and its 95% interval (a ``Range``), the randomisation test's
  p-value, adherence (``%``), the days analysed and the twitches per day (``/d``) of each
  condition.

Ids are UUIDs derived from the records (``uuid5``), so exporting the same journal twice gives
the same bundle apart from its timestamps. :func:`validate_bundle` checks the bundle with the R4B
models of fhir.resources (R4B's Bundle and Observation have R4's structure).

:func:`fhir_chunks` writes the same bundle as JSON text a chunk at a time, for a journal of any
size: it reads the episodes twice (the bundle's id, which comes first, is made from every
entry's id) and never holds more than a chunk of them. Checking each of a million
Observations with fhir.resources would take a quarter of an hour, so the streamed bundle is
checked as :func:`check_entries` says: every kind of Observation it holds with
fhir.resources, and every value that could make one invalid on its own, before the first
byte is written.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from twitchwise.journal.factors import FACTORS
from twitchwise.knowledge.load import KnowledgeBase

if TYPE_CHECKING:
    from twitchwise.insights.experiment import ExperimentResult
    from twitchwise.journal.rows import DayRow, EpisodeRow, JournalData

__all__ = ["CODE_SYSTEM", "check_entries", "fhir_bundle", "fhir_chunks", "validate_bundle"]

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
    data: JournalData,
    *,
    kb: KnowledgeBase,
    now: datetime | None = None,
    experiments: Iterable[ExperimentResult] = (),
) -> dict[str, Any]:
    """The journal as a FHIR R4 Bundle, as plain JSON-ready values; ``experiments``: the
    results of its finished self-experiments."""
    now = now or datetime.now(UTC)
    entries = list(_entries(data.episodes, data.days, kb, experiments=list(experiments)))
    return _bundle(_bundle_id(e["resource"]["id"] for e in entries), now, entries)


def fhir_chunks(
    episodes: Callable[[], Iterable[EpisodeRow]],
    days: Iterable[DayRow],
    *,
    kb: KnowledgeBase,
    now: datetime | None = None,
    experiments: Iterable[ExperimentResult] = (),
) -> Iterator[str]:
    """The bundle of :func:`fhir_bundle` as the text ``json.dumps(bundle, indent=2,
    ensure_ascii=False) + "\\n"``, a chunk at a time. ``episodes()`` gives the episodes in
    order; it is called twice (first for the ids and the checks of :func:`check_entries`, so
    that a bundle that would not be valid raises ``ValueError`` before anything is given)."""
    from twitchwise.journal.export import Streamed, json_object_chunks

    now = now or datetime.now(UTC)
    days = list(days)
    results = list(experiments)
    checked = _Checker()
    ids: Iterator[str] = (
        checked.entry(entry)["resource"]["id"]
        for entry in _entries(episodes(), days, kb, _Parts(shared=True), results)
    )
    bundle_id = _bundle_id(ids)
    checked.finish(now)
    head = _bundle(bundle_id, now, [])
    del head["entry"]
    entries = _entries(episodes(), days, kb, _Parts(encoded=True), results)
    return json_object_chunks([*head.items(), ("entry", Streamed(entries))])


def _patient() -> dict[str, Any]:
    patient_id = _id("patient")
    return {
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


class _Parts:
    """The parts many entries share: categories, codes, the reference to the Patient. By
    default each is made anew for each entry (a bundle of independent dictionaries); with
    ``shared`` each is made once and shared by the entries (read, never changed); with
    ``encoded`` it is also wrapped so that the JSON writer writes it once
    (:class:`~twitchwise.journal.export.Encoded`)."""

    def __init__(self, shared: bool = False, encoded: bool = False) -> None:
        self.shared = shared or encoded
        self.encoded = encoded
        self._made: dict[tuple[Any, ...], Any] = {}

    def _get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if not self.shared:
            return make()
        found = self._made.get(key)
        if found is None:
            found = make()
            if self.encoded:
                from twitchwise.journal.export import Encoded

                found = Encoded(found)
            self._made[key] = found
        return found

    def category(self, code: str) -> Any:
        return self._get(("category", code), lambda: _category(code))

    def concept(self, code: str, display: str, loinc: tuple[str, str] | None = None) -> Any:
        return self._get(("concept", code, display, loinc), lambda: _concept(code, display, loinc))

    def subject(self, reference: str) -> Any:
        return self._get(("subject", reference), lambda: {"reference": reference})


def _entries(
    episodes: Iterable[EpisodeRow],
    days: Iterable[DayRow],
    kb: KnowledgeBase,
    parts: _Parts | None = None,
    experiments: Iterable[ExperimentResult] = (),
) -> Iterator[dict[str, Any]]:
    """The Patient, then an Observation per episode, then one per recorded daily factor,
    then one per finished self-experiment."""
    parts = parts or _Parts()
    patient = _patient()
    yield patient
    patient_ref = parts.subject(patient["fullUrl"])
    for e in episodes:
        yield _entry(_episode(e, patient_ref, kb, parts))
    for d in days:
        for name in FACTORS:
            value = getattr(d.factors, name)
            if value is not None:
                yield _entry(_factor(d.date, name, value, patient_ref, parts))
    for result in experiments:
        yield _entry(_experiment(result, patient_ref, parts))


def _bundle_id(entry_ids: Iterable[str]) -> str:
    """``_id("bundle", *entry_ids)``, the ids taken one at a time (uuid5 is the SHA-1 of the
    namespace and the name)."""
    digest = hashlib.sha1(_NAMESPACE.bytes + b"bundle", usedforsecurity=False)
    for entry_id in entry_ids:
        digest.update(b"|" + entry_id.encode("utf-8"))
    return str(uuid.UUID(bytes=digest.digest()[:16], version=5))


def _bundle(bundle_id: str, now: datetime, entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": now.isoformat(timespec="seconds")},
        "type": "collection",
        "timestamp": now.isoformat(timespec="seconds"),
        "entry": entries,
    }


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _episode(
    e: EpisodeRow, subject: Any, kb: KnowledgeBase, parts: _Parts | None = None
) -> dict[str, Any]:
    parts = parts or _Parts()
    at = e.at.isoformat()
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id("episode", e.uid or at),
        "status": "final",
        "category": parts.category("survey"),
        "code": parts.concept("twitch-episode", "Muscle twitching episode"),
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
                "code": parts.concept("intensity", "Twitch intensity (1 faint to 5 strong)"),
                "valueInteger": int(e.intensity),
            }
        )
    if e.duration_s is not None:
        components.append(
            {
                "code": parts.concept("duration", "Twitch episode duration"),
                "valueQuantity": _quantity(float(e.duration_s), "s", "s"),
            }
        )
    if components:
        resource["component"] = components
    if e.note:
        resource["note"] = [{"text": e.note}]
    return resource


def _factor(
    day: date, name: str, value: float, subject: Any, parts: _Parts | None = None
) -> dict[str, Any]:
    parts = parts or _Parts()
    factor = FACTORS[name]  # its UCUM unit, category and LOINC code are in the registry
    return {
        "resourceType": "Observation",
        "id": _id("day", day, name),
        "status": "final",
        "category": parts.category(factor.fhir.category),
        "code": parts.concept(name, factor.label, factor.fhir.loinc),
        "subject": subject,
        "effectiveDateTime": day.isoformat(),
        "valueQuantity": _quantity(float(value), factor.fhir.unit, factor.fhir.ucum),
    }


#: How a self-experiment is designed and analysed (its Observation's ``method``).
EXPERIMENT_METHOD = (
    "N-of-1 trial: randomised, balanced blocks of usual days and days with one change (each "
    "pair of blocks usual-change or change-usual with equal chance), washout days after a "
    "switch and days not recorded left out, analysed as planned; rate ratio of twitches per "
    "day (change / usual) from a quasi-Poisson model with one level per pair of blocks, 95% "
    "interval from the t distribution, and a randomisation test over the possible schedules."
)


def _experiment(
    result: ExperimentResult, subject: Any, parts: _Parts | None = None
) -> dict[str, Any]:
    """A finished self-experiment as one Observation with components."""
    parts = parts or _Parts()
    s = result.status
    last = s.end if s.stopped_on is None else min(s.stopped_on, s.end)

    def component(code: str, display: str, **value: Any) -> dict[str, Any]:
        return {"code": parts.concept(code, display), **value}

    components = [
        component(
            "experiment-kind",
            "Self-experiment kind",
            valueCodeableConcept={
                "coding": [
                    {"system": CODE_SYSTEM, "code": f"experiment-{s.kind}", "display": s.name}
                ],
                "text": s.name,
            },
        ),
        component("experiment-change", "What was changed on change days", valueString=s.change),
        component(
            "stopped-early", "Stopped before its planned end", valueBoolean=s.state == "stopped"
        ),
    ]
    e = result.estimate
    if e is not None and all(math.isfinite(v) for v in (e.ratio, *e.ci, e.randomisation_p)):
        ratio = _quantity(_sig(e.ratio), "ratio", "1")
        components += [
            component(
                "rate-ratio", "Rate ratio of twitches per day, change / usual", valueQuantity=ratio
            ),
            component(
                "rate-ratio-ci95",
                "95% interval of the rate ratio",
                valueRange={
                    "low": _quantity(_sig(e.ci[0]), "ratio", "1"),
                    "high": _quantity(_sig(e.ci[1]), "ratio", "1"),
                },
            ),
            component(
                "randomisation-p",
                "Randomisation test p-value",
                valueQuantity=_quantity(_sig(e.randomisation_p), "p", "1"),
            ),
        ]
    share = s.adherence.share
    if share is not None:
        components.append(
            component(
                "adherence",
                "Days the plan was kept, of the days checked",
                valueQuantity=_quantity(_sig(100 * share), "%", "%"),
            )
        )
    for condition, days, rate in (
        ("usual", result.usual_days, result.usual_rate),
        ("change", result.change_days, result.change_rate),
    ):
        components.append(
            component(f"{condition}-days", f"Days analysed, {condition}", valueInteger=days)
        )
        if rate is not None:
            components.append(
                component(
                    f"{condition}-rate",
                    f"Twitches per day, {condition} days",
                    valueQuantity=_quantity(_sig(rate), "/d", "/d"),
                )
            )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": _id("experiment", s.kind, s.started_on, s.schedule),
        "status": "final",
        "category": parts.category("survey"),
        "code": parts.concept("self-experiment", "Self-experiment (N-of-1 trial) result"),
        "subject": subject,
        "effectivePeriod": {"start": s.started_on.isoformat(), "end": last.isoformat()},
        "valueString": result.summary,
        "method": {"text": EXPERIMENT_METHOD},
        "component": components,
    }
    if result.notes:
        resource["note"] = [{"text": n} for n in result.notes]
    return resource


def _sig(value: float) -> float:
    """Four significant digits (as the experiment's JSON)."""
    return float(f"{value:.4g}")


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    number: float | int = int(value) if value.is_integer() else value
    return {"value": number, "unit": unit, "system": UCUM, "code": code}


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Raise ``ValueError`` (pydantic's ValidationError) if the bundle is not valid FHIR R4B."""
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)


# ---------------------------------------------------------------------- checks of a stream

#: FHIR's integer: 32 bits.
_INTEGER = (-(2**31), 2**31 - 1)


def check_entries(entries: Iterable[dict[str, Any]], now: datetime | None = None) -> None:
    """Check a bundle's entries as :func:`fhir_chunks` does, without holding them: raise
    ``ValueError`` when the bundle made of them would not be valid FHIR R4B.

    Every entry is one of a few kinds, made by the code above from the journal's typed rows:
    the Patient, an episode's Observation (which elements it has: region, side, intensity,
    duration, note; a date or a time, and the time's offset from UTC) or a factor's (which
    factor, a whole or a decimal number). The first entry of each kind is checked with
    fhir.resources, in a bundle with the Patient (:func:`validate_bundle`). The values that
    differ between entries of one kind are checked on every entry against the rules of
    their FHIR types that they could break: integers within 32 bits, decimals finite (JSON
    has no infinity), times with an offset of whole minutes. The ids are UUIDs and the
    dates are within the journal's date rule, so they are valid by construction.
    """
    checker = _Checker()
    for entry in entries:
        checker.entry(entry)
    checker.finish(now or datetime.now(UTC))


class _Checker:
    def __init__(self) -> None:
        self.samples: dict[tuple[Any, ...], dict[str, Any]] = {}

    def entry(self, entry: dict[str, Any]) -> dict[str, Any]:
        resource = entry["resource"]
        key = _kind(resource)
        if key not in self.samples:
            self.samples[key] = entry
        for component in resource.get("component", ()):
            _check_value(component)
        _check_value(resource)
        return entry

    def finish(self, now: datetime) -> None:
        samples = list(self.samples.values())
        if not any(e["resource"]["resourceType"] == "Patient" for e in samples):
            samples.insert(0, _patient())
        validate_bundle(_bundle(_bundle_id(e["resource"]["id"] for e in samples), now, samples))


def _kind(resource: dict[str, Any]) -> tuple[Any, ...]:
    """Which kind of entry this is (see :func:`check_entries`)."""
    if resource["resourceType"] != "Observation":
        return (resource["resourceType"],)
    moment = resource.get("effectiveDateTime", "")
    components = tuple(
        (c["code"]["coding"][0]["code"], "valueInteger" in c) for c in resource.get("component", ())
    )
    quantity = resource.get("valueQuantity")
    return (
        resource["code"]["coding"][-1]["code"],
        tuple(sorted(resource)),
        components,
        None if quantity is None else type(quantity["value"]).__name__,
        len(moment) > 10,
        "." in moment,
        moment[-6:] if len(moment) > 10 else None,
    )


def _check_value(holder: dict[str, Any]) -> None:
    integer = holder.get("valueInteger")
    if integer is not None and not _INTEGER[0] <= integer <= _INTEGER[1]:
        raise ValueError(f"FHIR integer {integer} is out of range (32 bits)")
    quantity = holder.get("valueQuantity")
    if quantity is not None:
        value = quantity["value"]
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"FHIR decimal {value} is not a finite number")
