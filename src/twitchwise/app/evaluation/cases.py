"""Read and validate a case file: a YAML list of labelled cases (format in docs/eval.md).

Validation is strict, because a silently ignored typo in a label changes a score. Every
problem is found; the first is raised as one :class:`~twitchwise.errors.InputError` line that
names the file and line, the case (its number and id) and what to change.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twitchwise.errors import InputError
from twitchwise.knowledge.schema import TriageLevel

if TYPE_CHECKING:
    from yaml import Node

    from twitchwise.knowledge.load import KnowledgeBase

#: The largest case file read, in bytes (10 MB is some tens of thousands of cases).
MAX_FILE_BYTES = 10 * 1024 * 1024
#: How a case labels a finding (see docs/eval.md for how each is scored).
FINDING_STATUSES = ("present", "denied", "possible", "resolved", "other")
SEXES = ("female", "male")
LEVELS = tuple(level.value for level in TriageLevel)
REQUIRED_KEYS = (
    "id",
    "text",
    "expected_triage",
    "triage_also_acceptable",
    "acceptable_top_causes",
)
OPTIONAL_KEYS = ("age", "sex", "findings")
#: Keys a case may carry for people (or other tools); the scoring ignores them.
IGNORED_KEYS = (
    "category",
    "rationale",
    "source",
    "persona",
    "red_flags_present",
    "negated_findings",
)
KNOWN_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS + IGNORED_KEYS
KEY_LIST = ", ".join(KNOWN_KEYS)
HELP = "see docs/eval.md for the case format"
LIST_CAUSES = "run 'twitchwise causes' to list the ids"
LIST_FINDINGS = "run 'twitchwise findings' to list the ids"


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled case: the text a person wrote and what a careful clinician expects."""

    id: str
    text: str
    expected_triage: TriageLevel
    triage_also_acceptable: tuple[TriageLevel, ...] = ()
    acceptable_top_causes: tuple[str, ...] = ()
    age: int | None = None
    sex: str | None = None
    #: ``(finding id, status)`` pairs in file order; status is one of FINDING_STATUSES.
    findings: tuple[tuple[str, str], ...] = ()
    #: The line the case starts on in its file (1-based), when read from a file.
    line: int | None = None

    @property
    def acceptable_levels(self) -> tuple[TriageLevel, ...]:
        """The expected level and the other levels a clinician would also accept."""
        return (self.expected_triage, *self.triage_also_acceptable)


@dataclass(frozen=True, slots=True)
class _Where:
    """Lines of one case in its file: where it starts and where each key's value is."""

    start: int
    keys: Mapping[str, int]


def load_cases(path: str | os.PathLike[str], *, kb: KnowledgeBase | None = None) -> list[Case]:
    """Read, parse and validate a case file; raise InputError naming the first problem."""
    name = os.fspath(path)
    text = _read(Path(path), name)
    data, where = _parse_yaml(text, name)
    return _validate(data, name, where, kb)


def parse_cases(
    data: object, *, source: str = "<cases>", kb: KnowledgeBase | None = None
) -> list[Case]:
    """Validate cases already loaded into Python (a list of mappings) and return them."""
    return _validate(data, source, None, kb)


# --------------------------------------------------------------------------- reading


def _read(path: Path, name: str) -> str:
    try:
        if path.is_dir():
            raise InputError(f"{name} is a folder; give a YAML file of cases ({HELP})")
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(_too_big(name))
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)  # a pipe or device has no size to check first
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(_too_big(name))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again"
        ) from None


def _too_big(name: str) -> str:
    limit = MAX_FILE_BYTES // (1024 * 1024)
    return f"{name} is larger than {limit} MB; split the cases into smaller files"


