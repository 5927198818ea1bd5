"""Issue 15's promise: no one ever sees another person's journal.

Ann fills her journal through every way in (logged episodes and days, an imported twitchwise
export with workouts, counted days and experiments, a self-experiment started and checked in)
and makes an API token. Then every operation of the OpenAPI document is called as Bob, once
with his session (a browser) and once with his API token (a program), with Ann's ids in its
path wherever it takes one (her days, her token...), and again with ids that no one has:

- no response (body or header) holds anything of Ann's: her notes and medicines, her email,
  her account's id, her token's id, name or secret;
- a path with Ann's id answers exactly as one with an id no one has (404 for her token), so
  nothing hints that it exists;
- Ann's journal and tokens are the same afterwards, to the byte.

On SQLite, and on PostgreSQL with the app connected as a restricted role (row-level security
on). A new operation in the document without a case here fails the test. The only ids in
URLs are a guide topic (public), a date (each person's own day) and an API token's id (a
random UUID version 4): no sequential id is ever in a URL. Nor in a response: every JSON body
of the walk is searched for an integer under a key that names an id, an episode is named by
its random public id (never its row's), and the document declares no id as an integer.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import twitchwise
from hosted import Hosted, bearer, form_token, hosted, make_token, sign_up, upload_header
from owned_rows import fill
from twitchwise.journal.settings import JournalSettings
from twitchwise.journal.store import open_journal

ANN = "ann@example.org"
BOB = "bob@example.org"
MARK = "ANN-SECRET"
ANN_DAY = "2026-03-01"  # a day of Ann's (and, from the import, 2026-03-02 and -03)
NO_ONES_DAY = "2026-03-09"
#: The path parameters the document may have, and what each is: no sequential id anywhere.
PATH_PARAMETERS = {"topic": "a guide topic (public)", "day": "a date", "token_id": "a UUID"}


@dataclass
class World:
    site: Hosted
    ann: TestClient
    bob: TestClient  # Bob's browser (session cookie)
    bob_program: TestClient  # no cookies; Bob's token in every request
    bob_token: str
    secrets: tuple[str, ...]  # what must never reach Bob
    ann_token_id: str
    ann_episode_id: str  # the public id of the episode she logged through the API


def _ann_export(tmp_path: Path) -> bytes:
    """A local twitchwise JSON export of Ann's: workouts, days, episodes, experiments."""
    local = tmp_path / "ann-local.sqlite"
    with open_journal(JournalSettings(f"sqlite:///{local}", local)) as journal:
        fill(journal, MARK)
        return twitchwise.Twitchwise().export(journal, "json").content()


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    with hosted(request.param, tmp_path) as site:
        ann = sign_up(site, ANN)
        token = make_token(ann, f"{MARK} token", ["read", "write"])
        program = site.client()
        logged = program.post(
            "/api/journal/episodes",
            headers=bearer(token),
            json={"region": "calf", "note": f"{MARK} note"},
        )
        assert logged.status_code == 201
        episode_id = logged.json()["id"]
        assert ann.put(f"/api/journal/days/{ANN_DAY}", json={
            "stress": 4, "medicines": [f"{MARK} pill"], "workout_type": f"{MARK} yoga"}
        ).status_code == 200  # fmt: skip
        r = program.post("/api/journal/import", headers=bearer(token),
                         files={"file": ("ann.json", _ann_export(tmp_path))})  # fmt: skip
        assert r.status_code == 200 and r.json()["imported"][0]["episodes_added"] > 0
        plan = {"csrf_token": form_token(ann, "/journal"), "kind": "custom", "weeks": "2",
                "block_days": "7", "washout_days": "0", "change": f"{MARK} change"}  # fmt: skip
        assert ann.post("/journal/experiment/start", data=plan).is_success
        assert ann.post("/api/journal/experiment/check-in", json={"followed": True}).is_success
        profile = {"age_band": "60-69", "sex": "female"}  # in her export, compared after the walk
        assert ann.put("/api/account/profile", json=profile).json() == profile
        account = ann.get("/api/account").json()
        [listed] = ann.get("/api/account/tokens").json()

        bob = sign_up(site, BOB)
        bob_token = make_token(bob, "bob's", ["read", "write"])
        bob.post("/api/journal/episodes", json={"region": "eyelid", "note": "BOB-OWN"})
        secrets = (MARK, ANN, account["id"], listed["id"], token, ann.cookies["twitchwise_session"],
                   episode_id)  # fmt: skip
        yield World(site, ann, bob, site.client(), bob_token, secrets, listed["id"], episode_id)


