"""The cohort format: the Parquet files ``twitchwise cohort export`` writes and
``twitchwise cohort report`` reads (docs/cohort.md#the-format).

::

    DIR/
      cohort.json                         the manifest: format, version, people, days, buckets
      people/bucket=000/part-0.parquet    one row per person
      days/bucket=000/part-0.parquet      one row per person and day
      effects/bucket=000/part-0.parquet   one row per person, factor and lag: the personal effect
      experiments/bucket=000/part-0.parquet   one row per finished (or stopped) self-experiment
      answers/bucket=000/part-0.parquet   one row per recorded answer of the hosted app (v4)

Every table is partitioned the same way (Hive style): a person's rows all sit in the bucket
``int(person_id, 16) % buckets``, so an exporter writes one bucket at a time and a reader
can take a person whole from one file. There is no free text anywhere: every string column
holds a value of a closed vocabulary (below) or the pseudonymous person id (random in a
synthetic cohort, a keyed hash in an export: :mod:`.export`), never shown in a report.

pyarrow is imported inside the functions that write (the ``cohort`` extra).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twitchwise.errors import InputError

__all__ = [
    "AGE_BANDS",
    "ANSWER_IDS",
    "CHANGES",
    "COLUMNS",
    "FACTORS",
    "FORMAT",
    "LEVELS",
    "MANIFEST",
    "OTHER_ID",
    "READABLE",
    "REGIONS",
    "SEXES",
    "TABLES",
    "VERSION",
    "Manifest",
    "answer_ids",
    "answer_problem",
    "bucket_of",
    "columns_of",
    "experiment_problem",
    "read_manifest",
    "tables_of",
    "write_cohort",
]

FORMAT = "twitchwise-cohort"
#: 2: the experiments table (a cohort of version 1 has none: export it again). 3: each
#: experiment's days and twitches under each condition and its dispersion (:data:`COUNTS`),
#: which the pooled self-experiments need; a cohort of version 2 is still read, and its
#: experiments pooled the older way (docs/cohort.md#pooled-self-experiments). 4: the answers
#: table (the hosted app's record of answers) and the manifest's ``questions`` and
#: ``findings``, the ids its lists may hold; a cohort of version 2 or 3 has no answers.
VERSION = 4
#: The versions the reader takes.
READABLE = (2, 3, 4)
MANIFEST = "cohort.json"
TABLES = ("people", "days", "effects", "experiments", "answers")

AGE_BANDS = ("18-29", "30-39", "40-49", "50-59", "60-69", "70+")
SEXES = ("female", "male")
#: Where the day's twitching was (the region reported most that day), as in the journal.
REGIONS = (
    "eyelid", "face", "neck", "shoulder", "arm", "hand", "back", "chest", "abdomen", "thigh",
    "calf", "foot", "other",
)  # fmt: skip
#: The most urgent triage level of the answers a person had that day (docs/answer.md).
LEVELS = ("self_care", "see_doctor_routine", "see_doctor_urgent", "emergency")
#: The daily factors of the journal's registry (journal/factors.py) with the step each
#: personal effect is a rate ratio for (the same steps as ``twitchwise insights``).
FACTORS: dict[str, tuple[float, str]] = {
    "caffeine_mg": (100.0, "100 mg"),
    "sleep_h": (1.0, "1 hour"),
    "water_l": (1.0, "1 litre"),
    "workout_min": (30.0, "30 minutes"),
    "stress": (1.0, "1 point"),
    "alcohol_units": (1.0, "1 unit"),
}

#: The change a self-experiment tested (``twitchwise experiment start KIND``): the knowledge
#: base's kinds, and ``other`` for a change of the person's own (``custom``; its words are
#: never written) or any kind the format does not name.
CHANGES = ("caffeine", "sleep", "magnesium_food", "stretching", "other")

#: What an id of the knowledge base (a question's, a finding's) looks like: never free text.
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
#: The id an answer's list holds in place of an id the knowledge base of the export does not
#: have (recorded with an older one): never the recorded id itself.
OTHER_ID = "other"
#: The answers table's list columns, whose ids come from the manifest's list of the same name.
ANSWER_IDS = ("questions", "findings")

#: Every table's columns: name -> (Arrow type name, nullable). The reader refuses any other.
COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "people": {
        "person_id": ("string", False),
        "age_band": ("string", True),
        "sex": ("string", True),
    },
    "days": {
        "person_id": ("string", False),
        "date": ("date32", False),
        "twitch_count": ("int32", False),
        "region": ("string", True),
        "triage_level": ("string", True),
        **{factor: ("float64", True) for factor in FACTORS},
    },
    "effects": {
        "person_id": ("string", False),
        "factor": ("string", False),
        "lag_days": ("int32", False),
        "log_rr": ("float64", False),
        "se": ("float64", False),
        "n_days": ("int32", False),
    },
    "experiments": {
        "person_id": ("string", False),
        "change": ("string", False),
        "start_date": ("date32", False),
        "block_days": ("int32", False),
        "blocks": ("int32", False),
        "blocks_analysed": ("int32", False),
        "days": ("int32", False),
        "days_analysed": ("int32", False),
        "usual_days": ("int32", False),
        "change_days": ("int32", False),
        "usual_twitches": ("int32", False),
        "change_twitches": ("int32", False),
        "adherence": ("float64", True),
        "stopped_early": ("bool", False),
        "log_rr": ("float64", True),
        "se": ("float64", True),
        "dispersion": ("float64", True),
    },
    "answers": {
        "person_id": ("string", False),
        "date": ("date32", False),
        "triage_level": ("string", False),
        "questions": ("list<string>", False),
        "findings": ("list<string>", False),
        "not_understood": ("int32", False),
    },
}
#: The experiments table's columns version 3 added: the analysed days and the twitches on
#: them under each condition, and the blocks' Pearson dispersion.
COUNTS = ("usual_days", "change_days", "usual_twitches", "change_twitches", "dispersion")


def tables_of(version: int = VERSION) -> tuple[str, ...]:
    """The tables of a cohort of format ``version`` (no answers before version 4)."""
    return TABLES if version >= 4 else tuple(t for t in TABLES if t != "answers")


def columns_of(table: str, version: int = VERSION) -> dict[str, tuple[str, bool]]:
    """The columns of ``table`` in a cohort of format ``version`` (name -> (type, nullable))."""
    if table == "experiments" and version < 3:
        return {name: kind for name, kind in COLUMNS[table].items() if name not in COUNTS}
    return COLUMNS[table]


#: The vocabulary of each string column (the person id aside).
VOCABULARY: dict[tuple[str, str], tuple[str, ...]] = {
    ("people", "age_band"): AGE_BANDS,
    ("people", "sex"): SEXES,
    ("days", "region"): REGIONS,
    ("days", "triage_level"): LEVELS,
    ("effects", "factor"): tuple(FACTORS),
    ("experiments", "change"): CHANGES,
    ("answers", "triage_level"): LEVELS,
}

#: The Hive partition column every table carries in its folder names.
PARTITION = "bucket"


@dataclass(frozen=True, slots=True)
class Manifest:
    """``cohort.json``: what the folder holds."""

    people: int
    first_day: str
    last_day: str
    buckets: int
    source: str
    version: int = VERSION
    #: The ids the answers' ``questions`` and ``findings`` may hold (besides
    #: :data:`OTHER_ID`): the knowledge base's at the export (version 4; none before).
    questions: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "format": FORMAT,
            "version": self.version,
            "people": self.people,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "buckets": self.buckets,
            "factors": list(FACTORS),
            "changes": list(CHANGES),
        }
        if self.version >= 4:
            out |= {"questions": list(self.questions), "findings": list(self.findings)}
        return out | {"source": self.source}

    def vocabulary(self) -> dict[str, tuple[str, ...]]:
        """The ids each list column of the answers table may hold (:data:`OTHER_ID` too)."""
        return {"questions": (*self.questions, OTHER_ID), "findings": (*self.findings, OTHER_ID)}


def answer_ids(ids: Iterable[str], name: str) -> tuple[str, ...]:
    """A vocabulary of ids (the manifest's ``questions`` or ``findings``), checked: each an id
    of the knowledge base's form, none twice, :data:`OTHER_ID` not among them."""
    out = tuple(ids)
    bad = [i for i in out if not isinstance(i, str) or not _ID.fullmatch(i) or i == OTHER_ID]
    if bad or len(set(out)) != len(out):
        raise InputError(
            f"the cohort's {name} must be distinct ids of the knowledge base (lower case "
            f"letters, digits and _), not {sorted(map(str, bad))[:3] or 'an id twice'}",
            field="dir",
        )
    return out


def bucket_of(person_id: str, buckets: int) -> int:
    """The partition of a person: their id (hexadecimal) modulo the number of buckets."""
    return int(person_id, 16) % buckets


def read_manifest(path: Path) -> Manifest:
    """The manifest of the cohort folder ``path``; :class:`InputError` for a folder that is
    missing or is not a cohort of a version this twitchwise reads."""
    if not path.exists():
        raise InputError(
            f"no folder {path}: give the folder of a cohort (cohort.json, people/, days/, "
            "effects/, experiments/, answers/), for example one made with 'python "
            "bench/cohort_synth.py OUT'",
            field="dir",
        )
    if not path.is_dir():
        raise InputError(f"{path} is not a folder: give the folder of a cohort", field="dir")
    manifest = path / MANIFEST
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path} is not a twitchwise cohort (it has no {MANIFEST}): give the folder "
            "'twitchwise cohort export' or 'python bench/cohort_synth.py' wrote",
            field="dir",
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {manifest}: {exc}", field="dir") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(
            f"{manifest} is not a twitchwise cohort manifest (format is not {FORMAT!r})",
            field="dir",
        )
    if data.get("version") not in READABLE:
        raise InputError(
            f"{path} is a cohort of format version {data.get('version')!r}; this twitchwise "
            f"reads versions {READABLE[0]} to {VERSION}: export it again with this version",
            field="dir",
        )
    for table in tables_of(data["version"]):
        if not any((path / table).glob(f"{PARTITION}=*/*.parquet")):
            raise InputError(
                f"{path} is not a complete cohort: {table}/ holds no Parquet file "
                f"({table}/{PARTITION}=NNN/part-0.parquet)",
                field="dir",
            )
    try:
        return Manifest(
            people=int(data["people"]),
            first_day=str(data["first_day"]),
            last_day=str(data["last_day"]),
            buckets=int(data["buckets"]),
            source=str(data.get("source", "")),
            version=int(data["version"]),
            questions=answer_ids(data["questions"], "questions") if data["version"] >= 4 else (),
            findings=answer_ids(data["findings"], "findings") if data["version"] >= 4 else (),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{manifest} lacks or garbles {exc}", field="dir") from None


def check_columns(table: str, names: Iterable[str], version: int = VERSION) -> None:
    """Refuse a table whose columns are not exactly those of the format's ``version`` (with
    its partition)."""
    found = set(names) - {PARTITION}
    wanted = set(columns_of(table, version))
    if found == wanted:
        return
    problems = []
    if wanted - found:
        problems.append(f"lacks {', '.join(sorted(wanted - found))}")
    if found - wanted:
        problems.append(
            f"has columns the format does not allow ({', '.join(sorted(found - wanted))}); a "
            "cohort holds no free text and nothing beyond docs/cohort.md"
        )
    raise InputError(f"the cohort's {table} table {' and '.join(problems)}", field="dir")


def _arrow_schema(table: str) -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "date32": pa.date32(), "int32": pa.int32(),
             "float64": pa.float64(), "bool": pa.bool_(),
             "list<string>": pa.list_(pa.string())}  # fmt: skip
    return pa.schema(
        [pa.field(name, types[kind], nullable=nullable)
         for name, (kind, nullable) in COLUMNS[table].items()]
    )  # fmt: skip


