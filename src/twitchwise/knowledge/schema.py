"""The models of the knowledge base, as msgspec structs.

Every model is frozen and rejects unknown keys, so a typo such as ``sorce:`` fails loudly
instead of silently dropping a fact. Field documentation lives in ``docs/knowledge-base.md``.

The structs are validated when the loader converts the YAML into them
(``msgspec.convert``, see :mod:`twitchwise.knowledge.load`): types, the constraints given with
``msgspec.Meta`` and the checks in ``__post_init__``. Building one directly by calling the class
checks only ``__post_init__``. msgspec is a small C extension: an answer that reads the
knowledge base back from the cache needs nothing else (no pydantic).
"""

from __future__ import annotations

from datetime import date
from enum import Enum, StrEnum
from typing import Annotated, Literal

import msgspec

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
SOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9.\-]*$"


def _whole(pattern: str) -> str:
    """``pattern`` anchored at the very end: msgspec matches with ``re.search``, whose ``$``
    would also accept a trailing newline."""
    return pattern.removesuffix("$") + r"\Z"


Id = Annotated[str, msgspec.Meta(pattern=_whole(ID_PATTERN))]
SourceId = Annotated[str, msgspec.Meta(pattern=_whole(SOURCE_ID_PATTERN))]
Sources = Annotated[list[SourceId], msgspec.Meta(min_length=1)]
Probability = Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]
Positive = Annotated[float, msgspec.Meta(gt=0.0)]

CONTRACT_CAUSES: tuple[str, ...] = (
    "exercise_fatigue",
    "dehydration",
    "low_magnesium",
    "low_calcium",
    "low_potassium",
    "low_sodium",
    "caffeine_stimulants",
    "stress_anxiety",
    "sleep_deprivation",
    "alcohol",
    "medication_side_effect",
    "vitamin_deficiency",
    "nerve_compression",
    "local_injury_inflammation",
    "benign_fasciculation_syndrome",
    "cramp_fasciculation_syndrome",
    "motor_neuron_disease",
    "overactive_thyroid",
    "peripheral_neuropathy",
    "kidney_disease",
    "hemifacial_spasm",
    "focal_seizure",
    "serotonin_syndrome",
    "rhabdomyolysis",
    "heat_illness",
    "organophosphate_poisoning",
    "stroke",
)


class TriageLevel(StrEnum):
    """Triage levels, ordered by urgency: ``max()`` of several levels is the most urgent.

    Comparisons use the contract's order, not the alphabetical order of the values.
    """

    SELF_CARE = "self_care"
    SEE_DOCTOR_ROUTINE = "see_doctor_routine"
    SEE_DOCTOR_URGENT = "see_doctor_urgent"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, TriageLevel):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, TriageLevel):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, TriageLevel):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, TriageLevel):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = Enum.__hash__

    def __str__(self) -> str:
        return self.value


_LEVEL_ORDER = list(TriageLevel)


class FieldProblem(ValueError):
    """A check in a model's ``__post_init__`` failed for one field.

    The message starts with the field's name (``level: ...``), so that the loader can point at
    the line of that field.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")


class Strict(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every model: frozen, unknown keys rejected.

    Each model repeats ``frozen=True, kw_only=True``: msgspec applies ``kw_only`` per class
    (required fields may then follow fields with defaults, and every field is given by name),
    and type checkers want ``frozen`` said on every class.
    """


class Source(Strict, frozen=True, kw_only=True):
    id: SourceId
    title: str
    publisher: str
    url: Annotated[str, msgspec.Meta(pattern=r"^https?://")]
    note: str | None = None


FindingKind = Literal[
    "twitch",
    "pattern",
    "duration",
    "region",
    "side",
    "symptom",
    "context",
    "medicine",
    "condition",
    "demographic",
    "cue",
]
#: ``cue`` findings are words that only matter in combination ("pee" + "dark"): they feed
#: ``compose`` rules and are never shown, ranked or triaged on their own.


class Compose(Strict, frozen=True, kw_only=True):
    """A finding inferred when findings co-occur (each group: any one of its ids, present)."""

    all_of: Annotated[list[list[Id]], msgspec.Meta(min_length=2)]
    scope: Literal["near", "clause", "sentence", "text"] = "clause"


def compositions(finding: Finding) -> list[Compose]:
    """The finding's ``compose`` as a list (empty when it has none)."""
    c = finding.compose
    return [] if c is None else [c] if isinstance(c, Compose) else list(c)