def _interview(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    step = client.post("/api/interview/start", json={"text": "calf"}, headers=headers).json()
    return step


Case = Callable[[TestClient, dict[str, str]], dict[str, Any]]


def _answer(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    step = _interview(client, headers)
    question = step["question"]
    reply: Any = True if question["kind"] == "finding" else None
    return {"json": {"state": step["state"], "question": question["id"], "reply": reply}}


def _result(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    return {"json": {"state": _interview(client, headers)["state"]}}


def _fixed(**kwargs: Any) -> Case:
    return lambda _client, _headers: kwargs


DAILY = ("daily.csv", b"date,caffeine_mg,notes\n2026-03-05,100,BOB-IMPORT\n")
#: A request for every operation of the document: (method, path template) -> its arguments.
CASES: dict[tuple[str, str], Case] = {
    ("get", "/healthz"): _fixed(),
    ("get", "/readyz"): _fixed(),
    ("get", "/metrics"): _fixed(),
    ("post", "/api/ask"): _fixed(json={"text": "my calf twitches"}),
    ("post", "/api/assess"): _fixed(json={"findings": ["twitching", "region_calf"]}),
    ("get", "/api/findings"): _fixed(),
    ("get", "/api/causes"): _fixed(),
    ("get", "/api/guides"): _fixed(),
    ("get", "/api/guides/{topic}"): _fixed(),
    ("post", "/api/interview/start"): _fixed(json={"text": "calf twitching"}),
    ("post", "/api/interview/answer"): _answer,
    ("post", "/api/interview/result"): _result,
    ("get", "/api/journal/episodes"): _fixed(params={"limit": 100}),
    ("post", "/api/journal/episodes"): _fixed(json={"region": "calf", "note": "BOB-WALK"}),
    ("get", "/api/journal/days"): _fixed(),
    ("put", "/api/journal/days/{day}"): _fixed(json={"stress": 1}),
    ("get", "/api/journal/insights"): _fixed(),
    ("get", "/api/journal/experiment"): _fixed(),
    ("post", "/api/journal/experiment/check-in"): _fixed(json={"followed": False}),
    ("post", "/api/journal/experiment/stop"): _fixed(json={"reason": "BOB-STOP"}),
    ("get", "/api/journal/experiment/result"): _fixed(),
    ("get", "/api/journal/export"): _fixed(params={"format": "json"}),
    ("post", "/api/journal/import"): _fixed(files={"file": DAILY}),
    ("get", "/api/journal/report"): _fixed(params={"format": "html"}),
    ("get", "/api/account"): _fixed(),
    ("get", "/api/account/tokens"): _fixed(),
    ("delete", "/api/account/tokens/{token_id}"): _fixed(),
    ("put", "/api/account/profile"): _fixed(json={"age_band": "18-29", "sex": "male"}),
}
#: More requests per operation, where a query changes what is read.
EXTRA: dict[tuple[str, str], list[dict[str, Any]]] = {
    ("get", "/api/journal/export"): [{"params": {"format": "csv"}}],
    ("get", "/api/journal/report"): [{"params": {"format": "fhir"}}],
}


def _text(response: Any) -> str:
    head = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    return head + "\n" + response.content.decode("latin-1")


def _leaks(world: World, response: Any) -> list[str]:
    text = _text(response).lower()
    return [s for s in world.secrets if s.lower() in text]


def _integer_ids(value: Any, where: str = "") -> list[str]:
    """Where a JSON value holds an integer under a key that names an id (``id``,
    ``..._id``): a sequential id that would address a row."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            named = key == "id" or key.endswith("_id")
            if named and isinstance(inner, int) and not isinstance(inner, bool):
                found.append(f"{where}.{key}")
            found += _integer_ids(inner, f"{where}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _integer_ids(inner, f"{where}[{i}]")
    return found


def _sequential(response: Any) -> list[str]:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return []
    return _integer_ids(response.json())


def _normal(response: Any, ids: tuple[str, ...]) -> tuple[int, str]:
    body = response.content.decode("latin-1")
    for value in ids:
        body = body.replace(value, "<id>")
    return response.status_code, body


def _paths(world: World, template: str) -> tuple[str, str, tuple[str, ...]]:
    """The path with Ann's ids, with ids no one has, and those ids (for comparing)."""
    anns = {"topic": "knee", "day": ANN_DAY, "token_id": world.ann_token_id}
    no_ones = {"topic": "knee", "day": NO_ONES_DAY, "token_id": str(uuid.uuid4())}
    used = [name for name in anns if "{" + name + "}" in template]
    ids = tuple(d[name] for name in used for d in (anns, no_ones))
    return template.format(**anns), template.format(**no_ones), ids


@pytest.mark.parametrize("how", ["session", "token"])
def test_bob_never_sees_anything_of_anns(world: World, how: str) -> None:
    before = world.ann.get("/api/journal/export").content, world.ann.get("/api/account/tokens")
    client = world.bob if how == "session" else world.bob_program
    headers = upload_header(world.bob) if how == "session" else bearer(world.bob_token)
    schema = world.site.client().get("/openapi.json").json()
    walked = set()
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert names <= set(PATH_PARAMETERS), (method, template, names)
            case = CASES.get((method, template))
            assert case is not None, f"add a case for {method.upper()} {template} to the walk"
            walked.add((method, template))
            anns, no_ones, ids = _paths(world, template)
            for extra in [{}, *EXTRA.get((method, template), [])]:
                arguments = {**case(client, headers), **extra}
                fresh = client.request(method, no_ones, headers=headers, **arguments)
                found = client.request(method, anns, headers=headers, **arguments)
                where = f"{method.upper()} {anns} as bob's {how}"
                assert found.status_code < 500, (where, found.text[:300])
                assert found.status_code not in (401, 403), (where, found.text[:300])
                assert not _leaks(world, found), (where, _leaks(world, found))
                assert not _sequential(found) and not _sequential(fresh), (where, found.text)
                if ids:
                    assert _normal(found, ids) == _normal(fresh, ids), where
    assert walked == set(CASES)
    # the one route that takes someone's id says 404, as for an id no one has
    r = client.delete(f"/api/account/tokens/{world.ann_token_id}", headers=headers)
    assert r.status_code == 404
    assert (
        r.json()["error"]
        == "you have no live API token with that id; GET /api/account/tokens lists yours"
    )
    # Ann's journal and tokens are as they were, to the byte
    after = world.ann.get("/api/journal/export").content, world.ann.get("/api/account/tokens")
    assert after[0] == before[0]
    assert after[1].json() == before[1].json()
    assert world.site.client().get("/api/journal/days", headers=bearer(world.secrets[4])).json()


def test_bob_s_pages_show_nothing_of_anns(world: World) -> None:
    for page in ("/journal", "/account", "/journal/export?format=json",
                 "/journal/export?format=csv", "/journal/report?format=html"):  # fmt: skip
        r = world.bob.get(page)
        assert r.status_code == 200 and not _leaks(world, r), page
    token = form_token(world.bob)
    anns = world.bob.post(f"/account/tokens/{world.ann_token_id}/revoke",
                          data={"csrf_token": token})  # fmt: skip
    no_ones = world.bob.post(f"/account/tokens/{uuid.uuid4()}/revoke", data={"csrf_token": token})
    assert anns.status_code == no_ones.status_code == 404
    assert not _leaks(world, anns)
    assert world.ann.get("/api/account/tokens").json()[0]["revoked_at"] is None
    mine = json.loads(world.bob.get("/journal/export?format=json").content)
    assert [e["note"] for e in mine["episodes"]] == ["BOB-OWN"]


def _random(ids: list[str]) -> None:
    """Version-4 UUIDs, all different, no two next to each other as numbers."""
    values = sorted(uuid.UUID(value).int for value in ids)
    assert all(uuid.UUID(value).version == 4 for value in ids)
    assert len(set(values)) == len(values)
    assert all(b - a > 2**64 for a, b in itertools.pairwise(values))


def _row_ids(world: World, public: list[str]) -> list[int]:
    """The episodes' integer row ids in the database, in the order of their public ids."""
    from sqlalchemy import create_engine, text

    engine = create_engine(world.site.owner_url)  # the superuser or the file: every row
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT public_id, id FROM episodes")).all()
    finally:
        engine.dispose()
    by_public = {uuid.UUID(str(p)): i for p, i in rows}
    return [by_public[uuid.UUID(value)] for value in public]


def test_the_ids_in_addresses_are_not_guessable(world: World) -> None:
    for token in world.ann.get("/api/account/tokens").json():
        assert uuid.UUID(token["id"]).version == 4
    ann_id = uuid.UUID(world.ann.get("/api/account").json()["id"])
    bob_id = uuid.UUID(world.bob.get("/api/account").json()["id"])
    assert ann_id.version == bob_id.version == 4 and abs(ann_id.int - bob_id.int) > 2**64
    schema = world.site.client().get("/openapi.json").json()
    param = schema["paths"]["/api/account/tokens/{token_id}"]["delete"]["parameters"][0]
    assert param["schema"] == {"type": "string", "format": "uuid", "title": "Token Id"}
    # the document: no path parameter and no id of any schema is an integer
    for template, operations in schema["paths"].items():
        for method, operation in operations.items():
            for p in operation.get("parameters", []):
                if p["in"] == "path":
                    assert p["schema"].get("type") == "string", (method, template, p)
    for name, component in schema["components"]["schemas"].items():
        for key, prop in component.get("properties", {}).items():
            if key == "id" or key.endswith("_id"):
                assert prop.get("type") == "string", (name, key, prop)
    episode = schema["components"]["schemas"]["EpisodePublic"]["properties"]["id"]
    assert episode["format"] == "uuid"


def test_episode_ids_are_random_not_sequential(world: World) -> None:
    """Episodes logged one after the other, by two people, through the session and a token:
    each gets a random public id, and none is the row's own (sequential) id."""
    made = [world.ann_episode_id]
    for client, headers in ((world.ann, {}), (world.bob, {}), (world.bob_program,
                            bearer(world.bob_token)), (world.ann, {})):  # fmt: skip
        r = client.post("/api/journal/episodes", json={"region": "calf"}, headers=headers)
        assert r.status_code == 201 and isinstance(r.json()["id"], str), r.text
        assert not _sequential(r)
        made.append(r.json()["id"])
    _random(made)
    rows = _row_ids(world, made)  # what the API would have said: a number counting up
    assert sorted(rows) == rows and len(set(rows)) == len(rows)
    assert not {str(row) for row in rows} & set(made)