def _check_values(
    table: str, whole: Any, vocabulary: Mapping[str, Sequence[str]] | None = None
) -> None:
    """Refuse values outside the format; ``vocabulary``: the ids the answers' lists may hold
    (:meth:`Manifest.vocabulary`)."""
    import pyarrow.compute as pc

    for (owner, name), allowed in VOCABULARY.items():
        if owner != table:
            continue
        found = pc.unique(whole.column(name).drop_null()).to_pylist()
        bad = sorted(set(found) - set(allowed))
        if bad:
            raise InputError(f"{table}.{name} holds values outside the format: {bad}")
    if table == "effects" and whole.num_rows:
        se = whole.column("se")
        if pc.any(pc.invert(pc.greater(se, 0.0))).as_py() or not pc.all(pc.is_finite(se)).as_py():
            raise InputError("effects.se must be finite and above 0")
    if table == "experiments" and whole.num_rows:
        rows = whole.to_pylist()
        for row in rows:
            problem = experiment_problem(row)
            if problem:
                raise InputError(f"experiments: {problem}")
    if table == "answers" and whole.num_rows:
        if vocabulary is None:
            raise InputError("answers need the ids their lists may hold (the manifest's)")
        for row in whole.select(["questions", "findings", "not_understood"]).to_pylist():
            problem = answer_problem(row, vocabulary)
            if problem:
                raise InputError(f"answers: {problem}")


