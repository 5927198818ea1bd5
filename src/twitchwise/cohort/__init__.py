"""Population analytics over a cohort of pseudonymous journals (issue 16, docs/cohort.md).

::

    twitchwise.cohort
     ├── format    the Parquet cohort format (people, days, effects, experiments, answers)
     ├── engines   DuckDB (embedded, the default) and Spark (PySpark), both through Ibis
     ├── queries   every query, written once with Ibis
     ├── meta      random-effects meta-analysis: DerSimonian-Laird (factors), from the counts
     │             (self-experiments)
     ├── effects   one quasi-Poisson model per person: the effects table's rows
     └── report    the report with its small-cell rule: JSON, terminal, HTML

A layer of its own: it imports only :mod:`twitchwise.errors`, the t distribution and the
personal model of :mod:`twitchwise.insights.stats` and (for the export) what an experiment's
result holds (:mod:`twitchwise.insights.experiment`); only the command line and the
application object import it. ibis, duckdb, pyspark, pyarrow and numpy are imported inside
functions (the ``cohort`` and ``spark`` extras).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twitchwise.cohort.engines import ENGINES, connect
    from twitchwise.cohort.format import read_manifest, write_cohort
    from twitchwise.cohort.meta import dersimonian_laird
    from twitchwise.cohort.report import MIN_CELL, CohortReport, cohort_report

__all__ = [
    "ENGINES",
    "MIN_CELL",
    "CohortReport",
    "cohort_report",
    "connect",
    "dersimonian_laird",
    "read_manifest",
    "write_cohort",
]

_HOMES = {
    "ENGINES": "engines",
    "connect": "engines",
    "read_manifest": "format",
    "write_cohort": "format",
    "dersimonian_laird": "meta",
    "MIN_CELL": "report",
    "CohortReport": "report",
    "cohort_report": "report",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
