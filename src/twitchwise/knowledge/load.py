"""Load and validate the knowledge base.

The YAML files under ``data/`` are read without duplicate keys, validated against the frozen
msgspec models in :mod:`twitchwise.knowledge.schema`, and checked across files (every id
referenced exists, every source is registered, every contract cause is present). All problems
are collected and raised together as one :class:`~twitchwise.errors.KnowledgeError`, each
prefixed with ``file:line``.

The validated knowledge base is cached as a pickle of those models in the user cache folder,
keyed by a hash of the data files, the models' source and the package version, so that the
command line starts fast: a cached start-up imports neither PyYAML nor any validation
framework. Running this module (``python -m twitchwise.knowledge.load``) validates and prints
a summary.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property, lru_cache
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec

from twitchwise.errors import KnowledgeError
from twitchwise.knowledge.schema import (
    CONTRACT_CAUSES,
    Anatomy,
    Cause,
    Finding,
    InterviewQuestion,
    Lexicon,
    Plan,
    RedFlag,
    Review,
    Seeds,
    Source,
    Topic,
    TriageLevel,
    compositions,
)

DATA_DIR = Path(__file__).parent / "data"
#: The code whose source is part of the cache key (see :func:`data_digest`).
_CODE = (Path(__file__), Path(__file__).with_name("schema.py"))
#: Finding kinds that can be red flags (see KnowledgeBase.red_flag_findings).
_FLAG_KINDS = frozenset({"symptom", "pattern", "condition"})
#: Part of the cache key: bump it when what is cached changes shape.
CACHE_FORMAT = 2


@dataclass(frozen=True)
class KnowledgeBase:
    """The validated knowledge base: plain mappings of frozen models, keyed by id."""

    sources: dict[str, Source]
    findings: dict[str, Finding]
    causes: dict[str, Cause]
    red_flags: tuple[RedFlag, ...]
    plan: Plan
    seeds: Seeds
    lexicon: Lexicon
    anatomy: dict[str, Anatomy] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    questions: dict[str, InterviewQuestion] = field(default_factory=dict)
    review: Review = field(default_factory=Review)
    digest: str = ""
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """What the cache stores: the fields, without ``_memo`` (caches of this process) and
        without the values of the cached properties (derived again on first use)."""
        return {f: self.__dict__[f] for f in self.__dataclass_fields__ if f != "_memo"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["_memo"] = {}

    @cached_property
    def closure(self) -> dict[str, frozenset[str]]:
        """For each finding, itself plus every finding it implies (transitively)."""
        out: dict[str, frozenset[str]] = {}
        for fid in self.findings:
            seen: set[str] = set()
            stack = [fid]
            while stack:
                cur = stack.pop()
                if cur in seen:
                    continue
                seen.add(cur)
                stack.extend(self.findings[cur].implies)
            out[fid] = frozenset(seen)
        return out

    @cached_property
    def rule_groups(self) -> tuple[tuple[frozenset[str], ...], ...]:
        """Each red-flag rule's ``all_of`` as sets, in rule order (for fast triage)."""
        return tuple(tuple(frozenset(g) for g in rule.groups()) for rule in self.red_flags)

    @cached_property
    def red_flag_levels(self) -> dict[str, TriageLevel]:
        """Red flags: findings (not regions, sides, ages or durations) that on their own fire an
        urgent or emergency rule, with the most urgent level they reach. The understanding
        layer never denies one on a doubtful reading, and an answer asks about each one read
        with doubt."""
        out: dict[str, TriageLevel] = {}
        for rule in self.red_flags:
            groups = rule.groups()
            if rule.level.rank < TriageLevel.SEE_DOCTOR_URGENT.rank or len(groups) != 1:
                continue
            for f in groups[0]:
                if self.findings[f].kind in _FLAG_KINDS and (
                    f not in out or rule.level.rank > out[f].rank
                ):
                    out[f] = rule.level
        return out

    @property
    def red_flag_findings(self) -> frozenset[str]:
        return frozenset(self.red_flag_levels)

    def source_list(self, ids: Iterable[str]) -> list[Source]:
        return [self.sources[i] for i in dict.fromkeys(ids)]


