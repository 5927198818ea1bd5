"""Shared fixtures for the twitchwise test suite.

The knowledge-base cache goes to a temporary folder for the whole session (set before any test
module is imported, and inherited by the command-line subprocesses), so the tests never read or
write the user's cache.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from twitchwise.evidence import Evidence
from twitchwise.knowledge.load import KnowledgeBase

#: 2026-11-23 is a Monday: "since Monday" then means a full week.
TODAY = date(2026, 11, 23)
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"

#: The contract's cause ids, copied from PRODUCT.md (not imported, so a rename is caught).
CONTRACT_CAUSE_IDS = (
    "exercise_fatigue", "dehydration", "low_magnesium", "low_calcium", "low_potassium",
    "low_sodium", "caffeine_stimulants", "stress_anxiety", "sleep_deprivation", "alcohol",
    "medication_side_effect", "vitamin_deficiency", "nerve_compression",
    "local_injury_inflammation", "benign_fasciculation_syndrome", "cramp_fasciculation_syndrome",
    "motor_neuron_disease", "overactive_thyroid", "peripheral_neuropathy", "kidney_disease",
    "hemifacial_spasm", "focal_seizure", "serotonin_syndrome", "rhabdomyolysis", "heat_illness",
    "organophosphate_poisoning", "stroke",
)  # fmt: skip

settings.register_profile(
    "twitchwise",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("twitchwise")

_saved_env: dict[str, str | None] = {}
_cache_dir: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    folder = tempfile.mkdtemp(prefix="twitchwise-test-cache-")
    home = tempfile.mkdtemp(prefix="twitchwise-test-home-")
    _cache_dir.extend([folder, home])
    names = ("TWITCHWISE_CACHE_DIR", "TWITCHWISE_NO_CACHE", "TWITCHWISE_HOME",
             "TWITCHWISE_DATABASE_URL")  # fmt: skip
    for name in names:
        _saved_env[name] = os.environ.get(name)
    os.environ["TWITCHWISE_CACHE_DIR"] = folder
    # a journal written by any test lands here, never in the user's own data folder
    os.environ["TWITCHWISE_HOME"] = home
    os.environ.pop("TWITCHWISE_NO_CACHE", None)
    os.environ.pop("TWITCHWISE_DATABASE_URL", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for folder in _cache_dir:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh journal home for one test, with the local time zone pinned to UTC."""
    folder = tmp_path / "home"
    monkeypatch.setenv("TWITCHWISE_HOME", str(folder))
    monkeypatch.delenv("TWITCHWISE_DATABASE_URL", raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield folder
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def contract_cause_ids() -> tuple[str, ...]:
    return CONTRACT_CAUSE_IDS


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return Path(os.environ["TWITCHWISE_CACHE_DIR"])


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    import twitchwise

    return twitchwise.load_knowledge()


@pytest.fixture(scope="session")
def parse() -> Callable[[str], Evidence]:
    from twitchwise.app import default

    p = default().parser
    return lambda text: p.parse(text, today=TODAY)
