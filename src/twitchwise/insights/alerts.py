"""Alerts when the pattern in the journal is itself a warning sign, through ``ask``'s triage.

The journal's episodes become findings, and :func:`twitchwise.reason.triage.triage` (the same
rules as ``twitchwise ask``) decides whether any of them is a red flag. Two kinds of finding
sets go through the rules, and every rule that fires on either is an alert:

**The whole pattern**

=========================== ================================================================
Finding                     From the journal
=========================== ================================================================
``twitching``               any episode
``duration_days``           the current stretch of twitch days spans 2 to 14 days
``duration_over_2_weeks``   the current stretch (twitch days with no gap over
                            :data:`MAX_GAP_DAYS` days) lasts more than 14 days
``duration_over_3_months``  ... more than 90 days
``multiple_sites``          episodes in at least 2 body sites in the last :data:`WINDOW_DAYS`
                            (a site is an area such as the face or trunk; an arm or a leg
                            counts per side, so both calves are two sites)
``spreading``               in the current stretch of twitching, at least
                            :data:`SPREAD_NEW_SITES` sites that were not there in its first
                            week, first seen on different days
(whatever the notes say)    the notes of the last :data:`WINDOW_DAYS` read by the
                            understanding layer, with the episode's date as "today":
                            "my grip feels weak" is ``weakness``; denied findings are left out
=========================== ================================================================

**Each region of the last** :data:`WINDOW_DAYS` **on its own**: ``twitching``, the region, its
own duration (the stretch of *its* days) and what *its* notes say. A rule about one region is
so judged on that region alone: a 10-day eyelid flicker during months of calf twitching is not
"an eyelid twitch for more than 3 months".

"The last :data:`WINDOW_DAYS`" and "the current stretch" end at the latest episode, so a
journal read long after its last entry still describes the pattern it recorded. Every alert
says which records produced it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from twitchwise.insights.source import NOTES_DAYS, summarise
from twitchwise.knowledge.schema import TriageLevel
from twitchwise.reason.triage import triage
from twitchwise.text import plural as _plural

if TYPE_CHECKING:
    from twitchwise.insights.source import Source
    from twitchwise.journal.summary import EpisodeGroup, EpisodeNote
    from twitchwise.knowledge.load import KnowledgeBase
    from twitchwise.understand.parse import Parser

__all__ = [
    "MAX_GAP_DAYS",
    "SPREAD_NEW_SITES",
    "WINDOW_DAYS",
    "Alert",
    "PatternFindings",
    "alerts_for",
    "pattern_findings",
]

#: Regions, sites and notes are read from the episodes of this many days up to the latest.
WINDOW_DAYS = NOTES_DAYS
#: Twitch days at most this far apart belong to one stretch of twitching.
MAX_GAP_DAYS = 7
#: Days at the start of a stretch whose sites are where the twitching "began".
BASELINE_DAYS = 7
#: Spreading: at least this many sites new since the first week, first seen on different days.
SPREAD_NEW_SITES = 2
LIMB_AREAS = ("arm", "leg")
#: Findings of these kinds read from notes are not used: regions and sides come from the
#: episodes themselves, and cues are never findings on their own.
_NOTE_KINDS_SKIPPED = ("cue", "region", "side")


@dataclass(frozen=True, slots=True)
class Alert:
    """One red-flag rule that the journal's pattern fires."""

    level: TriageLevel
    finding: str
    rule: str
    text: str
    source: str
    pattern: str

    def to_dict(self) -> dict[str, str]:
        return {
            "level": self.level.value,
            "finding": self.finding,
            "rule": self.rule,
            "text": self.text,
            "source": self.source,
            "pattern": self.pattern,
        }


@dataclass
class PatternFindings:
    """Findings read from the journal, each with what in the journal shows it.

    ``present`` is the whole pattern (without regions); ``regions`` holds, for each region
    of the last :data:`WINDOW_DAYS`, that region's own findings (the region, how long *it*
    has lasted, what its notes say), so that a rule about one region ("an eyelid twitch for
    more than 3 months") is judged on that region's episodes alone.
    """

    present: dict[str, str]
    regions: dict[str, dict[str, str]] = field(default_factory=dict)
    latest: date | None = None
    stretch_start: date | None = None
    sites: tuple[str, ...] = ()