def _parse_yaml(text: str, name: str) -> tuple[object, list[_Where] | None]:
    """The YAML's data and, for a list of mappings, the line of each case and value."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_class)
        if node is None:
            return None, None
        duplicate = _duplicate_key(node)
        if duplicate is not None:
            key, line = duplicate
            raise InputError(
                f"{name}:{line}: the key {key!r} appears twice in one mapping; keep one of them"
            )
        loader = loader_class("")
        try:
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        at = f"{name}:{mark.line + 1}" if mark is not None else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{at}: YAML syntax error: {problem}; fix the YAML there") from None
    where: list[_Where] | None = None
    if isinstance(node, yaml.SequenceNode):
        where = []
        for item in node.value:
            keys: dict[str, int] = {}
            if isinstance(item, yaml.MappingNode):
                for key_node, value_node in item.value:
                    key = str(key_node.value)
                    keys[key] = value_node.start_mark.line + 1
                    # one level deeper: a list item or a mapping key (findings) has its own line
                    if isinstance(value_node, yaml.SequenceNode):
                        for i, sub in enumerate(value_node.value):
                            keys[f"{key}[{i}]"] = sub.start_mark.line + 1
                    elif isinstance(value_node, yaml.MappingNode):
                        for sub_key, _ in value_node.value:
                            keys[f"{key}.{sub_key.value}"] = sub_key.start_mark.line + 1
            where.append(_Where(item.start_mark.line + 1, keys))
    return data, where


def _duplicate_key(root: Node) -> tuple[str, int] | None:
    """The first key repeated within one mapping (YAML would silently keep the last)."""
    import yaml

    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:  # aliases share nodes; visit each once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in keys:
                        return str(key_node.value), key_node.start_mark.line + 1
                    keys.add(key_node.value)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


# --------------------------------------------------------------------------- validation


def _validate(
    data: object, name: str, where: list[_Where] | None, kb: KnowledgeBase | None
) -> list[Case]:
    if data is None:
        raise InputError(f"{name} has no cases; write a YAML list of cases ({HELP})")
    if not isinstance(data, list):
        raise InputError(
            f"{name}: expected a YAML list of cases at the top level (each item starting "
            f"with '- id: ...'), not {_kind(data)}; {HELP}"
        )
    if not data:
        raise InputError(f"{name} has no cases; write a YAML list of cases ({HELP})")
    if kb is None:
        from twitchwise.app.core import default

        kb = default().kb
    cause_ids = list(kb.causes)
    finding_ids = [fid for fid, f in kb.findings.items() if f.kind != "cue"]
    problems: list[str] = []
    cases: list[Case] = []
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(data, 1):
        place = where[index - 1] if where is not None else None
        checker = _CaseChecker(name, index, item, place, cause_ids, finding_ids)
        case = checker.check()
        if case is not None and case.id in seen_ids:
            first = seen_ids[case.id]
            checker.problem("id", f"the id {case.id!r} is also case {first}'s; use unique ids")
            case = None
        if case is not None:
            seen_ids[case.id] = index
            cases.append(case)
        problems.extend(checker.problems)
    if problems:
        more = len(problems) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''} in the file)" if more else ""
        raise InputError(problems[0] + tail)
    return cases


class _CaseChecker:
    """Checks one case; collects problems instead of stopping at the first."""

    def __init__(
        self,
        name: str,
        index: int,
        item: object,
        where: _Where | None,
        cause_ids: Sequence[str],
        finding_ids: Sequence[str],
    ) -> None:
        self.name = name
        self.index = index
        self.item = item
        self.where = where
        self.cause_ids = cause_ids
        self.finding_ids = finding_ids
        self._found: list[tuple[int, str]] = []
        self.label = f"case {index}"

    def problem(self, key: str | None, text: str, *, at: str | None = None) -> None:
        """Record a problem at the line of ``at`` (a key path), else of ``key``, else the case."""
        line = None
        if self.where is not None:
            paths = [p for p in (at, key) if p]
            line = next((self.where.keys[p] for p in paths if p in self.where.keys), None)
            line = line or self.where.start
        at = f"{self.name}:{line}" if line is not None else self.name
        self._found.append((line or 0, f"{at}: {self.label}: {text}"))

    @property
    def problems(self) -> list[str]:
        """Every problem found, top to bottom in the file."""
        return [text for _, text in sorted(self._found, key=lambda found: found[0])]

    def check(self) -> Case | None:
        item = self.item
        if not isinstance(item, dict):
            self.problem(
                None,
                f"expected a mapping of keys (id: ..., text: ..., expected_triage: ...), "
                f"not {_kind(item)}",
            )
            return None
        case_id = self._id(item.get("id"))
        if case_id is not None:
            self.label = f"case {self.index} ({case_id})"
        for key in item:
            if key not in KNOWN_KEYS:
                hint = _did_you_mean(str(key), KNOWN_KEYS) or f"; the keys are: {KEY_LIST}"
                self.problem(str(key), f"unknown key {key!r}{hint}")
        missing = [key for key in REQUIRED_KEYS if key not in item]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            self.problem(None, f"missing key{plural} {', '.join(missing)}; {HELP}")
        text = self._text(item.get("text"))
        expected = self._level("expected_triage", item.get("expected_triage"))
        also = self._levels(item.get("triage_also_acceptable", []))
        causes = self._causes(item.get("acceptable_top_causes", []))
        age = self._age(item.get("age"))
        sex = self._sex(item.get("sex"))
        findings = self._findings(item.get("findings"))
        if self._found or case_id is None or text is None or expected is None:
            return None
        return Case(
            id=case_id,
            text=text,
            expected_triage=expected,
            triage_also_acceptable=also,
            acceptable_top_causes=causes,
            age=age,
            sex=sex,
            findings=findings,
            line=self.where.start if self.where is not None else None,
        )

    def _id(self, value: object) -> str | None:
        if value is None:
            return None  # reported as a missing key (or an empty value below)
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problem("id", f"id must be a short text such as p01, not {_kind(value)}")
            return None
        text = str(value).strip()
        if not text:
            self.problem("id", "id is empty; give the case a short id such as p01")
            return None
        return text

    def _text(self, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem("text", f"text must be the person's words, not {_kind(value)}")
            return None
        return value

    def _level(self, key: str, value: object, *, at: str | None = None) -> TriageLevel | None:
        if value is None:
            return None
        if not isinstance(value, str) or value not in LEVELS:
            shown = repr(value) if isinstance(value, str) else _kind(value)
            hint = _did_you_mean(value, LEVELS) if isinstance(value, str) else ""
            choices = ", ".join(LEVELS)
            text = f"unknown triage level {shown} in {key}{hint}; use one of: {choices}"
            self.problem(key, text, at=at)
            return None
        return TriageLevel(value)

    def _levels(self, value: object) -> tuple[TriageLevel, ...]:
        key = "triage_also_acceptable"
        if not isinstance(value, list):
            what = f"{key} must be a list of triage levels (write [] for none)"
            self.problem(key, f"{what}, not {_kind(value)}")
            return ()
        levels = [self._level(key, v, at=f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(level for level in levels if level is not None)

    def _causes(self, value: object) -> tuple[str, ...]:
        key = "acceptable_top_causes"
        if not isinstance(value, list) or not value:
            what = "an empty list" if isinstance(value, list) else _kind(value)
            self.problem(key, f"{key} must be a list of one or more cause ids, not {what}")
            return ()
        out = []
        for i, cause in enumerate(value):
            if not isinstance(cause, str) or cause not in self.cause_ids:
                shown = repr(cause) if isinstance(cause, str) else _kind(cause)
                hint = _did_you_mean(cause, self.cause_ids) if isinstance(cause, str) else ""
                text = f"unknown cause id {shown} in {key}{hint}; {LIST_CAUSES}"
                self.problem(key, text, at=f"{key}[{i}]")
                continue
            out.append(cause)
        return tuple(dict.fromkeys(out))

    def _age(self, value: object) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120:
            shown = repr(value) if isinstance(value, int | float | str) else _kind(value)
            self.problem("age", f"age must be a whole number of years from 0 to 120, not {shown}")
            return None
        return value

    def _sex(self, value: object) -> str | None:
        if value is None:
            return None
        if value not in SEXES:
            shown = repr(value) if isinstance(value, str) else _kind(value)
            self.problem("sex", f"sex must be female or male (or left out), not {shown}")
            return None
        return str(value)

    def _findings(self, value: object) -> tuple[tuple[str, str], ...]:
        if value is None:
            return ()
        if not isinstance(value, dict):
            what = "findings must be a mapping of finding id to status (weakness: denied)"
            self.problem("findings", f"{what}, not {_kind(value)}")
            return ()
        out = []
        for fid, status in value.items():
            if not isinstance(fid, str) or fid not in self.finding_ids:
                hint = _did_you_mean(fid, self.finding_ids) if isinstance(fid, str) else ""
                text = f"unknown finding id {fid!r}{hint}; {LIST_FINDINGS}"
                self.problem("findings", text, at=f"findings.{fid}")
                continue
            if status not in FINDING_STATUSES:
                shown = repr(status) if isinstance(status, str) else _kind(status)
                hint = _status_hint(status)
                choices = ", ".join(FINDING_STATUSES)
                text = f"finding {fid} has status {shown}{hint}; use one of: {choices}"
                self.problem("findings", text, at=f"findings.{fid}")
                continue
            out.append((fid, str(status)))
        return tuple(out)


#: Words people write for a status, mapped to the status meant (a near spelling can mislead:
#: "absent" looks like "present" but means "denied").
STATUS_WORDS = {
    "absent": "denied",
    "negated": "denied",
    "no": "denied",
    "not present": "denied",
    "false": "denied",
    "yes": "present",
    "true": "present",
    "positive": "present",
    "hedged": "possible",
    "uncertain": "possible",
    "maybe": "possible",
    "probable": "possible",
    "past": "resolved",
    "historical": "resolved",
    "gone": "resolved",
    "family": "other",
    "someone else": "other",
}


def _status_hint(status: object) -> str:
    if isinstance(status, bool):  # YAML reads yes/no and true/false as booleans
        return f" (did you mean {'present' if status else 'denied'!r}?)"
    if not isinstance(status, str):
        return ""
    meant = STATUS_WORDS.get(status.strip().lower())
    if meant is not None:
        return f" (did you mean {meant!r}?)"
    return _did_you_mean(status, FINDING_STATUSES)


def _did_you_mean(value: str, choices: Sequence[str]) -> str:
    """A hint naming the closest choice: a near spelling, or the one choice containing it."""
    close = difflib.get_close_matches(value, list(choices), n=1)
    if not close and len(value) >= 3:
        close = [c for c in choices if value.lower() in c]
    return f" (did you mean {close[0]!r}?)" if len(close) == 1 else ""


def _kind(value: Any) -> str:
    """A value's YAML kind, for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "an empty text" if not value.strip() else f"the text {value!r}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"a {type(value).__name__}"