class Finding(Strict, frozen=True, kw_only=True):
    id: Id
    kind: FindingKind
    label: str
    synonyms: list[str] = []
    #: Phrases matched word for word (stop words kept, no stemming), for wordings that
    #: stemming and dropping stop words would collapse ("had a fit" is not "fit").
    exact_phrases: list[str] = []
    absent_phrases: list[str] = []
    function_terms: list[str] = []
    area: str | None = None
    #: "other": only said about someone else ("my dad had ALS"); kept only inside an
    #: other-person scope, where every "self" finding is dropped. "relative": the same, and
    #: only of the writer's own relative: not when a word of the lexicon's ``non_relatives``
    #: comes before it in its sentence ("my mate's dad died of ALS").
    about: Literal["self", "other", "relative"] = "self"
    implies: list[Id] = []
    #: One combination, or several (any of them makes the finding: a close one with broad cue
    #: words, a wide one with narrow cue words).
    compose: Compose | list[Compose] | None = None
    #: A part (kind ``cue``) that still counts inside another finding's phrase: "no longer" in
    #: the weakness phrase "can no longer lift my arms" still says it is worse than before.
    counts_inside: bool = False
    #: What the finding's words mean when a body part, not a person, is said to have it ("my
    #: calf had a full on seizure", "my leg was having its own little seizure"): a figure of
    #: speech for this finding instead (``jerking``), never the whole-body event.
    said_of_a_body_part: Id | None = None
    #: Of one side of the body only: its phrase said of a body part in the plural ("can't lift
    #: his arms") is not this finding (the weakness it also says is read on its own).
    one_side_only: bool = False
    #: Comes on over at most this many days: when composed from parts in a sentence that says
    #: it has gone on longer ("the past 6 months both feet have gone numb and I get tingles up
    #: to the ankles"), it is something slower, not this finding.
    within_days: float | None = None
    #: Findings that, said in the same sentence, are part of this one: "my whole body jerks just
    #: as I'm drifting off" is a sleep start, not twitching all over (``hypnic_jerks`` absorbs
    #: ``widespread``).
    absorbs: list[Id] = []
    #: Something a person takes and can stop (a drink, a medicine): "stopped" said at the end
    #: of a clause about it is about it, not about the body said before it.
    quittable: bool = False
    base_rate: Probability = 0.05
    question: str | None = None
    help: str | None = None
    sources: Sources


class Likelihood(Strict, frozen=True, kw_only=True):
    finding: Id
    with_: Probability = msgspec.field(name="with")
    without: Probability | None = None


class Modifier(Strict, frozen=True, kw_only=True):
    finding: Id
    factor: Positive
    note: str | None = None


class Cause(Strict, frozen=True, kw_only=True):
    id: Id
    name: str
    explanation: str
    mechanism: str
    prior: Probability
    prior_note: str
    modifiers: list[Modifier] = []
    likelihoods: Annotated[list[Likelihood], msgspec.Meta(min_length=1)]
    self_care: list[str]
    #: A grave, rare cause (motor neurone disease, stroke): named the way NHS pages do, as
    #: something a doctor needs to check, never as a bare high percentage.
    grave: bool = False
    doctor: str
    tests: list[str]
    sources: Sources


Condition = Id | Annotated[list[Id], msgspec.Meta(min_length=1)]


class RedFlag(Strict, frozen=True, kw_only=True):
    id: Id
    level: TriageLevel
    all_of: Annotated[list[Condition], msgspec.Meta(min_length=1)]
    reason: str
    report: Id | None = None
    sources: Sources

    def __post_init__(self) -> None:
        if self.level is TriageLevel.SELF_CARE:
            raise FieldProblem("level", "a red flag must raise triage above self_care")

    def groups(self) -> list[list[str]]:
        return [[c] if isinstance(c, str) else list(c) for c in self.all_of]


class CaffeineDrink(Strict, frozen=True, kw_only=True):
    id: Id
    name: str
    terms: Annotated[list[str], msgspec.Meta(min_length=1)]
    mg: Positive
    serving: str
    sources: Sources


class CaffeineLimit(Strict, frozen=True, kw_only=True):
    group: Literal["adult", "pregnant", "under_18"]
    mg_per_day: Positive
    single_dose_mg: float | None = None
    mg_per_kg_day: float | None = None
    note: str | None = None
    sources: Sources


