"""The deployment files (``Dockerfile``, ``compose.yaml``, ``.dockerignore``) and
docs/deploy.md keep up with the code: the commands and options they run exist, the variables
they set are the settings model's, and the image is what docs/deploy.md says.

The image is built only where a Docker daemon answers (not on this project's CI machines).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from twitchwise.cli import app as cli_app
from twitchwise.settings import PREFIX, settings_model

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "docs" / "deploy.md"
_VARIABLE = re.compile(r"\bTWITCHWISE_[A-Z_]+\b")


@cache
def settings_variables() -> frozenset[str]:
    """Every variable the one settings model reads."""
    return frozenset(PREFIX + name.upper() for name in settings_model().model_fields)


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (keyword, arguments), continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        pending += (" " if pending else "") + line.rstrip("\\").strip()
        if not line.endswith("\\"):
            keyword, _, rest = pending.partition(" ")
            out.append((keyword.upper(), rest.strip()))
            pending = ""
    assert not pending, "a continued instruction never ends"
    return out


def of(keyword: str) -> list[str]:
    return [rest for kw, rest in instructions() if kw == keyword]


def command_of(rest: str) -> list[str]:
    """An exec-form (JSON array) or shell-form instruction as its words."""
    return list(json.loads(rest)) if rest.startswith("[") else shlex.split(rest)


@cache
def click_app() -> Any:
    """The command line's click group (typer's own click: looked at by its attributes)."""
    return typer.main.get_command(cli_app)


def twitchwise_commands(shell: str) -> list[list[str]]:
    """The ``twitchwise ...`` commands of a shell command line (after ``exec``, between
    ``&&``, ``;`` and ``|``), as words, with ``${VAR:-default}`` taken as its default."""
    shell = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", shell)
    found = []
    for part in re.split(r"&&|\|\||;|\|", shell):
        words = shlex.split(part)
        while words and words[0] in ("exec", "nice"):
            words = words[1:]
        if words and words[0] == "twitchwise":
            found.append(words[1:])
    return found


def check_cli(words: list[str]) -> Any:
    """The click command that ``twitchwise WORDS`` runs; fails when a sub-command or an
    option does not exist or click would refuse the arguments."""
    command = click_app()
    rest = list(words)
    path = ["twitchwise"]
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        name = rest.pop(0)
        sub = command.commands.get(name)
        assert sub is not None, f"'{' '.join(path)} {name}' is no command"
        path.append(name)
        command = sub
    known = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=", 1)[0] in known, f"'{' '.join(path)}' has no option {word}"
    command.make_context(path[-1], rest, resilient_parsing=False)  # click accepts them
    return command


# --------------------------------------------------------------------------- Dockerfile


def test_the_image_is_slim_python_run_by_a_user() -> None:
    bases = of("FROM")
    assert bases, "no FROM"
    for base in bases:
        assert re.fullmatch(r"python:3\.1[1-9]-slim( AS \w+)?", base), base
    users = of("USER")
    assert users and users[-1] not in ("root", "0"), "the image runs as root"
    kinds = [kw for kw, _ in instructions()]
    last_from = len(kinds) - 1 - kinds[::-1].index("FROM")
    assert "USER" in kinds[last_from : kinds.index("CMD")], "USER comes before CMD"
    assert of("EXPOSE") == ["8000"] and of("STOPSIGNAL") == ["SIGTERM"]


def test_the_image_installs_the_web_and_server_extras() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    installs = [rest for rest in of("RUN") if "pip install" in rest]
    assert installs
    found = re.search(r"\[([a-z,]+)\]", installs[-1])
    assert found, installs
    wanted = set(found.group(1).split(","))
    assert {"web", "server"} <= wanted and wanted <= set(extras)


def test_the_copied_files_exist_and_are_not_ignored() -> None:
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()}
    for rest in of("COPY"):
        if rest.startswith("--from"):
            continue
        *sources, _ = rest.split()
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source.rstrip("/") not in ignored, f".dockerignore leaves out {source}"
    for needed in (".git", ".venv", ".env", "tests", "**/__pycache__"):
        assert needed in ignored, f".dockerignore should leave out {needed}"


def test_the_healthcheck_asks_healthz() -> None:
    [check] = of("HEALTHCHECK")
    assert "http://127.0.0.1:8000/healthz" in check
    assert "--interval=" in check and "--start-period=" in check


def test_the_start_command_migrates_then_serves() -> None:
    """The entry point runs ``twitchwise db upgrade`` and then ``twitchwise serve --accounts
    --host 0.0.0.0 --workers ...``: commands and options that exist."""
    [cmd] = of("CMD")
    words = command_of(cmd)
    assert words[:2] == ["sh", "-c"], "a shell, so that TWITCHWISE_WORKERS is read at start"
    commands = twitchwise_commands(words[2])
    assert [c[:2] for c in commands] == [["db", "upgrade"], ["serve", "--accounts"]]
    serve = commands[1]
    assert "--host" in serve and serve[serve.index("--host") + 1] == "0.0.0.0"
    assert "--workers" in serve and serve[serve.index("--workers") + 1] == "2"
    assert "exec twitchwise serve" in words[2], "exec: serve gets the stop signal"
    for command in commands:
        check_cli(command)
    for rest in of("RUN"):
        for command in twitchwise_commands(rest.split(">")[0]):
            check_cli(command)


def test_the_image_sets_only_real_settings() -> None:
    names = set(_VARIABLE.findall(" ".join(of("ENV"))))
    assert names and names <= settings_variables(), names - settings_variables()


# --------------------------------------------------------------------------- compose.yaml


@cache
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def interpolated(value: str) -> str:
    """A compose value with ``${VAR}``, ``${VAR:?msg}`` and ``${VAR:-x}`` filled in."""
    samples = {
        "APP_DB_PASSWORD": "0123abcd",
        "POSTGRES_PASSWORD": "x",
        "PUBLIC_HOST": "tw.example.org",
    }
    return re.sub(r"\$\{([A-Z_]+)(?::[?-][^}]*)?\}", lambda m: samples[m.group(1)], value)


def test_compose_runs_the_app_and_postgresql() -> None:
    services = compose()["services"]
    assert set(services) == {"app", "db"}
    db, app = services["db"], services["app"]
    assert str(db["image"]).startswith("postgres:")
    [volume] = db["volumes"]
    name, target = volume.split(":", 1)
    assert target == "/var/lib/postgresql/data" and name in compose()["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["build"] == "."
    assert app["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert all(str(p).startswith("127.0.0.1:") for p in app["ports"]), "only the proxy reaches it"
    assert "command" not in app and "entrypoint" not in app, "the image's start command"
    role = compose()["configs"][db["configs"][0]["source"]]["content"]
    assert "NOSUPERUSER" in role and "NOBYPASSRLS" in role


def test_compose_sets_only_real_settings() -> None:
    environment = compose()["services"]["app"]["environment"]
    names = {n for n in environment if n.startswith("TWITCHWISE_")}
    assert names <= settings_variables(), names - settings_variables()
    for needed in ("DATABASE_URL", "ALLOWED_HOSTS", "TRUST_PROXY", "WORKERS", "KEEP_ALIVE"):
        assert PREFIX + needed in names
    assert not set(environment) - names, "only twitchwise's own settings"


def test_compose_settings_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """The values, as the workers will read them, pass the settings model; the stop grace
    period is longer than the graceful timeout."""
    from twitchwise.web.settings import WebSettings

    app = compose()["services"]["app"]
    for name in list(settings_variables()):
        monkeypatch.delenv(name, raising=False)
    for name, value in app["environment"].items():
        monkeypatch.setenv(name, interpolated(str(value)))
    settings = WebSettings.from_env(host="0.0.0.0")
    assert settings.accounts and settings.trust_proxy and settings.workers >= 2
    assert settings.allowed_hosts == ("tw.example.org",)
    assert settings.keep_alive_s > 60, "longer than the proxies' idle timeout in deploy.md"
    url = interpolated(app["environment"]["TWITCHWISE_DATABASE_URL"])
    assert url.startswith("postgresql+psycopg://twitchwise:") and "@db:5432/" in url
    grace = re.fullmatch(r"(\d+)s", app["stop_grace_period"])
    assert grace and int(grace.group(1)) > settings.graceful_timeout_s


# --------------------------------------------------------------------------- docs


def test_deploy_doc_names_real_settings_and_every_one_compose_sets() -> None:
    text = DEPLOY.read_text(encoding="utf-8")
    named = set(_VARIABLE.findall(text))
    assert named <= settings_variables(), named - settings_variables()
    compose_names = {
        n for n in compose()["services"]["app"]["environment"] if n.startswith("TWITCHWISE_")
    }
    assert compose_names <= named, f"document {compose_names - named} in docs/deploy.md"
    for needed in ("twitchwise admin create-user", "pg_dump", "pg_restore", "caddyfile", "nginx",
                   "X-Forwarded-For", "Sizing"):  # fmt: skip
        assert needed in text, needed
    checked = 0
    for words in re.findall(r"^(?:docker compose exec \S+ )?twitchwise ([a-z].*)$", text, re.M):
        command = shlex.split(words.split("#")[0])
        if command and command[0] in ("db", "admin", "serve"):
            check_cli([w for w in command if not w.startswith("<")])
            checked += 1
    assert checked, "no twitchwise command found in docs/deploy.md"


def test_the_check_refuses_what_does_not_exist() -> None:
    with pytest.raises(AssertionError, match="has no option --wokers"):
        check_cli(["serve", "--accounts", "--wokers", "2"])
    with pytest.raises(AssertionError, match="is no command"):
        check_cli(["db", "migrate"])


# --------------------------------------------------------------------------- the build


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.slow
def test_the_image_builds_and_answers() -> None:
    if not _docker_answers():
        pytest.skip("no Docker daemon answers here")
    tag = "twitchwise-test:latest"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True)
    done = subprocess.run(
        ["docker", "run", "--rm", tag, "twitchwise", "serve", "--help"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "--workers" in done.stdout
    user = subprocess.run(
        ["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, check=True
    )
    assert user.stdout.strip() != "0"


def test_every_variable_is_in_the_command_line_docs() -> None:
    """Every variable of the settings model, the serve ones of this step with them, is in
    the environment table of docs/cli.md."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = [v for v in sorted(settings_variables()) if f"| `{v}` |" not in text]
    assert not missing, f"document {missing} in docs/cli.md (Environment)"