# --------------------------------------------------------------------------- YAML reading


class _Located:
    """Line numbers of the nodes of one YAML document, keyed by their path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: dict[tuple[Any, ...], int] = {}

    def line_of(self, loc: tuple[Any, ...]) -> int:
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def where(self, loc: tuple[Any, ...]) -> str:
        return self.at(self.line_of(loc))

    def at(self, line: int) -> str:
        rel = self.path.relative_to(DATA_DIR) if self.path.is_relative_to(DATA_DIR) else self.path
        return f"{rel}:{line}"


def _walk(node: Any, loc: tuple[Any, ...], located: _Located, problems: list[str]) -> None:
    import yaml

    located.lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                problems.append(
                    f"{located.at(line)}: duplicate key "
                    f"{key!r} (first at line {seen[key]}); remove one of them"
                )
            seen[key] = line
            _walk(value_node, (*loc, key), located, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), located, problems)


def _read_yaml(path: Path, problems: list[str]) -> tuple[Any, _Located]:
    import yaml  # only when (re)building: a cached start-up never reads YAML

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    located = _Located(path)
    text = path.read_text(encoding="utf-8")
    try:
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, located
            _walk(node, (), located, problems)
            try:
                data = loader.construct_document(node)
            except ValueError as exc:  # a date that does not exist: 2026-02-30
                line = _bad_timestamp_line(node)
                problems.append(f"{located.at(line)}: invalid date: {exc}")
                return None, located
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(f"{located.at(line)}: invalid YAML: {exc}")
        return None, located
    return data, located


def _bad_timestamp_line(node: Any) -> int:
    """The line of the first YAML date or time under ``node`` that does not exist (1 if none
    is found)."""
    import datetime

    import yaml

    stack = [node]
    while stack:
        current = stack.pop(0)
        if isinstance(current, yaml.ScalarNode):
            if current.tag == "tag:yaml.org,2002:timestamp":
                try:
                    datetime.date.fromisoformat(str(current.value)[:10])
                except ValueError:
                    return int(current.start_mark.line) + 1
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(v for pair in current.value for v in pair)
    return 1


def _files(kind: str, data_dir: Path) -> list[Path]:
    folder = data_dir / kind
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _validate_list(
    kind: str, model: type[msgspec.Struct], data_dir: Path, problems: list[str]
) -> list[tuple[Any, str]]:
    """Validate every item of every file of one folder; return (model, location) pairs."""
    out: list[tuple[Any, str]] = []
    for path in _files(kind, data_dir):
        data, located = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{located.where(())}: expected a list of {kind} entries")
            continue
        for index, item in enumerate(data):
            try:
                out.append((msgspec.convert(item, model), located.where((index,))))
            except msgspec.ValidationError:
                problems.extend(_format_errors(item, model, located, (index,)))
    return out


def _validate_merged(
    kind: str, model: type[msgspec.Struct], data_dir: Path, problems: list[str]
) -> Any:
    """Merge the mappings of every file in a folder (lists concatenate), then validate."""
    merged: dict[str, list[Any]] = {}
    for path in _files(kind, data_dir):
        data, located = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{located.where(())}: expected a mapping of sections")
            continue
        for section, items in data.items():
            try:
                msgspec.convert({section: items}, model)
            except msgspec.ValidationError:
                problems.extend(_format_errors({section: items}, model, located, ()))
                continue
            if isinstance(items, list):
                merged.setdefault(section, []).extend(items)
            else:
                merged[section] = items
    try:
        return msgspec.convert(merged, model)
    except msgspec.ValidationError:  # cross-file problems, e.g. merged lists of wrong shape
        problems.extend(
            f"{kind}/: {message} at {_dotted(loc)}" for loc, message in _errors(merged, model, ())
        )
        return msgspec.convert({}, model)


def _format_errors(
    value: Any, model: type[msgspec.Struct], located: _Located, prefix: tuple[Any, ...]
) -> list[str]:
    """Every problem of one entry (``value`` at ``prefix`` in its file) as ``file:line: path:
    message``, the line being that of the offending key."""
    return [
        f"{located.where(loc)}: {_dotted(loc[len(prefix) :]) or 'entry'}: {message}"
        for loc, message in _errors(value, model, prefix)
    ]


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


# --------------------------------------------------------------------------- model errors

_UNKNOWN_KEY = "unknown key; check the spelling against docs/knowledge-base.md"
_PATH_PART = re.compile(r"\.([^.\[`]+)|\[(\d+)\]")


def _errors(value: Any, tp: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    """Every problem of ``value`` as a ``tp``, each with its path.

    msgspec stops at the first problem, so on failure this walks into models (every unknown
    key, every missing field, then each field on its own) and lists of models (each item);
    anything else is reported as msgspec words it, at the path msgspec gives.
    """
    try:
        msgspec.convert(value, tp)
    except msgspec.ValidationError as exc:
        first = _located_message(str(exc), loc)
    else:
        return []
    if first[1].startswith("Invalid enum value") and (choices := _choices(tp)):
        first = (first[0], f"{first[1]}; choose one of: {', '.join(choices)}")
    inner = _unwrap(tp)
    model = _model_in(inner)
    if model is not None and isinstance(value, dict):
        out = _model_errors(value, model, loc)
        if not out:  # every field is fine alone: a check of the model as a whole failed
            out = [_field_problem(first, model)]
        return out
    if get_origin(inner) is list and isinstance(value, list):
        (item_tp,) = get_args(inner)
        if _model_in(_unwrap(item_tp)) is not None:
            items = [e for i, item in enumerate(value) for e in _errors(item, item_tp, (*loc, i))]
            return items or [first]
    return [first]


def _model_errors(
    value: dict[Any, Any], model: type[msgspec.Struct], loc: tuple[Any, ...]
) -> list[tuple[tuple[Any, ...], str]]:
    fields = {f.encode_name: f for f in msgspec.structs.fields(model)}
    out = [((*loc, key), _UNKNOWN_KEY) for key in value if key not in fields]
    for name, info in fields.items():
        if name in value:
            out.extend(_errors(value[name], info.type, (*loc, name)))
        elif info.required:
            out.append(((*loc, name), "required field is missing"))
    return out


def _field_problem(
    error: tuple[tuple[Any, ...], str], model: type[msgspec.Struct]
) -> tuple[tuple[Any, ...], str]:
    """A :class:`~twitchwise.knowledge.schema.FieldProblem` names its field: point at it."""
    loc, message = error
    name, sep, rest = message.partition(": ")
    if sep and name in {f.encode_name for f in msgspec.structs.fields(model)}:
        return (*loc, name), rest
    return error


def _located_message(text: str, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], str]:
    """msgspec's ``message - at `$.a[0].b``` as (``loc`` + ("a", 0, "b"), message)."""
    message, sep, path = text.rpartition(" - at `$")
    if not sep:
        return loc, text
    parts: list[Any] = []
    for match in _PATH_PART.finditer(path):
        key, index = match.groups()
        parts.append(int(index) if index is not None else key)
    return (*loc, *parts), message


