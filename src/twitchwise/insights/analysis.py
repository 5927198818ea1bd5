"""The ``twitchwise insights`` result: effects, alerts and notes, built once and then rendered.

``analyse(journal.read())`` gives an :class:`Insights`; ``to_dict()`` is the JSON shape::

    {"days": N,
     "effects": [{"factor", "lag_days", "effect", "ci": [lo, hi], "p_value", "q_value",
                  "significant", "n_with", "n_without"}],
     "alerts": [{"level", "finding", "rule", "text", "source", "pattern"}],
     "notes": ["..."]}

and ``render_terminal()`` the text for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from twitchwise.errors import ConfigError
from twitchwise.insights.alerts import Alert, alerts_for
from twitchwise.insights.stats import (
    ALPHA,
    MAX_SERIES_DAYS,
    NAMES,
    DailySeries,
    Effect,
    daily_series,
    estimate_effects,
)

if TYPE_CHECKING:
    from twitchwise.insights.source import Source
    from twitchwise.journal.summary import JournalSummary
    from twitchwise.knowledge.load import KnowledgeBase
    from twitchwise.understand.parse import Parser

__all__ = ["INSTALL_HINT", "STATS_MODULES", "Insights", "analyse", "require_extra"]

INSTALL_HINT = "pip install 'twitchwise[insights]'"
#: What the insights need beyond the core: the model is fitted with numpy alone.
STATS_MODULES = ("numpy",)
LAG_WORDS = {0: "same day", 1: "next day", 2: "two days later"}
#: Say how old the pattern is when the latest entry is older than this.
STALE_DAYS = 14


def require_extra(modules: tuple[str, ...] = STATS_MODULES, hint: str = INSTALL_HINT) -> None:
    """A one-line :class:`ConfigError` naming the install command if a module is missing."""
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            raise ConfigError(
                f"this needs the {name} package, which is not installed; run: {hint}"
            ) from None


@dataclass
class Insights:
    """Everything ``twitchwise insights`` reports, computed once."""

    days: int
    effects: list[Effect] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    series: DailySeries | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "effects": [e.to_dict() for e in self.effects],
            "alerts": [a.to_dict() for a in self.alerts],
            "notes": list(self.notes),
        }

    @property
    def triggers(self) -> list[Effect]:
        """Significant effects, strongest evidence first."""
        return sorted((e for e in self.effects if e.significant), key=lambda e: e.q_value)

    def render_terminal(self) -> str:
        return render_terminal(self)


def analyse(
    data: Source, *, kb: KnowledgeBase, parser: Parser, today: date | None = None
) -> Insights:
    """Effects of every factor at lags 0-2, alerts from the pattern (``parser`` reads the
    episodes' notes), and honest notes. ``data`` is the journal read whole or its summary
    (:mod:`twitchwise.insights.source`)."""
    from twitchwise.insights.source import summarise

    data = summarise(data)
    series = daily_series(data)
    result = estimate_effects(series)
    notes: list[str] = list(data.problems)
    days = series.days_with_entries if series is not None else _entry_days(data)
    if series is not None and series.earlier_episodes:
        n = series.earlier_episodes
        notes.append(
            f"{n} twitch episode{'' if n == 1 else 's'} more than {MAX_SERIES_DAYS // 365} "
            f"years before your latest entry {'is' if n == 1 else 'are'} left out: the "
            f"analysis covers {series.start} to {series.end}."
        )
    if series is not None and series.earlier_factor_days:
        first = (
            "your first logged twitch"
            if series.counts[0]
            else "the first day you logged a twitch count"
        )
        notes.append(
            f"{series.earlier_factor_days} days with factors before {first} "
            f"({series.start}) are left out: twitches were not being logged then."
        )
    notes.extend(result.notes)
    alerts = alerts_for(data, kb, parser)
    if series is not None:
        today = today or date.today()
        latest = max(data.day_counts())
        if (today - latest).days > STALE_DAYS:
            notes.append(
                f"Your latest logged twitch was on {latest}; alerts describe the pattern up "
                "to then."
            )
    if alerts:
        notes.append(
            "The alerts come from the same warning-sign rules as 'twitchwise ask'. This is not "
            "a diagnosis: if you are worried, or things change, talk to a doctor."
        )
    return Insights(days, result.effects, alerts, notes, series)


def _entry_days(data: JournalSummary) -> int:
    return len(set(data.day_counts()) | {d.date for d in data.days})


# ---------------------------------------------------------------------- terminal


def describe_effect(e: Effect) -> str:
    """'caffeine, next day: 1.42x twitches per 100 mg (95% CI 1.21-1.66), q = 0.001'."""
    return (
        f"{NAMES[e.factor]}, {LAG_WORDS[e.lag_days]}: {_ratio(e.effect)} twitches per "
        f"{e.step} (95% CI {_ratio(e.ci[0], '')}-{_ratio(e.ci[1])}), {_p('q', e.q_value)}"
    )


def _ratio(value: float, suffix: str = "x") -> str:
    return f"{value:.2f}{suffix}" if value < 100 else f"{value:.3g}{suffix}"


def _p(name: str, value: float) -> str:
    return f"{name} < 0.001" if value < 0.001 else f"{name} = {value:.3f}"


def render_terminal(insights: Insights) -> str:
    lines: list[str] = []
    series = insights.series
    if series is not None:
        lines.append(
            f"Insights from {insights.days} days of journal ({series.start} to {series.end}, "
            f"{series.episodes} twitch episodes)."
        )
    else:
        lines.append(f"Insights from {insights.days} days of journal.")
    if insights.alerts:
        lines += ["", "Alerts (the pattern itself is a warning sign):"]
        for a in insights.alerts:
            lines.append(f"  [{a.level.value}] {a.text}")
            lines.append(f"      Why: {a.pattern} (source: {a.source})")
    lines += ["", "Triggers found (q < 0.05, every factor weighed against the others):"]
    triggers = insights.triggers
    if triggers:
        for e in triggers:
            word = "more" if e.effect > 1 else "fewer"
            lines.append(f"  {describe_effect(e)}; {word} twitches when it is higher")
    else:
        lines.append("  none yet")
    if insights.effects:
        lines += ["", "Every effect tested (rate ratio of the daily twitch count per step):"]
        for e in insights.effects:
            mark = "*" if e.significant else " "
            lines.append(f" {mark} {describe_effect(e)}, {_p('p', e.p_value)}")
        lines.append(
            f"  (* = q < {ALPHA:g}, Benjamini-Hochberg over every factor and lag; in simulated "
            "journals where nothing mattered, about 1 in 20 still showed one; 1.00x is no "
            "effect)"
        )
    if insights.notes:
        lines += ["", "Notes:"]
        lines += [f"  - {note}" for note in insights.notes]
    lines += [
        "",
        "An association in your own data is not proof of cause. Not a diagnosis.",
    ]
    return "\n".join(lines) + "\n"