def alerts_for(data: Source, kb: KnowledgeBase, parser: Parser) -> list[Alert]:
    """The alerts of the journal's pattern, most urgent first (empty when nothing fires).

    The whole pattern and each region's own findings go through the triage rules in turn;
    every rule that fires on any of them is an alert (once, with the first reason found).
    ``parser`` reads the episodes' notes.
    """
    found = pattern_findings(data, kb, parser)
    alerts: dict[str, Alert] = {}
    for findings in (found.present, *found.regions.values()):
        if not findings:
            continue
        present = frozenset(f for fid in findings for f in kb.closure.get(fid, {fid}))
        for r in triage(kb, present).reasons:
            if r.rule not in alerts:
                alerts[r.rule] = Alert(
                    level=r.level,
                    finding=r.finding,
                    rule=r.rule,
                    text=r.text,
                    source=r.source,
                    pattern=_why(r.finding, findings, kb),
                )
    return sorted(alerts.values(), key=lambda a: (-a.level.rank, a.rule))


def _why(finding: str, findings: dict[str, str], kb: KnowledgeBase) -> str:
    if finding in findings:
        return findings[finding]
    for fid, text in findings.items():  # an implied finding: say what implied it
        if finding in kb.closure.get(fid, ()):
            return text
    return "From the journal."


def pattern_findings(data: Source, kb: KnowledgeBase, parser: Parser) -> PatternFindings:
    """The findings the journal's episodes and notes show (see the module docstring).

    They need the episodes counted per date, region and side, and the notes of the last
    :data:`WINDOW_DAYS`: a summary of the journal (:mod:`twitchwise.insights.source`) is
    enough. Groups come in the order of their first episode by date and time, so places
    are listed in the order they were first logged."""
    summary = summarise(data)
    groups = summary.groups
    if not groups:
        return PatternFindings({})
    days = sorted({g.date for g in groups})
    latest = days[-1]
    stretch_start = _stretch_start(days)
    window_start = latest - timedelta(days=WINDOW_DAYS - 1)
    if summary.notes_from is not None and summary.notes_from > window_start:
        raise ValueError(
            f"the journal's summary holds the notes from {summary.notes_from} on; the alerts "
            f"read them from {window_start}: summarise it with notes_days={WINDOW_DAYS}"
        )
    recent = [g for g in groups if g.date >= window_start]
    recent_notes = [n for n in summary.notes if n.date >= window_start]
    present: dict[str, str] = {
        "twitching": (
            f"{_plural(summary.episodes, 'twitch episode')} logged, the latest on {latest}."
        )
    }
    present.update(_duration(days, "Twitching"))

    # where: several sites, spreading
    sites = _sites(recent, kb)
    if len(sites) >= 2:
        names = sorted(sites, key=lambda s: sites[s])
        present["multiple_sites"] = (
            f"Twitching logged in {len(sites)} places in the {WINDOW_DAYS} days to {latest}: "
            f"{', '.join(names)}."
        )
    stretch = [g for g in recent if g.date >= stretch_start]
    spread = _spreading(stretch, kb)
    if spread:
        present["spreading"] = spread

    # what the notes say
    notes = _note_findings(recent_notes, kb, parser)
    for fid, text in notes.items():
        present.setdefault(fid, text)

    # each region on its own
    by_region: dict[str, list[EpisodeGroup]] = defaultdict(list)
    for g in groups:
        region = g.region
        if region and region in kb.findings and kb.findings[region].kind == "region":
            by_region[region].append(g)
    regions: dict[str, dict[str, str]] = {}
    for region, items in by_region.items():
        region_days = sorted({g.date for g in items})
        if region_days[-1] < window_start:
            continue
        label = kb.findings[region].label.lower()
        own = {
            "twitching": present["twitching"],
            region: (
                f"Twitching logged in the {label} on {_plural(len(region_days), 'day')}, "
                f"the latest on {region_days[-1]}."
            ),
        }
        own.update(_duration(region_days, f"Twitching in the {label}"))
        region_notes = [n for n in recent_notes if n.region == region]
        for fid, text in _note_findings(region_notes, kb, parser).items():
            own.setdefault(fid, text)
        regions[region] = own
    return PatternFindings(present, regions, latest, stretch_start, tuple(sites))