class FluidRow(Strict, frozen=True, kw_only=True):
    activity: str
    seed: str
    authority: str
    verdict: str
    sources: Sources


class FluidReference(Strict, frozen=True, kw_only=True):
    group: str
    total_l: float
    drinks_l: float
    note: str | None = None
    sources: Sources


class Food(Strict, frozen=True, kw_only=True):
    food: str
    amount: str


class Nutrient(Strict, frozen=True, kw_only=True):
    id: Id
    name: str
    role: str
    intake: str
    upper_limit: str
    foods: Annotated[list[Food], msgspec.Meta(min_length=1)]
    cautions: list[str] = []
    sources: Sources


class Advice(Strict, frozen=True, kw_only=True):
    """One personal-plan item, chosen by findings, leading causes or triage level.

    ``text`` is a template: ``{name}`` placeholders are filled from the person's numbers
    (see docs/knowledge-base.md). An item whose placeholders cannot all be filled is skipped,
    so a later item of the same ``kind`` serves as its fallback; one item per kind is shown.
    """

    id: Id
    kind: str
    text: str
    when_findings: list[Id] = []
    when_all: list[Id] = []
    unless_findings: list[Id] = []
    when_causes: list[Id] = []
    when_levels: list[TriageLevel] = []
    up_to_level: TriageLevel | None = None
    always: bool = False
    nutrients: list[Id] = []
    priority: int = 50
    sources: Sources


class ExperimentKind(Strict, frozen=True, kw_only=True):
    """One change a person can test on themselves (``twitchwise experiment start KIND``):
    the two conditions in plain words and how the journal can tell whether the change was
    kept. ``change`` may hold ``{change}``, filled with the person's own words (a
    user-defined change)."""

    id: Id
    name: str
    question: str
    usual: str
    change: str
    #: The daily factor (a ``days`` column) that shows whether the change was kept.
    factor: str | None = None
    #: On change days the factor should be at most / at least this much.
    change_max: float | None = None
    change_min: float | None = None
    #: What a change day is called in the status and the result ("a cut-back day").
    change_label: str = "change"
    sources: Sources


class Plan(Strict, frozen=True, kw_only=True):
    caffeine_drinks: list[CaffeineDrink] = []
    caffeine_limits: list[CaffeineLimit] = []
    fluid_seed_table: list[FluidRow] = []
    fluid_reference: list[FluidReference] = []
    nutrients: list[Nutrient] = []
    advice: list[Advice] = []
    #: Questions for the doctor report, chosen like advice by the journal's alert findings.
    doctor_questions: list[Advice] = []
    #: The changes ``twitchwise experiment`` can test, with their targets in plain words.
    experiments: list[ExperimentKind] = []


class SeedPoint(Strict, frozen=True, kw_only=True):
    id: Id
    seed: Literal["knee", "after_workout"]
    section: str
    text: str
    represented_by: Annotated[list[str], msgspec.Meta(min_length=1)]


class SeedCorrection(Strict, frozen=True, kw_only=True):
    id: Id
    seed: Literal["knee", "after_workout", "both"]
    claim: str
    correct: str
    sources: Sources


class Seeds(Strict, frozen=True, kw_only=True):
    points: list[SeedPoint] = []
    corrections: list[SeedCorrection] = []


class Cue(Strict, frozen=True, kw_only=True):
    """A ConText-style trigger: the phrase and the direction of its scope."""

    phrase: str
    direction: Literal["forward", "backward", "both"] = "forward"
    #: The cue counts only when nothing but filler follows it in its clause: a change of state
    #: ("has gone") means resolved in "the twitch has gone", not in "my pee has gone dark".
    at_clause_end: bool = False


class QuantityRule(Strict, frozen=True, kw_only=True):
    quantity: Literal[
        "sleep_h",
        "duration_days",
        "age_years",
        "body_temp_c",
        "ambient_temp_c",
        "water_l",
        "alcohol_drinks",
        "alcohol_daily",
    ]
    finding: Id
    min: float | None = None
    max: float | None = None
    requires_any: list[Id] = []


