"""The knowledge base's msgspec models and the cache: as strict as the pydantic models they
replaced, every problem of an entry reported, and a cache that keeps no per-process state."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path
from typing import Any

import msgspec
import pytest

from twitchwise.errors import KnowledgeError
from twitchwise.knowledge import load
from twitchwise.knowledge.schema import (
    Cause,
    Finding,
    Likelihood,
    RedFlag,
    Source,
    TriageLevel,
)

SOURCE = {"id": "nhs-twitch", "title": "T", "publisher": "P", "url": "https://example.org"}
FLAG = {"id": "x", "level": "emergency", "all_of": ["weakness"], "reason": "r", "sources": ["s"]}


def rejects(model: type[msgspec.Struct], value: dict[str, Any]) -> str:
    with pytest.raises(msgspec.ValidationError) as info:
        msgspec.convert(value, model)
    return str(info.value)


# --------------------------------------------------------------------------- the models


def test_ids_must_match_the_whole_pattern() -> None:
    assert msgspec.convert(SOURCE, Source).id == "nhs-twitch"
    rejects(Source, {**SOURCE, "id": "nhs-twitch\n"})  # re's "$" would allow this one
    rejects(Source, {**SOURCE, "id": "NHS"})
    rejects(Source, {**SOURCE, "url": "ftp://example.org"})
    rejects(Likelihood, {"finding": "weakness\n", "with": 0.5})


def test_numbers_are_checked_and_never_read_from_text() -> None:
    assert msgspec.convert({"finding": "weakness", "with": 0.5}, Likelihood).with_ == 0.5
    for bad in (0, 1, 1.5, -0.1, "0.5", True, None):
        rejects(Likelihood, {"finding": "weakness", "with": bad})
    assert "got `str`" in rejects(Likelihood, {"finding": "weakness", "with": "0.5"})


def test_the_yaml_spelling_with_is_the_only_one() -> None:
    assert "unknown field `with_`" in rejects(Likelihood, {"finding": "weakness", "with_": 0.5})


def test_unknown_keys_and_missing_fields_are_errors() -> None:
    assert "unknown field `sorce`" in rejects(Source, {**SOURCE, "sorce": "x"})
    assert "missing required field `title`" in rejects(
        Source, {k: v for k, v in SOURCE.items() if k != "title"}
    )


def test_a_red_flag_must_raise_the_level() -> None:
    assert msgspec.convert(FLAG, RedFlag).level is TriageLevel.EMERGENCY
    assert "above self_care" in rejects(RedFlag, {**FLAG, "level": "self_care"})
    assert msgspec.convert({**FLAG, "all_of": ["a", ["b", "c"]]}, RedFlag).groups() == [
        ["a"],
        ["b", "c"],
    ]
    rejects(RedFlag, {**FLAG, "all_of": []})
    rejects(RedFlag, {**FLAG, "all_of": ["a", []]})


def test_models_are_frozen() -> None:
    source = msgspec.convert(SOURCE, Source)
    with pytest.raises(AttributeError):
        source.title = "changed"  # type: ignore[misc]


def test_defaults_are_not_shared_between_entries() -> None:
    base = {"kind": "symptom", "label": "L", "sources": ["s"]}
    one = msgspec.convert({**base, "id": "one"}, Finding)
    two = msgspec.convert({**base, "id": "two"}, Finding)
    assert one.synonyms == [] and one.synonyms is not two.synonyms


# --------------------------------------------------------------------------- the loader


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(load.DATA_DIR, target)
    return target


def _problems(data_dir: Path) -> list[str]:
    """The problems, with file names relative to the data folder (as for the packaged one)."""
    with pytest.raises(KnowledgeError) as info:
        load.build(data_dir)
    return [p.replace(f"{data_dir}/", "") for p in info.value.problems]


def _line_of(path: Path, pattern: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"no line matching {pattern!r} in {path}")


def test_every_problem_of_one_entry_is_reported_at_its_own_line(data_dir: Path) -> None:
    """msgspec stops at the first problem; the loader goes on, as pydantic did."""
    path = data_dir / "causes" / "common.yaml"
    text = path.read_text(encoding="utf-8")
    first_prior = re.search(r"^  prior: .*$", text, re.M)
    assert first_prior
    text = text.replace(first_prior.group(0), "  priorr: 0.2", 1)  # unknown key, prior missing
    text = re.sub(r"with: 0\.\d+", "with: 1.5", text, count=1)  # out of range
    path.write_text(text, encoding="utf-8")
    problems = [p for p in _problems(data_dir) if p.startswith("causes/common.yaml:")]
    unknown = _line_of(path, r"^  priorr: ")
    with_line = _line_of(path, r"with: 1\.5")
    assert any(
        p.startswith(f"causes/common.yaml:{unknown}: priorr: unknown key; check the spelling")
        for p in problems
    ), problems
    assert any(
        re.match(r"causes/common\.yaml:\d+: prior: required field is missing", p) for p in problems
    )
    assert any(
        p.startswith(f"causes/common.yaml:{with_line}: likelihoods.") and "< 1.0" in p
        for p in problems
    ), problems


def test_a_bad_choice_lists_the_choices(data_dir: Path) -> None:
    path = data_dir / "findings" / "symptoms.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("kind: symptom", "kind: symptomm", 1), encoding="utf-8")
    line = _line_of(path, r"kind: symptomm")
    hits = [p for p in _problems(data_dir) if "symptomm" in p]
    assert hits and hits[0].startswith(f"findings/symptoms.yaml:{line}: kind: "), hits
    assert "choose one of: twitch, pattern, " in hits[0]


def test_a_self_care_red_flag_is_reported_at_its_level_line(data_dir: Path) -> None:
    path = data_dir / "red_flags" / "emergency.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("level: emergency", "level: self_care", 1), encoding="utf-8")
    line = _line_of(path, r"level: self_care")
    assert (
        f"red_flags/emergency.yaml:{line}: level: a red flag must raise triage above "
        "self_care" in _problems(data_dir)
    )


def test_merged_folders_report_without_a_line(data_dir: Path) -> None:
    lexicon = sorted((data_dir / "lexicon").glob("*.yaml"))[0]
    lexicon.write_text("weekdayz: [x]\n" + lexicon.read_text(encoding="utf-8"), encoding="utf-8")
    plan = data_dir / "plan" / "advice.yaml"
    plan.write_text(
        plan.read_text(encoding="utf-8").replace("priority: 20", "priority: high", 1),
        encoding="utf-8",
    )
    problems = _problems(data_dir)
    assert "lexicon/: weekdayz: unknown key; check the spelling against docs/knowledge-base.md" in (
        problems
    )
    assert any(
        p.startswith("plan/advice.yaml:") and ".priority: Expected `int`, got `str`" in p
        for p in problems
    ), problems


# --------------------------------------------------------------------------- the cache


def test_the_cache_keeps_the_fields_and_no_per_process_state(kb: load.KnowledgeBase) -> None:
    assert kb.closure and kb.red_flag_levels  # cached properties computed
    kb._memo["probe"] = object()
    try:
        state = kb.__getstate__()
        assert "_memo" not in state and "closure" not in state
        again = pickle.loads(pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        del kb._memo["probe"]
    assert again == kb
    assert again._memo == {} and again._memo is not kb._memo
    assert again.closure == kb.closure and again.red_flag_levels == kb.red_flag_levels
    assert isinstance(next(iter(again.causes.values())), Cause)


def test_a_cache_written_by_other_code_is_not_loaded(kb: load.KnowledgeBase) -> None:
    """The digest covers the models' and the loader's source, not only the data."""
    assert set(load._CODE) == {Path(load.__file__), Path(load.__file__).with_name("schema.py")}
    assert kb.digest == load.data_digest()