def _duration(days: list[date], what: str) -> dict[str, str]:
    """duration_over_2_weeks (and _over_3_months) when the latest stretch of ``days`` is long."""
    start, latest = _stretch_start(days), days[-1]
    span = (latest - start).days + 1
    if span < 2:
        return {}
    if span <= 14:
        return {"duration_days": f"{what} logged from {start} to {latest} ({span} days)."}
    logged = sum(1 for d in days if d >= start)
    text = (
        f"{what} logged on {_plural(logged, 'day')} from {start} to {latest} ({span} days) "
        f"with no break longer than {MAX_GAP_DAYS} days."
    )
    out = {"duration_over_2_weeks": text}
    if span > 90:
        out["duration_over_3_months"] = text
    return out


def _stretch_start(days: list[date]) -> date:
    """The first day of the latest run of twitch days with no gap over MAX_GAP_DAYS."""
    start = days[-1]
    for earlier in reversed(days[:-1]):
        if (start - earlier).days > MAX_GAP_DAYS:
            break
        start = earlier
    return start


def _site_names(episode: EpisodeGroup, kb: KnowledgeBase) -> list[str]:
    region = episode.region
    if not region or region not in kb.findings:
        return []
    finding = kb.findings[region]
    area = finding.area or region.removeprefix("region_")
    if area not in LIMB_AREAS:
        return [area]
    side = episode.side
    if side in ("left", "right"):
        return [f"{side} {area}"]
    if side == "both":
        return [f"left {area}", f"right {area}"]
    return [area]


def _sites(episodes: list[EpisodeGroup], kb: KnowledgeBase) -> dict[str, date]:
    """Each body site with its first day; a limb without a side counts only if neither of its
    sides is known (it may be either)."""
    first: dict[str, date] = {}
    for e in episodes:
        day = e.date
        for name in _site_names(e, kb):
            if name not in first or day < first[name]:
                first[name] = day
    for area in LIMB_AREAS:
        if area in first and (f"left {area}" in first or f"right {area}" in first):
            del first[area]
    return first


def _spreading(stretch: list[EpisodeGroup], kb: KnowledgeBase) -> str | None:
    sites = _sites(stretch, kb)
    if not sites:
        return None
    baseline_end = min(sites.values()) + timedelta(days=BASELINE_DAYS - 1)
    began = sorted(name for name, day in sites.items() if day <= baseline_end)
    new = sorted(
        ((day, name) for name, day in sites.items() if day > baseline_end),
        key=lambda item: item[0],
    )
    if len(new) < SPREAD_NEW_SITES or len({day for day, _ in new}) < 2:
        return None
    steps = ", then ".join(f"{name} ({day})" for day, name in new)
    return f"Twitching began in the {_join(began)} and spread to the {steps}."


def _note_findings(notes: list[EpisodeNote], kb: KnowledgeBase, parser: Parser) -> dict[str, str]:
    """Findings the notes state (not denied), each with the first note that says it."""
    out: dict[str, str] = {}
    seen: set[tuple[str, date]] = set()
    for n in notes:
        note = n.text
        if (note, n.date) in seen:
            continue
        seen.add((note, n.date))
        evidence = parser.parse(note, today=n.date)
        for fid in sorted(evidence.present):
            finding = kb.findings.get(fid)
            if finding is None or finding.kind in _NOTE_KINDS_SKIPPED or fid in out:
                continue
            quoted = note if len(note) <= 120 else note[:117] + "..."
            out[fid] = f'Your note on {n.date}: "{quoted}"'
    return out


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
