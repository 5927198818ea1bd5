"""The packaged knowledge base: contract, sources, references and the loader's error reports."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import twitchwise
from twitchwise.errors import KnowledgeError
from twitchwise.knowledge import load
from twitchwise.knowledge.schema import CONTRACT_CAUSES, TriageLevel, compositions

# --------------------------------------------------------------------------- contents


def test_packaged_knowledge_base_loads(kb):
    assert isinstance(kb, twitchwise.KnowledgeBase)
    assert kb.sources and kb.findings and kb.causes and kb.red_flags
    assert kb.digest, "the loaded knowledge base records the digest of its data files"


def test_all_contract_causes_present(kb, contract_cause_ids):
    assert len(set(contract_cause_ids)) == 27
    missing = sorted(set(contract_cause_ids) - set(kb.causes))
    assert not missing, f"contract causes missing from the knowledge base: {missing}"
    assert set(CONTRACT_CAUSES) == set(contract_cause_ids)


def test_at_least_60_findings(kb):
    assert len(kb.findings) >= 60


def test_ids_match_their_keys(kb):
    assert all(key == f.id for key, f in kb.findings.items())
    assert all(key == c.id for key, c in kb.causes.items())
    assert all(key == s.id for key, s in kb.sources.items())
    red_flag_ids = [r.id for r in kb.red_flags]
    assert len(red_flag_ids) == len(set(red_flag_ids))


def _cited_entries(kb):
    """(description, sources) of every entry of the knowledge base that must cite a source."""
    plan = kb.plan
    yield from ((f"finding {f.id}", f.sources) for f in kb.findings.values())
    yield from ((f"cause {c.id}", c.sources) for c in kb.causes.values())
    yield from ((f"red flag {r.id}", r.sources) for r in kb.red_flags)
    yield from ((f"advice {a.id}", a.sources) for a in plan.advice)
    yield from ((f"caffeine drink {d.id}", d.sources) for d in plan.caffeine_drinks)
    yield from ((f"caffeine limit {c.group}", c.sources) for c in plan.caffeine_limits)
    yield from ((f"fluid row {r.activity}", r.sources) for r in plan.fluid_seed_table)
    yield from ((f"fluid reference {r.group}", r.sources) for r in plan.fluid_reference)
    yield from ((f"nutrient {n.id}", n.sources) for n in plan.nutrients)
    yield from ((f"seed correction {c.id}", c.sources) for c in kb.seeds.corrections)
    yield ("lexicon", kb.lexicon.sources)


def test_every_entry_cites_registered_sources(kb):
    entries = list(_cited_entries(kb))
    assert len(entries) > 100
    assert kb.plan.advice and kb.plan.caffeine_drinks and kb.plan.nutrients
    uncited = [what for what, sources in entries if not sources]
    assert not uncited, f"entries without a source: {uncited}"
    unknown = sorted({f"{what}: {sid}" for what, sources in entries for sid in sources
                      if sid not in kb.sources})  # fmt: skip
    assert not unknown, f"source ids not in the sources registry: {unknown}"


def test_every_source_has_a_web_address(kb):
    bad = {s.id: s.url for s in kb.sources.values() if not re.match(r"^https?://\S+$", s.url)}
    assert not bad
    assert all(s.title.strip() and s.publisher.strip() for s in kb.sources.values())


def _finding_references(kb):
    """(where, finding id) of every finding id referenced anywhere in the knowledge base."""
    for f in kb.findings.values():
        for ref in f.implies:
            yield f"finding {f.id} implies", ref
        for combination in compositions(f):
            for group in combination.all_of:
                for ref in group:
                    yield f"finding {f.id} compose", ref
    for c in kb.causes.values():
        for lk in c.likelihoods:
            yield f"cause {c.id} likelihood", lk.finding
        for m in c.modifiers:
            yield f"cause {c.id} modifier", m.finding
    for r in kb.red_flags:
        for group in r.groups():
            for ref in group:
                yield f"red flag {r.id}", ref
        if r.report:
            yield f"red flag {r.id} report", r.report
    for a in kb.plan.advice:
        for ref in [*a.when_findings, *a.when_all, *a.unless_findings]:
            yield f"advice {a.id}", ref
    for rule in kb.lexicon.quantity_rules:
        yield f"quantity rule {rule.quantity}", rule.finding
    for point in kb.seeds.points:
        for ref in point.represented_by:
            kind, _, value = ref.partition(":")
            if kind == "finding":
                yield f"seed point {point.id}", value


def test_every_referenced_finding_exists(kb):
    refs = list(_finding_references(kb))
    assert len(refs) > 200
    unknown = sorted({f"{where}: {ref}" for where, ref in refs if ref not in kb.findings})
    assert not unknown, f"unknown finding ids: {unknown}"


def test_every_referenced_cause_exists(kb):
    refs = [(f"advice {a.id}", c) for a in kb.plan.advice for c in a.when_causes]
    refs += [(f"seed point {p.id}", r.partition(":")[2]) for p in kb.seeds.points
             for r in p.represented_by if r.startswith("cause:")]  # fmt: skip
    unknown = sorted({f"{where}: {ref}" for where, ref in refs if ref not in kb.causes})
    assert not unknown, f"unknown cause ids: {unknown}"


def test_every_cause_has_usable_numbers(kb):
    for cause in kb.causes.values():
        assert 0 < cause.prior < 1, cause.id
        assert cause.likelihoods, cause.id
        assert cause.explanation.strip() and cause.name.strip(), cause.id


def test_every_red_flag_is_above_self_care(kb):
    assert kb.red_flags
    for rule in kb.red_flags:
        assert rule.level > TriageLevel.SELF_CARE, rule.id
        assert rule.reason.strip(), rule.id


def test_every_triage_level_above_self_care_is_reachable(kb):
    levels = {rule.level for rule in kb.red_flags}
    assert levels == {
        TriageLevel.SEE_DOCTOR_ROUTINE,
        TriageLevel.SEE_DOCTOR_URGENT,
        TriageLevel.EMERGENCY,
    }


def test_triage_levels_are_ordered_as_in_the_contract():
    order = ["self_care", "see_doctor_routine", "see_doctor_urgent", "emergency"]
    levels = [TriageLevel(v) for v in order]
    assert sorted(reversed(levels)) == levels
    assert max(levels) is TriageLevel.EMERGENCY
    assert TriageLevel.SEE_DOCTOR_ROUTINE < TriageLevel.SEE_DOCTOR_URGENT


def test_seed_corrections_for_potassium_and_lactate(kb):
    corrections = kb.seeds.corrections

    def about(*words: str):
        return [
            c for c in corrections if all(w in (c.claim + " " + c.correct).lower() for w in words)
        ]

    potassium = about("potassium", "excitab")
    assert potassium, "no correction of the seeds' claim that low potassium makes nerves misfire"
    assert any("less excitable" in c.correct.lower() for c in potassium)
    lactate = about("lactic", "lactate")
    assert lactate, "no correction of the seeds' lactic acid claim"
    assert any("fuel" in c.correct.lower() for c in lactate)
    for c in potassium + lactate:
        assert c.sources and all(s in kb.sources for s in c.sources)


def test_seed_points_link_their_corrections(kb):
    correction_ids = {c.id for c in kb.seeds.corrections}
    linked = {r.partition(":")[2] for p in kb.seeds.points for r in p.represented_by
              if r.startswith("correction:")}  # fmt: skip
    assert linked <= correction_ids
    assert {"knee", "after_workout"} <= {p.seed for p in kb.seeds.points}


def test_load_knowledge_is_cached(cache_dir):
    first = twitchwise.load_knowledge()
    assert twitchwise.load_knowledge() is first
    assert list(cache_dir.glob("knowledge-*.pickle")), "the cache goes to TWITCHWISE_CACHE_DIR"


# --------------------------------------------------------------------------- the loader


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(load.DATA_DIR, target)
    return target


def _insert_after_first(path: Path, pattern: str, new_line: str) -> int:
    """Insert ``new_line`` after the first line matching ``pattern``; return its line number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if re.match(pattern, line):
            lines.insert(index + 1, new_line)
            path.write_text("".join(lines), encoding="utf-8")
            return index + 2
    raise AssertionError(f"no line matching {pattern!r} in {path}")