def answer_problem(row: Mapping[str, Any], vocabulary: Mapping[str, Sequence[str]]) -> str | None:
    """What is wrong with one row of the answers table (None: nothing): its lists hold ids of
    the ``vocabulary`` (:meth:`Manifest.vocabulary`), none twice, and its count of words not
    understood is 0 or more. The report's reader runs the same checks in the engine
    (:func:`.queries.answer_problems`)."""
    for name in ANSWER_IDS:
        ids = row[name]
        if ids is None:
            return f"{name} must be a list (empty for none)"
        allowed = set(vocabulary[name])
        if not all(i in allowed for i in ids):
            return f"{name} holds values outside the cohort's {name}"
        if len(set(ids)) != len(ids):
            return f"{name} holds an id twice"
    count = row["not_understood"]
    if count is None or count < 0:
        return "not_understood must be 0 or more"
    return None


def experiment_problem(row: Mapping[str, Any]) -> str | None:
    """What is wrong with one row of the experiments table (None: nothing): the effect and
    its error come together, the error finite and above 0, an effect only from 3 analysed
    blocks, counts that fit inside each other, adherence a share; in a row of version 3, the
    days of the two conditions add up to the days analysed, twitches are not negative, an
    effect has days of each condition, a twitch and its dispersion (finite, not negative) and
    a row without one has none. The report's reader runs the same checks in the engine
    (:func:`.queries.experiment_problems`)."""
    log_rr, se = row["log_rr"], row["se"]
    if (log_rr is None) != (se is None):
        return "log_rr and se must both be given or both be null"
    if se is not None and not (0 < se < math.inf and math.isfinite(log_rr)):
        return "se must be finite and above 0, log_rr finite"
    if log_rr is not None and row["blocks_analysed"] < 3:
        return "an effect needs at least 3 analysed blocks"
    if not 0 <= row["blocks_analysed"] <= row["blocks"] or row["block_days"] < 1:
        return "blocks_analysed must be from 0 to blocks, block_days at least 1"
    if not 0 <= row["days_analysed"] <= row["days"]:
        return "days_analysed must be from 0 to days"
    adherence = row["adherence"]
    if adherence is not None and not 0 <= adherence <= 1:
        return "adherence must be a share from 0 to 1"
    if "usual_days" in row:
        return _count_problem(row)
    return None