class FunctionWords(Strict, frozen=True, kw_only=True):
    """Closed-class words the understanding mechanisms look for around a finding or a cue
    (``lexicon/language.yaml``, key ``function_words``): the mechanisms are code, the English
    words they look for are data."""

    #: Onset words that also tell of a past event ("it happened years ago").
    onset_not_alone: list[str] = []
    #: Words before "old" that make it an age ("61 years old", "a 6 month old").
    age_units_before_old: list[str] = []
    #: Words before "like" that make it a comparison ("looks like black tea").
    comparing: list[str] = []
    #: Words that end a comparison ("like a zombie on nights").
    simile_stops: list[str] = []
    #: Between a negation and a lost function ("not much strength").
    lost_function_glue: list[str] = []
    #: After a lost function, words that keep it missing ("no strength in my legs").
    lost_function_after: list[str] = []
    #: Before a one-word side, words that make it a noun or an adjective ("on the left").
    side_lead: list[str] = []
    #: After a one-word side ("left side", "the right one").
    side_nouns: list[str] = []
    #: Words that say nothing on their own in a retraction's clause ("actually my calf too").
    filler: list[str] = []
    #: Before "actually", words that make it emphasis ("what actually helped").
    wh_words: list[str] = []
    #: Between a negation and a red flag without making the denial doubtful ("no signs of").
    denial_gap: list[str] = []
    #: Time units long enough for a red flag that stopped to be over ("months ago").
    long_ago_units: list[str] = []
    #: Words that put a time in the past ("last", "ago", "back").
    past_markers: list[str] = []
    #: After a normal-state word, words that still end what it says ("right leg is fine and").
    clause_goes_on: list[str] = []
    #: Between two person words that still name one person ("my sister's little boy").
    person_adjectives: list[str] = []
    #: Between "been" and what it links to, words that do not change it ("been really tight").
    intensifiers: list[str] = []
    #: Before "been", words that make "been X-ing" a denied "X-ing".
    been_negations: list[str] = []
    #: After "been", words that make it part of a verb or a phrase of its own ("been told").
    been_keeps: list[str] = []
    #: Words that join list items or clauses ("and", "or", "plus", "with").
    conjunctions: list[str] = []
    #: The writer and their group, ending someone else's story ("we", "our", "my").
    writer_words: list[str] = []
    #: Verbs by which someone tells what they saw of the writer ("my wife says").
    reporting_verbs: list[str] = []
    #: Someone else named without "my" ("a guy at work", "one of the kids at nursery",
    #: "someone on the forum"): another person's experience where a clause starts.
    indefinite_people: list[str] = []
    #: Verbs by which the writer perceives someone else ("I felt his pulse", "I checked her
    #: hand"): with ``reporting_verbs``, a writer who perceives is not the one it is about.
    perceiving_verbs: list[str] = []
    #: Bare words for "all over the body" ("everywhere", "all over"): twitching all over only
    #: in a clause about the body, and not right after another symptom ("itchy all over",
    #: "shaking all over"), which they describe instead.
    spread_words: list[str] = []
    #: Body words that are also directions ("back"): a direction, not the body part, when a
    #: particle of ``direction_particles`` follows or a verb of ``direction_verbs`` comes just
    #: before, and no determiner of ``direction_determiners`` comes before ("built back up",
    #: "came back on", "got back home"; not "my back up to my neck", "lower back down my leg").
    direction_words: list[str] = []
    direction_particles: list[str] = []
    direction_determiners: list[str] = []
    #: Verbs of going, getting or answering before such a word that make it a direction too
    #: ("do I need to go back", "her head is twisted back", "the GP rang back").
    direction_verbs: list[str] = []
    #: Verbs of quitting ("stopped", "quit"): said at a clause's end they are about the
    #: circumstance said last ("been drinking vodka for a year, stopped on saturday"), not
    #: the body before it.
    quitting_verbs: list[str] = []
    #: A clause opened by one of ``conditionals`` and followed in its sentence by one of
    #: ``care_instructions`` is advice on when to get help, not what has happened ("if he gets
    #: confused or starts being sick, go to A&E").
    conditionals: list[str] = []
    care_instructions: list[str] = []
    #: Before a care instruction, words that make it the writer asking whether to get help
    #: ("if I stand up I feel faint, should I see a doctor"): then the condition is real.
    care_questions: list[str] = []
    #: Words that end a list of denied findings ("or", "nor").
    list_ends: list[str] = []
    #: After "or", words of an approximation ("a year or so", "a week or two"): no list ends.
    approximations: list[str] = []
    #: Words allowed inside a list item besides findings ("any", "no", "the").
    list_glue: list[str] = []
    #: Where a past cue's scope stops going back ("since", "because", "until").
    past_stops: list[str] = []
    #: Before "without", words that make it a double negative ("can't ... without").
    without_negations: list[str] = []
    #: Words that turn a denial into "not yet then" ("until", "till").
    until_words: list[str] = []
    #: Words of a clause that refers back to the one before ("but that has gone").
    anaphora: list[str] = []
    #: The words in such a clause that point back ("that", "it", "which").
    pointers: list[str] = []
    #: Words that make what follows a circumstance of a symptom ("twitching **after** runs
    #: for 3 weeks"): a duration in the clause is the symptom's, not the circumstance's.
    circumstance_words: list[str] = []
    #: Stop words that are verbs ("bit", "had", "do"): a phrase left with one word after losing
    #: one ("bit my lip" -> "lip") is matched word for word.
    stop_verbs: list[str] = []
    #: Words after which a clause starts ("but", "so", "because"): "my son" after one of them
    #: (or a mark, or at the start) is someone else as a subject, not an object.
    clause_openers: list[str] = []
    #: Words for a child: "my son" is the person a parent asks for, not someone else's story.
    child_words: list[str] = []
    #: Words after a function that say it is not right, in vague words ("my swallowing feels
    #: off", "my balance is weird", "breathing is hard"): the finding whose function it is
    #: (a red flag possible and asked about, anything else hedged).
    function_odd: list[str] = []
    #: Words that after "not" say a function is not right ("my breathing is not right").
    function_odd_after_not: list[str] = []
    #: Words that may sit between a function and the words that say it is not right ("is",
    #: "feels", "a bit").
    function_odd_glue: list[str] = []
    #: Words before a function that say it is not right ("problems with my balance").
    function_odd_before: list[str] = []
    #: Verbs that report a question someone asked ("GP asked if", "physio checked for"), and
    #: the words after them (one object pronoun may come between) that start what was asked.
    asking_verbs: list[str] = []
    asking_links: list[str] = []
    #: Answers that deny what was asked ("physio asked about numbness between my legs, none";
    #: "GP asked if I zone out and no, I don't"), and the words that may come just before one.
    answers_no: list[str] = []
    answer_lead: list[str] = []
    #: Words that may follow an answer of ``answers_no`` ("no to both", "none of the above",
    #: "nope, nothing like that"); any other word after it makes it no answer ("no answer yet").
    answer_tail: list[str] = []
    #: Verbs that with a pronoun and "not" deny what was asked ("..., I haven't").
    answer_aux: list[str] = []
    #: Subjects besides the pronouns for that answer ("..., and there isn't any").
    answer_subjects: list[str] = []