def _problems(data_dir: Path) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load.build(data_dir)
    assert str(info.value).startswith("the knowledge base has")
    return info.value.problems


def test_copied_data_dir_builds(data_dir):
    kb = load.build(data_dir)
    assert set(kb.causes) == set(twitchwise.load_knowledge().causes)


def test_loader_rejects_an_unknown_key(data_dir):
    line = _insert_after_first(
        data_dir / "causes" / "common.yaml", r"^  prior: ", "  priorr: 0.2\n"
    )
    problems = _problems(data_dir)
    hits = [p for p in problems if f"causes/common.yaml:{line}:" in p]
    assert hits, problems
    assert "unknown key" in hits[0]
    assert "priorr" in hits[0]


def test_loader_rejects_a_duplicate_key(data_dir):
    line = _insert_after_first(data_dir / "causes" / "common.yaml", r"^  prior: ", "  prior: 0.2\n")
    problems = _problems(data_dir)
    hits = [p for p in problems if "duplicate key" in p]
    assert hits, problems
    assert f"causes/common.yaml:{line}:" in hits[0]
    assert "'prior'" in hits[0]


def test_loader_rejects_an_unknown_finding_reference(data_dir):
    _insert_after_first(
        data_dir / "causes" / "common.yaml", r"^  likelihoods:",
        "    - {finding: no_such_finding, with: 0.5, without: 0.1}\n",
    )  # fmt: skip
    problems = _problems(data_dir)
    assert any("causes/common.yaml:" in p and "no_such_finding" in p for p in problems), problems