def _choices(tp: Any) -> list[str]:
    """The values a ``Literal`` or an enumeration inside ``tp`` allows."""
    if get_origin(tp) is Literal:
        return [str(value) for value in get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [str(member.value) for member in tp]
    return [value for arg in get_args(tp) for value in _choices(arg)]


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def _model_in(tp: Any) -> type[msgspec.Struct] | None:
    """The model ``tp`` is, or the model of an optional model (``Compose | None``)."""
    candidates = get_args(tp) if get_origin(tp) in (Union, UnionType) else (tp,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct):
            return candidate
    return None


# --------------------------------------------------------------------------- cross checks


def _unique(items: list[tuple[Any, str]], what: str, problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    where: dict[str, str] = {}
    for item, loc in items:
        if item.id in out:
            problems.append(f"{loc}: duplicate {what} id {item.id!r} (also at {where[item.id]})")
            continue
        out[item.id] = item
        where[item.id] = loc
    return out


def _check_refs(kb: KnowledgeBase, locs: dict[str, str], problems: list[str]) -> None:
    import difflib

    def need(kind: str, ref: str, pool: dict[str, Any], loc: str) -> None:
        if ref not in pool:
            close = difflib.get_close_matches(ref, list(pool), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{loc}: unknown {kind} {ref!r}{hint}")

    def need_sources(ids: Iterable[str], loc: str) -> None:
        for sid in ids:
            need("source", sid, kb.sources, loc)

    for f in kb.findings.values():
        loc = locs[f"finding:{f.id}"]
        need_sources(f.sources, loc)
        for ref in f.implies:
            need("finding", ref, kb.findings, loc)
        if f.said_of_a_body_part is not None:
            need("finding", f.said_of_a_body_part, kb.findings, loc)
        for combination in compositions(f):
            for group in combination.all_of:
                for ref in group:
                    need("finding", ref, kb.findings, loc)
    for c in kb.causes.values():
        loc = locs[f"cause:{c.id}"]
        need_sources(c.sources, loc)
        seen: set[str] = set()
        for lk in c.likelihoods:
            need("finding", lk.finding, kb.findings, loc)
            if lk.finding in seen:
                problems.append(f"{loc}: cause {c.id!r} lists finding {lk.finding!r} twice")
            seen.add(lk.finding)
        for m in c.modifiers:
            need("finding", m.finding, kb.findings, loc)
    for r in kb.red_flags:
        loc = locs[f"red_flag:{r.id}"]
        need_sources(r.sources, loc)
        for group in r.groups():
            for ref in group:
                need("finding", ref, kb.findings, loc)
        if r.report:
            need("finding", r.report, kb.findings, loc)
    plan = kb.plan
    sourced: list[Any] = [
        *plan.caffeine_drinks,
        *plan.caffeine_limits,
        *plan.fluid_seed_table,
        *plan.fluid_reference,
        *plan.nutrients,
        *plan.advice,
        *plan.doctor_questions,
        *plan.experiments,
    ]
    for entry in sourced:
        need_sources(entry.sources, "plan/")
    nutrient_ids = {n.id: n for n in plan.nutrients}
    for adv in [*plan.advice, *plan.doctor_questions]:
        for ref in adv.nutrients:
            need("nutrient", ref, nutrient_ids, f"plan/ advice {adv.id}")
        for ref in [*adv.when_findings, *adv.when_all, *adv.unless_findings]:
            need("finding", ref, kb.findings, f"plan/ advice {adv.id}")
        for ref in adv.when_causes:
            need("cause", ref, kb.causes, f"plan/ advice {adv.id}")
    for corr in kb.seeds.corrections:
        need_sources(corr.sources, f"seeds/ correction {corr.id}")
    need_sources(kb.lexicon.sources, "lexicon/")
    for rule in kb.lexicon.quantity_rules:
        need("finding", rule.finding, kb.findings, "lexicon/ quantity_rules")
    for cid in CONTRACT_CAUSES:
        if cid not in kb.causes:
            problems.append(f"causes/: contract cause {cid!r} is missing")


def _check_seed_refs(kb: KnowledgeBase, problems: list[str]) -> None:
    pools: dict[str, set[str]] = {
        "cause": set(kb.causes),
        "finding": set(kb.findings),
        "correction": {c.id for c in kb.seeds.corrections},
        "nutrient": {n.id for n in kb.plan.nutrients},
        "drink": {d.id for d in kb.plan.caffeine_drinks},
        "advice": {a.id for a in kb.plan.advice},
        "anatomy": set(kb.anatomy),
    }
    for point in kb.seeds.points:
        for ref in point.represented_by:
            kind, _, value = ref.partition(":")
            if kind in pools and value not in pools[kind]:
                problems.append(f"seeds/ point {point.id}: {ref!r} does not exist")


def _check_topic_refs(kb: KnowledgeBase, locs: dict[str, str], problems: list[str]) -> None:
    """Guide topics: every reference resolves; aliases and seeds are unambiguous."""
    import difflib

    def need(kind: str, ref: str, pool: Iterable[str], loc: str) -> None:
        pool = list(pool)
        if ref not in pool:
            close = difflib.get_close_matches(ref, pool, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{loc}: unknown {kind} {ref!r}{hint}")

    for a in kb.anatomy.values():
        for sid in a.sources:
            need("source", sid, kb.sources, locs[f"anatomy:{a.id}"])
        if a.region is not None:
            regions = (f.id for f in kb.findings.values() if f.kind == "region")
            need("region finding", a.region, regions, locs[f"anatomy:{a.id}"])
    flags = [r.id for r in kb.red_flags]
    corrections = [c.id for c in kb.seeds.corrections]
    names: dict[str, str] = {}
    seeds: dict[str, str] = {}
    for t in kb.topics.values():
        loc = locs[f"topic:{t.id}"]
        cited = [*t.sources, *(s for e in t.emphasis for s in e.sources)]
        cited += [s for f in t.faq for s in f.sources]
        for sid in cited:
            need("source", sid, kb.sources, loc)
        for fid in t.findings:
            need("finding", fid, kb.findings, loc)
        for aid in t.anatomy:
            need("anatomy", aid, kb.anatomy, loc)
        for e in t.emphasis:
            need("cause", e.cause, kb.causes, loc)
        for rid in t.red_flags:
            need("red flag", rid, flags, loc)
        for adv in t.advice:
            need("advice", adv, (a.id for a in kb.plan.advice), loc)
        for cid in t.corrections:
            need("correction", cid, corrections, loc)
        for rel in t.related:
            need("topic", rel, (i for i in kb.topics if i != t.id), loc)
        for name in [t.id, *t.aliases]:
            key = name.lower()
            if key in names and names[key] != t.id:
                problems.append(f"{loc}: topic name {name!r} is also used by {names[key]!r}")
            names[key] = t.id
        if t.seed is not None:
            if t.seed in seeds:
                problems.append(f"{loc}: seed {t.seed!r} is already covered by {seeds[t.seed]!r}")
            seeds[t.seed] = t.id


def _check_questions(kb: KnowledgeBase, locs: dict[str, str], problems: list[str]) -> None:
    """Interview questions: references resolve, options fit the kind, ids stay distinct."""
    drinks = {d.id for d in kb.plan.caffeine_drinks}
    follow_ups = [q.id for q in kb.questions.values() if q.kind == "follow_up"]
    if len(follow_ups) > 1:
        problems.append(f"questions/: only one follow_up question is allowed, not {follow_ups}")
    for q in kb.questions.values():
        loc = f"{locs[f'question:{q.id}']}: question {q.id!r}"
        if q.id in kb.findings:
            problems.append(f"{loc}: a question id must not be a finding id")
        for sid in q.sources:
            if sid not in kb.sources:
                problems.append(f"{loc}: unknown source {sid!r}")
        refs = [f for o in q.options for f in o.findings]
        refs += [q.areas_finding] if q.areas_finding else []
        for ref in refs:
            if ref not in kb.findings:
                problems.append(f"{loc}: unknown finding {ref!r}")
        if q.drink is not None and q.drink not in drinks:
            problems.append(f"{loc}: unknown drink {q.drink!r}")
        if q.kind == "follow_up":
            if q.options:
                problems.append(f"{loc}: a follow_up question gets its options from the red flags")
            continue
        if len(q.options) < 2:
            problems.append(f"{loc}: give at least two options")
        for i, o in enumerate(q.options):
            if q.kind == "quantity" and (o.value is None or o.findings):
                problems.append(f"{loc}: option {i + 1} needs a value (and no findings)")
            if q.kind != "quantity" and (not o.findings or o.value is not None):
                problems.append(f"{loc}: option {i + 1} needs findings (and no value)")
        if (q.kind == "quantity") != (q.quantity is not None):
            problems.append(f"{loc}: 'quantity' goes with kind quantity, and only with it")


def _check_review(kb: KnowledgeBase, problems: list[str]) -> None:
    """The review: a record for the whole knowledge base, records only for topics and causes
    that exist, and no review dated in the future."""
    import difflib
    from datetime import date

    review = kb.review
    if review.site is None:
        problems.append(
            "review/: no 'site' record; give the date, status and reviewer of the last review "
            "of the whole knowledge base"
        )
    pools: tuple[tuple[str, dict[str, Any], dict[str, Any]], ...] = (
        ("topic", review.topics, kb.topics),
        ("cause", review.causes, kb.causes),
    )
    for kind, records, pool in pools:
        for ref in records:
            if ref not in pool:
                close = difflib.get_close_matches(ref, list(pool), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(f"review/: {kind}s: unknown {kind} {ref!r}{hint}")
    dated = [("site", review.site)] if review.site is not None else []
    dated += [(f"topics.{k}", r) for k, r in review.topics.items()]
    dated += [(f"causes.{k}", r) for k, r in review.causes.items()]
    today = date.today()
    for where, record in dated:
        if record.reviewed > today:
            problems.append(
                f"review/: {where}: reviewed {record.reviewed.isoformat()} is in the future"
            )


# --------------------------------------------------------------------------- loading


def build(data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Read and validate every YAML file; raise KnowledgeError listing every problem."""
    problems: list[str] = []
    locs: dict[str, str] = {}

    def keyed(kind: str, model: type[msgspec.Struct], what: str) -> dict[str, Any]:
        items = _validate_list(kind, model, data_dir, problems)
        for item, loc in items:
            locs.setdefault(f"{what}:{item.id}", loc)
        return _unique(items, what, problems)

    sources = keyed("sources", Source, "source")
    findings = keyed("findings", Finding, "finding")
    causes = keyed("causes", Cause, "cause")
    red_flags = keyed("red_flags", RedFlag, "red_flag")
    plan = _validate_merged("plan", Plan, data_dir, problems)
    seeds = _validate_merged("seeds", Seeds, data_dir, problems)
    lexicon_items = _validate_merged_lexicon(data_dir, problems)
    anatomy = keyed("anatomy", Anatomy, "anatomy")
    topics = keyed("topics", Topic, "topic")
    questions = keyed("questions", InterviewQuestion, "question")
    review = _validate_merged("review", Review, data_dir, problems)
    kb = KnowledgeBase(
        sources=sources,
        findings=findings,
        causes=causes,
        red_flags=tuple(red_flags.values()),
        plan=plan,
        seeds=seeds,
        lexicon=lexicon_items,
        anatomy=anatomy,
        topics=topics,
        questions=questions,
        review=review,
        digest=data_digest(data_dir),
    )
    _check_refs(kb, locs, problems)
    _check_seed_refs(kb, problems)
    _check_topic_refs(kb, locs, problems)
    _check_questions(kb, locs, problems)
    _check_review(kb, problems)
    _check_exact_phrases(kb, locs, problems)
    if problems:
        raise KnowledgeError(problems)
    return kb


#: Marks that word-for-word matching drops from a phrase: "stuck ." would match "stuck" alone.
_DROPPED_MARKS = frozenset(".,!?;:()")


def _check_exact_phrases(kb: KnowledgeBase, locs: dict[str, str], problems: list[str]) -> None:
    """A phrase matched word for word says exactly which words; a mark in it is dropped when
    it is matched, so the phrase would match more than it says."""
    lex = kb.lexicon
    lists: list[tuple[str, Iterable[str]]] = [
        (locs[f"finding:{f.id}"], f.exact_phrases) for f in kb.findings.values()
    ]
    lists += [
        ("lexicon/: not_findings", lex.not_findings),
        ("lexicon/: idioms", lex.idioms),
        ("lexicon/: retraction", lex.retraction),
        ("lexicon/: past", (c.phrase for c in lex.past)),
        ("lexicon/: hedged_negation", (c.phrase for c in lex.hedged_negation)),
        ("lexicon/: hypothetical", (c.phrase for c in lex.hypothetical)),
    ]
    for loc, phrases in lists:
        for phrase in phrases:
            if set(phrase) & _DROPPED_MARKS:
                problems.append(
                    f"{loc}: the word-for-word phrase {phrase!r} has a mark that matching drops;"
                    " write the words alone"
                )


def _validate_merged_lexicon(data_dir: Path, problems: list[str]) -> Lexicon:
    merged: dict[str, Any] = {}
    for path in _files("lexicon", data_dir):
        data, located = _read_yaml(path, problems)
        if not isinstance(data, dict):
            problems.append(f"{located.where(())}: expected a mapping")
            continue
        for key, value in data.items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = merged[key] + value
            elif isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    try:
        return msgspec.convert(merged, Lexicon)
    except msgspec.ValidationError:
        problems.extend(
            f"lexicon/: {_dotted(loc)}: {message}" for loc, message in _errors(merged, Lexicon, ())
        )
        return Lexicon(sources=[])


def data_digest(data_dir: Path = DATA_DIR) -> str:
    """The cache key of a knowledge base: the cache format, the package version, the source of
    the models and of this loader (a cache pickled by other code is never loaded), and the
    path and bytes of every YAML file."""
    from twitchwise.__about__ import __version__

    h = hashlib.sha256(f"{CACHE_FORMAT}:{__version__}".encode())
    for source in _CODE:
        h.update(source.read_bytes())
    for path in sorted(data_dir.rglob("*.yaml")):
        h.update(str(path.relative_to(data_dir)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def cache_get(kind: str, digest: str) -> Any:
    """A cached object of this kind for this knowledge digest, or None."""
    path = _cache_path(digest, kind)
    if path is None or not path.is_file():
        return None
    collecting = gc.isenabled()
    # Unpickling creates thousands of containers, which would set off the cyclic garbage
    # collector again and again for nothing (about 3 ms of a start-up): pause it meanwhile.
    gc.disable()
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # noqa: S301 - our own owner-only cache file
    except Exception:  # noqa: BLE001 - a broken cache is rebuilt, never trusted
        return None
    finally:
        if collecting:
            gc.enable()


def cache_put(kind: str, digest: str, value: Any) -> None:
    path = _cache_path(digest, kind)
    if path is not None:
        _write_cache(path, value, kind)


def _cache_path(digest: str, kind: str = "knowledge") -> Path | None:
    from twitchwise.settings import cache_settings

    base, off = cache_settings()
    if off:
        return None
    if base is not None:
        root = base
    else:
        from platformdirs import user_cache_dir

        root = Path(user_cache_dir("twitchwise", appauthor=False))
    return root / f"{kind}-{digest}.pickle"


@lru_cache(maxsize=1)
def load_knowledge() -> KnowledgeBase:
    """The packaged knowledge base, validated once and then served from a local cache."""
    digest = data_digest()
    cached = cache_get("knowledge", digest)
    if isinstance(cached, KnowledgeBase) and cached.digest == digest:
        return cached
    kb = build()
    cache_put("knowledge", digest, kb)
    return kb


def _write_cache(path: Path, value: Any, kind: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for old in path.parent.glob(f"{kind}-*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only home only costs start-up time


def main() -> int:
    try:
        kb = build()
    except KnowledgeError as exc:
        print(exc)  # noqa: T201
        return 1
    print(  # noqa: T201
        f"ok: {len(kb.sources)} sources, {len(kb.findings)} findings, {len(kb.causes)} causes, "
        f"{len(kb.red_flags)} red flags, {len(kb.plan.advice)} advice items, "
        f"{len(kb.seeds.points)} seed points, {len(kb.seeds.corrections)} corrections, "
        f"{len(kb.topics)} guide topics, {len(kb.anatomy)} anatomy entries"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
