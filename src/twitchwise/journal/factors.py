"""The one registry of daily factors: what each is, its unit, limits and how each layer names it.

The other lists of factors are derived from :data:`FACTORS`:

- the limits of :func:`~twitchwise.journal.records.check_factor` (every way in: ``log``, the
  imports, the API and the web form);
- the daily CSV's columns (:mod:`twitchwise.journal.imports.daily_csv`, the factors with
  ``csv``);
- the insights' steps and names (:mod:`twitchwise.insights.stats`), the report and the FHIR
  codes (:mod:`twitchwise.insights.fhir`);
- the web form's fields (``title``, ``unit``, ``form_step``) and the API's limits and labels.

Where a static declaration needs the names written out (the fields of
:class:`~twitchwise.journal.records.DayFactors`, the ``days`` table, the JSON import's and the
API's models, ``twitchwise log day``'s options with their ``option`` and ``help``),
tests/test_journal_structure.py checks them against this registry. (``log day``'s options are
written out so that building the command line does not import the journal.)

Plain data, no imports beyond the standard library: anything may read it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FACTORS", "Factor", "FhirCode"]


@dataclass(frozen=True, slots=True)
class FhirCode:
    """How a factor's value is coded in FHIR: a UCUM unit, the category, a LOINC code."""

    ucum: str  # the UCUM code of the unit
    unit: str  # the unit as text
    category: str  # observation-category: survey, activity, vital-signs
    loinc: tuple[str, str] | None = None  # (code, display) when LOINC has one


@dataclass(frozen=True, slots=True)
class Factor:
    """One numeric daily factor."""

    id: str  # a short id: "caffeine"
    column: str  # its column in the journal, its key in JSON, the API and the CSV
    label: str  # with its unit, in messages: "caffeine (mg)"
    words: str  # in sentences: "caffeine", "workout minutes"
    title: str  # a form field's label: "Caffeine"
    unit: str  # the unit in words: "mg", "hours", "0 to 10"
    integer: bool  # whole numbers only
    low: float  # the limits: generous, they refuse typing slips ("sleep 70"), not odd days
    high: float
    help: str  # of its ``twitchwise log day`` option
    step: float  # the insights give a rate ratio per this much ...
    step_words: str  # ... said so: "100 mg"
    fhir: FhirCode
    csv: bool = True  # a column of the daily CSV
    form_step: float | None = None  # the web form's input step; None: not on the form

    @property
    def type(self) -> type[int] | type[float]:
        return int if self.integer else float

    @property
    def option(self) -> str:
        """Its ``twitchwise log day`` option: ``--caffeine-mg``."""
        return "--" + self.column.replace("_", "-")


#: Every numeric daily factor, in the order they are shown, by column.
FACTORS: dict[str, Factor] = {
    f.column: f
    for f in (
        Factor(
            id="caffeine",
            column="caffeine_mg",
            label="caffeine (mg)",
            words="caffeine",
            title="Caffeine",
            unit="mg",
            integer=False,
            low=0,
            high=3000,
            help="Caffeine in mg (a mug of coffee ~ 100).",
            step=100.0,
            step_words="100 mg",
            fhir=FhirCode("mg", "mg", "survey"),
            form_step=10,
        ),
        Factor(
            id="sleep",
            column="sleep_h",
            label="sleep (hours)",
            words="sleep",
            title="Sleep",
            unit="hours",
            integer=False,
            low=0,
            high=24,
            help="Hours slept the night before.",
            step=1.0,
            step_words="1 hour",
            fhir=FhirCode("h", "h", "activity", ("93832-4", "Sleep duration")),
            form_step=0.5,
        ),
        Factor(
            id="water",
            column="water_l",
            label="water (litres)",
            words="water",
            title="Water",
            unit="litres",
            integer=False,
            low=0,
            high=20,
            help="Water drunk, litres.",
            step=1.0,
            step_words="1 litre",
            fhir=FhirCode("L", "L", "survey"),
            form_step=0.1,
        ),
        Factor(
            id="workout",
            column="workout_min",
            label="workout (minutes)",
            words="workout minutes",
            title="Exercise",
            unit="minutes",
            integer=False,
            low=0,
            high=1440,
            help="Minutes of exercise.",
            step=30.0,
            step_words="30 minutes",
            fhir=FhirCode("min", "min", "activity"),
            form_step=5,
        ),
        Factor(
            id="stress",
            column="stress",
            label="stress (0-10)",
            words="stress",
            title="Stress",
            unit="0 to 10",
            integer=True,
            low=0,
            high=10,
            help="Stress, 0 (none) to 10.",
            step=1.0,
            step_words="1 point",
            fhir=FhirCode("{score}", "score (0-10)", "survey"),
            form_step=1,
        ),
        Factor(
            id="alcohol",
            column="alcohol_units",
            label="alcohol (units)",
            words="alcohol",
            title="Alcohol",
            unit="units",
            integer=False,
            low=0,
            high=100,
            help="Alcohol in UK units (8 g each).",
            step=1.0,
            step_words="1 unit",
            fhir=FhirCode("{UK_unit}", "UK units (8 g alcohol)", "survey"),
            form_step=0.5,
        ),
        Factor(
            id="steps",
            column="steps",
            label="steps",
            words="steps",
            title="Steps",
            unit="steps",
            integer=True,
            low=0,
            high=300_000,
            help="Steps walked that day.",
            step=1000.0,
            step_words="1000 steps",
            fhir=FhirCode(
                "{steps}", "steps", "activity", ("41950-7", "Number of steps in 24 hour Measured")
            ),
            csv=False,
        ),
        Factor(
            id="hrv",
            column="hrv_ms",
            label="heart-rate variability SDNN (ms)",
            words="heart-rate variability",
            title="Heart-rate variability",
            unit="ms",
            integer=False,
            low=0,
            high=1000,
            help="Heart-rate variability (SDNN) in ms.",
            step=10.0,
            step_words="10 ms",
            fhir=FhirCode(
                "ms",
                "ms",
                "vital-signs",
                ("80404-7", "R-R interval.standard deviation (Heart rate variability)"),
            ),
            csv=False,
        ),
    )
}
