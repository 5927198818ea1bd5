"""The cohort format: the Parquet files ``twitchwise cohort export`` writes and
``twitchwise cohort report`` reads (docs/cohort.md#the-format).

::

    DIR/
      cohort.json                         the manifest: format, version, people, days, buckets
      people/bucket=000/part-0.parquet    one row per person
      days/bucket=000/part-0.parquet      one row per person and day
      effects/bucket=000/part-0.parquet   one row per person, factor and lag: the personal effect

Every table is partitioned the same way (Hive style): a person's rows all sit in the bucket
``int(person_id, 16) % buckets``, so an exporter writes one bucket at a time and a reader
can take a person whole from one file. There is no free text anywhere: every string column
holds a value of a closed vocabulary (below) or the pseudonymous person id (random in a
synthetic cohort, a keyed hash in an export: :mod:`.export`), never shown in a report.

pyarrow is imported inside the functions that write (the ``cohort`` extra).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from twitchwise.errors import InputError

__all__ = [
    "AGE_BANDS",
    "COLUMNS",
    "FACTORS",
    "FORMAT",
    "LEVELS",
    "MANIFEST",
    "REGIONS",
    "SEXES",
    "TABLES",
    "VERSION",
    "Manifest",
    "bucket_of",
    "read_manifest",
    "write_cohort",
]

FORMAT = "twitchwise-cohort"
VERSION = 1
MANIFEST = "cohort.json"
TABLES = ("people", "days", "effects")

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
}

#: The vocabulary of each string column (the person id aside).
VOCABULARY: dict[tuple[str, str], tuple[str, ...]] = {
    ("people", "age_band"): AGE_BANDS,
    ("people", "sex"): SEXES,
    ("days", "region"): REGIONS,
    ("days", "triage_level"): LEVELS,
    ("effects", "factor"): tuple(FACTORS),
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "people": self.people,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "buckets": self.buckets,
            "factors": list(FACTORS),
            "source": self.source,
        }


def bucket_of(person_id: str, buckets: int) -> int:
    """The partition of a person: their id (hexadecimal) modulo the number of buckets."""
    return int(person_id, 16) % buckets


def read_manifest(path: Path) -> Manifest:
    """The manifest of the cohort folder ``path``; :class:`InputError` for a folder that is
    missing or is not a cohort of a version this twitchwise reads."""
    if not path.exists():
        raise InputError(
            f"no folder {path}: give the folder of a cohort (cohort.json, people/, days/, "
            "effects/), for example one made with 'python bench/cohort_synth.py OUT'",
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
    if data.get("version") != VERSION:
        raise InputError(
            f"{path} is a cohort of format version {data.get('version')!r}; this twitchwise "
            f"reads version {VERSION}: export it again with this version",
            field="dir",
        )
    for table in TABLES:
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
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{manifest} lacks or garbles {exc}", field="dir") from None


def check_columns(table: str, names: Iterable[str]) -> None:
    """Refuse a table whose columns are not exactly the format's (with its partition)."""
    found = set(names) - {PARTITION}
    wanted = set(COLUMNS[table])
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
             "float64": pa.float64()}  # fmt: skip
    return pa.schema(
        [pa.field(name, types[kind], nullable=nullable)
         for name, (kind, nullable) in COLUMNS[table].items()]
    )  # fmt: skip


def _check_values(table: str, whole: Any) -> None:
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


def write_table(root: Path, table: str, columns: Mapping[str, Sequence[Any]], buckets: int) -> None:
    """Write one table of the format, partitioned by bucket, from columns of Python or numpy
    values (the same length each, in the format's column order or any)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _arrow_schema(table)
    arrays = [pa.array(columns[f.name], type=f.type, from_pandas=True) for f in schema]
    whole = pa.Table.from_arrays(arrays, schema=schema)
    _check_values(table, whole)
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
    buckets: int,
    source: str,
) -> Manifest:
    """Write a whole cohort into the folder ``root`` (created; it must hold no cohort yet)."""
    if (root / MANIFEST).exists():
        raise InputError(f"{root} already holds a cohort: choose an empty folder")
    root.mkdir(parents=True, exist_ok=True)
    for table, columns in (("people", people), ("days", days), ("effects", effects)):
        check_columns(table, columns)
        write_table(root, table, columns, buckets)
    import numpy as np

    dates = np.asarray(days["date"], dtype="datetime64[D]")
    manifest = Manifest(
        people=len(people["person_id"]),
        first_day=str(dates.min()),
        last_day=str(dates.max()),
        buckets=buckets,
        source=source,
    )
    (root / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2) + "\n", "utf-8")
    return manifest