def test_loader_rejects_a_mark_in_a_word_for_word_phrase(data_dir):
    # "stuck ." would be matched as "stuck" alone: the mark is dropped when matching
    path = data_dir / "findings" / "cues.yaml"
    text = path.read_text(encoding="utf-8")
    assert 'exact_phrases: ["it catches",' in text
    broken = text.replace('["it catches",', '["stuck .", "it catches",', 1)
    path.write_text(broken, encoding="utf-8")
    problems = _problems(data_dir)
    hits = [p for p in problems if "'stuck .'" in p]
    assert hits, problems
    assert "findings/cues.yaml" in hits[0] and "mark that matching drops" in hits[0]


def test_loader_rejects_an_unregistered_source(data_dir):
    path = data_dir / "causes" / "common.yaml"
    text = path.read_text(encoding="utf-8")
    assert "sources: [" in text
    path.write_text(text.replace("sources: [", "sources: [no-such-source, ", 1), encoding="utf-8")
    problems = _problems(data_dir)
    assert any("causes/common.yaml:" in p and "no-such-source" in p for p in problems), problems


def test_loader_rejects_a_red_flag_at_self_care(data_dir):
    path = data_dir / "red_flags" / "emergency.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("level: emergency", "level: self_care", 1), encoding="utf-8")
    problems = _problems(data_dir)
    assert any("red_flags/emergency.yaml:" in p and "self_care" in p for p in problems), problems


def test_loader_reports_a_missing_contract_cause(data_dir):
    path = data_dir / "causes" / "neuro.yaml"
    text = path.read_text(encoding="utf-8")
    assert "id: stroke" in text
    path.write_text(text.replace("id: stroke", "id: strokes", 1), encoding="utf-8")
    problems = _problems(data_dir)
    assert any("'stroke'" in p and "missing" in p for p in problems), problems


def test_loader_reports_several_problems_at_once(data_dir):
    unknown_line = _insert_after_first(
        data_dir / "causes" / "common.yaml", r"^  prior: ", "  priorr: 0.2\n"
    )
    duplicate_line = _insert_after_first(
        data_dir / "findings" / "symptoms.yaml", r"^  kind: ", "  kind: symptom\n"
    )
    problems = _problems(data_dir)
    assert len(problems) >= 2
    assert any(f"causes/common.yaml:{unknown_line}:" in p and "unknown key" in p for p in problems)
    assert any(
        f"findings/symptoms.yaml:{duplicate_line}:" in p and "duplicate key" in p for p in problems
    ), problems


def test_loader_reports_invalid_yaml_with_folder_and_line(data_dir):
    line = _insert_after_first(data_dir / "causes" / "common.yaml", r"^  prior: ", "  bad: [1, 2\n")
    problems = _problems(data_dir)
    hits = [p for p in problems if "invalid YAML" in p]
    assert hits, problems
    assert re.search(r"causes/common\.yaml:\d+:", hits[0]), hits[0]
    assert int(re.search(r"common\.yaml:(\d+)", hits[0]).group(1)) >= line