def _count_problem(row: Mapping[str, Any]) -> str | None:
    """What is wrong with a row's counts (format version 3), None if nothing."""
    usual, change = row["usual_days"], row["change_days"]
    if min(usual, change, row["usual_twitches"], row["change_twitches"]) < 0:
        return "days and twitches of each condition cannot be negative"
    if usual + change != row["days_analysed"]:
        return "usual_days and change_days must add up to days_analysed"
    dispersion = row["dispersion"]
    if (dispersion is None) != (row["log_rr"] is None):
        return "dispersion must be given exactly when the effect is"
    if dispersion is not None:
        if not (math.isfinite(dispersion) and dispersion >= 0):
            return "dispersion must be finite and not negative"
        if not (usual and change and row["usual_twitches"] + row["change_twitches"]):
            return "an effect needs days of each condition and a twitch"
    return None


def write_table(
    root: Path,
    table: str,
    columns: Mapping[str, Sequence[Any]],
    buckets: int,
    vocabulary: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Write one table of the format, partitioned by bucket, from columns of Python or numpy
    values (the same length each, in the format's column order or any); ``vocabulary`` for
    the answers table (:meth:`Manifest.vocabulary`)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(table)
    arrays = [pa.array(columns[f.name], type=f.type, from_pandas=True) for f in schema]
    whole = pa.Table.from_arrays(arrays, schema=schema)
    _check_values(table, whole, vocabulary)
    ids = columns["person_id"]
    of = np.fromiter((bucket_of(p, buckets) for p in ids), dtype=np.int64, count=len(ids))
    for bucket in range(buckets):
        rows = np.flatnonzero(of == bucket)
        folder = root / table / f"{PARTITION}={bucket:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(whole.take(pa.array(rows)), folder / "part-0.parquet",
                       compression="zstd", row_group_size=1 << 20)  # fmt: skip


def write_cohort(
    root: Path,
    *,
    people: Mapping[str, Sequence[Any]],
    days: Mapping[str, Sequence[Any]],
    effects: Mapping[str, Sequence[Any]],
    experiments: Mapping[str, Sequence[Any]] | None = None,
    answers: Mapping[str, Sequence[Any]] | None = None,
    questions: Sequence[str] = (),
    findings: Sequence[str] = (),
    buckets: int,
    source: str,
) -> Manifest:
    """Write a whole cohort into the folder ``root`` (created; it must hold no cohort yet);
    ``experiments`` or ``answers`` None writes an empty table; ``questions`` and ``findings``
    are the ids the answers' lists may hold (the knowledge base's)."""
    if (root / MANIFEST).exists():
        raise InputError(f"{root} already holds a cohort: choose an empty folder")
    root.mkdir(parents=True, exist_ok=True)
    if experiments is None:
        experiments = {name: [] for name in COLUMNS["experiments"]}
    if answers is None:
        answers = {name: [] for name in COLUMNS["answers"]}
    import numpy as np

    dates = np.asarray(days["date"], dtype="datetime64[D]")
    manifest = Manifest(
        people=len(people["person_id"]),
        first_day=str(dates.min()),
        last_day=str(dates.max()),
        buckets=buckets,
        source=source,
        questions=answer_ids(questions, "questions"),
        findings=answer_ids(findings, "findings"),
    )
    for table, columns in (("people", people), ("days", days), ("effects", effects),
                           ("experiments", experiments), ("answers", answers)):  # fmt: skip
        check_columns(table, columns)
        write_table(root, table, columns, buckets, manifest.vocabulary())
    (root / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", "utf-8")
    return manifest