class QuantityWords(Strict, frozen=True, kw_only=True):
    """The words and units the reader of amounts looks for (``lexicon/language.yaml``, key
    ``quantity_words``): times, ages, doses, weights, temperatures. The reading is code; the
    English words and units are data. Word lists are sets: the reader only asks whether a word
    is one of them."""

    #: After an amount of time, words that make it a point in the past ("3 days ago", "a couple of
    #: years back").
    ago: frozenset[str] = frozenset()
    #: After an amount of time, words that make it relative to an event ("2 days later", "an hour
    #: into the run").
    event_relative: frozenset[str] = frozenset()
    #: Words that may stand before an amount of time that says how long ("for the past 3 weeks",
    #: "nearly a month").
    duration_lead: frozenset[str] = frozenset()
    #: Milligram units ("200mg", "200 milligrams").
    mg_units: frozenset[str] = frozenset()
    #: Litre units ("3l", "3 litres").
    litre_units: frozenset[str] = frozenset()
    #: Weight units, in kilograms each ("70 kg", "11 stone", "150 lbs").
    weight_units: dict[str, float] = {}
    #: Hour units ("6 hours", "5hrs").
    hour_units: frozenset[str] = frozenset()
    #: Words that may sit between a relative and their age ("my husband (63", "Mum, 84"); the empty
    #: word is a number glued to the relative.
    age_glue: frozenset[str] = frozenset()
    #: A person after an age, with their sex ("52 F", "44 woman", "81 years lady").
    person_sex: dict[str, str] = {}
    #: Phrases that make an amount a daily one ("a day", "every night", "most days").
    daily: frozenset[str] = frozenset()
    #: Units of an age, in years ("6 year old", "18 month old", "6yo").
    age_units: dict[str, float] = {}
    #: Words after "N weeks" that make it how far along a pregnancy is ("22 weeks pregnant", "30
    #: weeks along").
    gestation: frozenset[str] = frozenset()
    #: Week units, for a pregnancy ("24 wks").
    week_units: frozenset[str] = frozenset()
    #: After a relative and a number, units that make it a baby's or toddler's age, in years ("my 18
    #: month old", "my 6 wk old").
    child_age_units: dict[str, float] = {}
    #: After "N weeks with (my)", words for the baby ("22 weeks with my first", "24 wks with number
    #: 2").
    baby_words: frozenset[str] = frozenset()
    #: Words just before "N years" that make it the writer's age ("I am 35 years").
    writer_age_lead: frozenset[str] = frozenset()
    #: Age units that need no "old" after them ("my 6yo").
    age_glued: frozenset[str] = frozenset()
    #: Times earlier today: a symptom that started then has lasted less than a day ("since this
    #: morning").
    earlier_today: frozenset[str] = frozenset()
    #: Words before a unit that make an amount a rate ("a day", "per week", "every night").
    rate_words: frozenset[str] = frozenset()
    #: Words that count how often, before "this week" or "this month" ("twice this week", "3
    #: times this month"): how often, not how long.
    counted_times: frozenset[str] = frozenset()
    #: Words before a unit of a week or more that mean the whole of it ("all week", "the whole
    #: month"): that long.
    whole_words: frozenset[str] = frozenset()
    #: Words after "N day/week/month" that still say how long ("3 day straight", "2 week now").
    duration_tail: frozenset[str] = frozenset()
    #: Letters and words glued to an age that give the sex ("28f", "35 m").
    sex_letters: dict[str, str] = {}
    #: After a stated amount of caffeine, words that make it the amount in each drink ("4
    #: cans (200mg each)"); "per" too, unless a time follows ("per day": the total).
    each_words: frozenset[str] = frozenset()
    #: Time words after "per" that make an amount a total for that time ("300mg per day").
    rate_units: frozenset[str] = frozenset()
    #: A school year and the age it gives, in years added to it ("in year 9": 9 + 5 = 14 in
    #: England; "in 3rd grade": 3 + 6 = 9 in the US): a child's age.
    school_years: dict[str, float] = {}
    #: Words just after a school year that make it something else ("year 2 at uni", "year 3 of
    #: my degree").
    school_not: frozenset[str] = frozenset()
    #: The last school year ("year 13", "grade 12"): a larger number is no school year.
    school_last_year: int = 13
    #: The weeks a pregnancy written as weeks+days may give ("24+3"): outside them, "2+2" is
    #: a sum.
    gestation_weeks: tuple[int, int] = (4, 42)
    #: Units said before a count of them ("day 5 of", "week 2 of sertraline"), in days: the day
    #: or week a thing is on, so how long it has gone on; at most ``counted_most`` of them.
    counted_units: dict[str, float] = {}
    counted_most: float = 60
    #: Words before such a unit that make it something else ("last week 2 times", "the same day
    #: 3 people"); rate and whole words count too ("a day 3 times", "all day 39.4").
    counted_not_after: frozenset[str] = frozenset()
    #: After an amount of time, words that put it in the future ("the GP is 2 weeks away", "a scan
    #: in 3 weeks' time"): when something will happen, not how long anything has lasted.
    future_tail: frozenset[str] = frozenset()
    #: Decades in words, as the year they start at ("sixties": 60); "60s" is read from digits.
    decade_words: dict[str, int] = {}
    #: Words before a decade that place an age in it, in years past its start ("early 70s": 2,
    #: "mid-60s": 5, "late fifties": 8).
    decade_parts: dict[str, int] = {}
    #: Words before a bare number that make it an age just reached or about to be, with the
    #: years to add ("pushing 70": -1, "just turned 60": 0).
    age_approach: dict[str, int] = {}
    #: Words that may follow such an age ("pushing 70 and...", "turned 60 last year"); the empty
    #: word is a comma. Anything else (a unit, a noun) makes the number something else.
    age_tail: frozenset[str] = frozenset()
    #: Words that make an amount in litres water or fluid ("3 litres of water a day").
    water_words: frozenset[str] = frozenset()
    #: Celsius units ("38.5c", "39 degrees").
    celsius_units: frozenset[str] = frozenset()
    #: Fahrenheit units ("101°F", "101 fahrenheit").
    fahrenheit_units: frozenset[str] = frozenset()


