"""The engines a cohort's queries run on: DuckDB (embedded, the default) and Apache Spark
(PySpark), both through Ibis, so every query is written once (:mod:`.queries`).

ibis, duckdb and pyspark are imported inside the functions: a missing one is an
:class:`~twitchwise.errors.ConfigError` that names the pip command.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twitchwise.cohort.format import (
    PARTITION,
    VERSION,
    Manifest,
    check_columns,
    columns_of,
    read_manifest,
    tables_of,
)
from twitchwise.errors import ConfigError, InputError

__all__ = ["ENGINES", "Engine", "Tables", "connect", "require", "spark_session"]

ENGINES = ("duckdb", "spark")

#: DuckDB's memory limit for a report (it spills to a temporary folder beyond it).
DUCKDB_MEMORY = "1GB"


@dataclass(frozen=True, slots=True)
class Tables:
    """The tables of a cohort as Ibis tables of one backend (format columns only), and the
    cohort's format version (a cohort of version 2 has no counts in its experiments, one of
    version 2 or 3 no answers: ``answers`` None) and the ids the answers' lists may hold
    (:meth:`.format.Manifest.vocabulary`)."""

    people: Any
    days: Any
    effects: Any
    experiments: Any
    answers: Any = None
    version: int = VERSION
    vocabulary: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(slots=True)
class Engine:
    """An Ibis backend and how it reads a cohort's Parquet files."""

    name: str
    con: Any
    session: Any = None
    _owned: bool = field(default=False, repr=False)

    def tables(self, root: Path, manifest: Manifest | None = None) -> Tables:
        """The tables of the cohort in ``root`` (its ``manifest``: read if not given)."""
        manifest = manifest or read_manifest(root)
        version = manifest.version
        read = {}
        for table in tables_of(version):
            if self.name == "duckdb":
                t = self.con.read_parquet(
                    str(root / table / f"{PARTITION}=*" / "*.parquet"),
                    table_name=f"cohort_{table}",
                    hive_partitioning=True,
                )
            else:
                t = self.con.read_parquet(str(root / table), table_name=f"cohort_{table}")
            check_columns(table, t.columns, version)
            check_types(table, t.schema(), version)
            read[table] = t.select(*columns_of(table, version))
        return Tables(**read, version=version, vocabulary=manifest.vocabulary())

    def rows(self, expr: Any) -> list[dict[str, Any]]:
        """The rows of a query as plain Python values (dates as ``datetime.date``)."""
        return list(self.con.to_pyarrow(expr).to_pylist())

    def close(self) -> None:
        if self._owned and self.session is not None:
            self.session.stop()
        elif self.name == "duckdb":
            self.con.disconnect()


#: The format's column types (:data:`.format.COLUMNS`) as Ibis names their classes.
_IBIS_TYPES = {"string": "String", "date32": "Date", "int32": "Int32", "float64": "Float64",
               "bool": "Boolean", "list<string>": "Array<String>"}  # fmt: skip


def _ibis_type(found: Any) -> str:
    """An Ibis type's class name (a list's with its items': ``Array<String>``)."""
    name = type(found).__name__
    if name == "Array":
        name += f"<{type(found.value_type).__name__}>"
    return name


def check_types(table: str, schema: Any, version: int = VERSION) -> None:
    """Refuse a table whose columns do not have the format's types (a number written as
    text, say), before any query runs."""
    wrong = []
    for name, (kind, _) in columns_of(table, version).items():
        found = schema[name]
        if _ibis_type(found) != _IBIS_TYPES[kind]:
            wrong.append(f"{name} is {str(found).lstrip('!')}, not {_IBIS_TYPES[kind].lower()}")
    if wrong:
        raise InputError(
            f"the cohort's {table} table has columns of the wrong type: {'; '.join(wrong)}",
            field="dir",
        )


def require(engine: str) -> None:
    """Check the engine's name and that its libraries (and Java for Spark) are there."""
    if engine not in ENGINES:
        raise InputError(
            f"unknown engine {engine!r}; use --engine duckdb (the default) or --engine spark",
            field="engine",
            suggestions=ENGINES,
        )
    try:
        import ibis  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        raise ConfigError(
            "cohort analytics need the cohort extra: pip install 'twitchwise[cohort]'"
        ) from None
    if engine == "duckdb":
        try:
            import duckdb  # noqa: F401
        except ImportError:
            raise ConfigError(
                "the DuckDB engine needs the cohort extra: pip install 'twitchwise[cohort]'"
            ) from None
        return
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ConfigError(
            "the Spark engine needs the spark extra: pip install 'twitchwise[cohort,spark]'"
        ) from None
    if not java_available():
        raise ConfigError(
            "the Spark engine needs Java 17 or later: install it (Debian: apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )


def java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and Path(home, "bin", "java").exists():
        return True
    return shutil.which("java") is not None


def spark_session(cores: int = 2, shuffle_partitions: int = 4, memory: str = "2g") -> Any:
    """A local Spark session for cohort queries: ``local[cores]``, no web UI, UTC."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("twitchwise-cohort")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", memory)
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def connect(engine: str = "duckdb", *, session: Any = None) -> Engine:
    """An :class:`Engine` by name; for Spark, on ``session`` if given (else a new local one,
    stopped by :meth:`Engine.close`)."""
    require(engine)
    import ibis

    if engine == "duckdb":
        con = ibis.duckdb.connect(memory_limit=DUCKDB_MEMORY, threads=os.cpu_count() or 2)
        return Engine("duckdb", con)
    owned = session is None
    if owned:
        session = spark_session()
    return Engine("spark", ibis.pyspark.connect(session), session, owned)