class Lexicon(Strict, frozen=True, kw_only=True):
    """Language data for the understanding layer (NegEx/ConText cues, numbers, spellings)."""

    negation: list[Cue] = []
    #: Denials said with doubt: benign findings denied, red flags read as possible.
    hedged_negation: list[Cue] = []
    #: Words that put something in the past ("used to", "came off"), matched word for word:
    #: what they cover is long over, and denied.
    past: list[Cue] = []
    pseudo_negation: list[str] = []
    uncertainty: list[Cue] = []
    other_experiencer: list[Cue] = []
    hypothetical: list[Cue] = []
    terminators: list[str] = []
    normal_states: list[str] = []
    #: Words that take back what came before ("actually", "come to think of it"): a red flag
    #: denied before one is read as possible, never as denied.
    retraction: list[str] = []
    #: Word-sense guards: phrases in which a finding's word means something else ("right now",
    #: "ran out of", "confused about"); a finding matched inside one is not read.
    not_findings: list[str] = []
    idioms: list[str] = []
    #: English words that are never read as a typo of a known word ("confession" is not
    #: "confusion", "attending" not "ascending"); made by ``scripts/real_words.py``.
    real_words: list[str] = []
    #: Filler that may follow an ``at_clause_end`` cue ("has gone away now").
    clause_end_filler: list[str] = []
    contractions: dict[str, str] = {}
    spellings: dict[str, str] = {}
    number_words: dict[str, float] = {}
    time_units: dict[str, float] = {}
    weekdays: list[str] = []
    months: dict[str, int] = {}
    calendar_days: dict[str, tuple[int, int]] = {}
    subjects: list[str] = []
    pronouns: list[str] = []
    #: Words for the writer and for someone else, to tell whose twitch a text is about.
    first_person: list[str] = []
    first_person_object: list[str] = []
    history_verbs: list[str] = []
    #: Times that make "my dad had ..." something happening now, not his past illness ("my
    #: boyfriend had a seizure last night").
    recent_times: list[str] = []
    #: A sentence with a time long ago and one of these says an episode is over ("Had a TIA
    #: last year, my arm went weak for 20 minutes, no problems since").
    long_ago: list[str] = []
    #: Words before an age that make it a time of life, not the age now ("when I was 9",
    #: "at age 12"): long ago for an episode that ended, like ``long_ago``.
    past_age_leads: list[str] = []
    episode_over: list[str] = []
    #: Words that say someone is a woman or a man ("wife", "lady"; "husband", "guy").
    female_words: list[str] = []
    male_words: list[str] = []
    third_person: list[str] = []
    third_person_possessives: list[str] = []
    #: Function words whose absence is the finding ("no strength in my legs", "zero grip", "I
    #: have no balance"): said right after a negation they make it present, not denied, unless a
    #: word of ``function_problems`` follows ("no balance problems").
    lost_function_terms: list[str] = []
    function_problems: list[str] = []
    #: Things that get weaker without being a body ("my willpower to stop the energy drinks is
    #: getting weaker", "the pound is getting weaker"): weakness said of them is not weakness.
    not_body_subjects: list[str] = []
    #: Nouns after which "me" is "my" ("hurt me back", "can't catch me breath"), besides every
    #: one-word body region synonym.
    me_as_my_before: list[str] = []
    #: People who are not the writer's relatives ("friend", "mate", "colleague"): a family
    #: history said of one of them, or of their relative, is not the writer's.
    non_relatives: list[str] = []
    onset_words: list[str] = []
    containers: list[str] = []
    sleep_words: list[str] = []
    body_temp_words: list[str] = []
    ambient_temp_words: list[str] = []
    relative_words: list[str] = []
    #: Alcohol counted in drinks (about 2 UK units each): words that are alcohol on their own
    #: ("pints", "shots") with drinks per item ...
    alcohol_units: dict[str, float] = {}
    #: ... containers that are alcohol only with an alcohol word after them ("glass of wine") ...
    alcohol_containers: dict[str, float] = {}
    #: ... the alcohol words, with drinks per container where a bottle of it holds more.
    alcohol_words: dict[str, float] = {}
    symptom_anchor_kinds: list[str] = []
    quantity_rules: list[QuantityRule] = []
    stopwords: list[str] = []
    function_words: FunctionWords = msgspec.field(default_factory=FunctionWords)
    quantity_words: QuantityWords = msgspec.field(default_factory=QuantityWords)
    sources: Sources


# --------------------------------------------------------------------------- guides

TOPIC_ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
TopicId = Annotated[str, msgspec.Meta(pattern=_whole(TOPIC_ID_PATTERN))]


class Anatomy(Strict, frozen=True, kw_only=True):
    """A muscle, nerve or structure that guides explain (``anatomy/``).

    ``general`` entries (what a motor unit is) appear in every guide's "What the twitch is".
    """

    id: Id
    kind: Literal["muscle", "nerve", "structure", "general"]
    name: str
    text: str
    region: Id | None = None
    sources: Sources


class Emphasis(Strict, frozen=True, kw_only=True):
    """A cause a guide always lists, with why it matters for this topic."""

    cause: Id
    why: str
    sources: Sources


class Faq(Strict, frozen=True, kw_only=True):
    question: str
    answer: str
    sources: Sources


class Topic(Strict, frozen=True, kw_only=True):
    """A guide's topic: a body region or a situation (``topics/``).

    The guide itself is assembled from the knowledge base (see ``twitchwise.guides``); the
    topic says which findings define it and what to emphasise.
    """

    id: TopicId
    title: str
    kind: Literal["region", "situation"]
    subject: str
    findings: Annotated[list[Id], msgspec.Meta(min_length=1)]
    aliases: list[str] = []
    overview: str | None = None
    anatomy: list[Id] = []
    emphasis: list[Emphasis] = []
    red_flags: list[Id] = []
    advice: list[Id] = []
    corrections: list[Id] = []
    seed: Literal["knee", "after_workout"] | None = None
    faq: list[Faq] = []
    related: list[TopicId] = []
    example: str
    sources: Sources


# --------------------------------------------------------------------------- review

#: How a page's content was last checked, least to most: written from the sources but not yet
#: checked against them, checked against its sources by the editors, reviewed by a clinician.
ReviewStatus = Literal["draft", "sources_checked", "clinician_reviewed"]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class ReviewRecord(Strict, frozen=True, kw_only=True):
    """When the content of a page was last reviewed, how (``status``) and by whom (``review/``).

    The static site shows it on the page ("Last reviewed"), in its ``MedicalWebPage``
    metadata (``lastReviewed``) and in the sitemap (``lastmod``).
    """

    reviewed: date
    status: ReviewStatus
    by: NonEmpty
    #: For the knowledge base's maintainers (what was checked); never shown to readers.
    note: str | None = None


class Review(Strict, frozen=True, kw_only=True):
    """The review of the knowledge base: one record for all of it (``site``), and a record for
    each topic or cause reviewed on its own since (``topics``, ``causes``, by id).

    A topic or cause without a record of its own has the ``site`` record, so a new topic
    validates without one. The loader requires ``site``.
    """

    site: ReviewRecord | None = None
    topics: dict[TopicId, ReviewRecord] = {}
    causes: dict[Id, ReviewRecord] = {}

    def of_topic(self, topic_id: str) -> ReviewRecord | None:
        return self.topics.get(topic_id, self.site)

    def of_cause(self, cause_id: str) -> ReviewRecord | None:
        return self.causes.get(cause_id, self.site)


# --------------------------------------------------------------------------- interview


class InterviewOption(Strict, frozen=True, kw_only=True):
    """One answer to an interview question: the findings it means, or a value in its unit."""

    label: str | None = None
    findings: list[Id] = []
    value: float | None = None


class InterviewQuestion(Strict, frozen=True, kw_only=True):
    """A question of ``twitchwise check`` that settles several findings at once (``questions/``).

    Yes/no questions about one finding live on the finding itself (``question``, ``help``).
    The loader checks that the options fit the kind (see ``load._check_questions``).
    """

    id: Id
    kind: Literal["choice", "one_of", "quantity", "follow_up"]
    text: str
    help: str | None = None
    quantity: Literal["duration_days", "sleep_h", "age_years", "caffeine_mg"] | None = None
    drink: Id | None = None
    areas_finding: Id | None = None
    options: list[InterviewOption] = []
    sources: Sources
