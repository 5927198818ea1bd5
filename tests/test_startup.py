"""What an answer imports: the start-up of ``twitchwise ask`` depends on it (issue 12).

Each test runs a fresh interpreter (this process has imported everything already) and looks at
``sys.modules`` once the answer is made. The cache folder is the test session's (conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import sys

TEXT = "my left eyelid has twitched for 3 days, 4 coffees a day, slept 5 hours, no weakness"

#: Prints the top-level packages imported by the code before it, as JSON on the last line.
_REPORT = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"


def imported_after(code: str) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    proc = subprocess.run(
        [sys.executable, "-c", f"{code}\n{_REPORT}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.splitlines()[-1]))


ASK = f"import twitchwise; answer = twitchwise.ask({TEXT!r})"


def test_ask_imports_no_pydantic_even_when_it_builds_the_knowledge_base() -> None:
    modules = imported_after(f"import os; os.environ['TWITCHWISE_NO_CACHE'] = '1'\n{ASK}")
    assert "yaml" in modules, "without the cache the YAML is read and validated"
    assert not {"pydantic", "pydantic_core"} & modules


def test_ask_from_the_cache_imports_neither_pydantic_nor_yaml_nor_rich() -> None:
    imported_after(ASK)  # writes the cache if this is the session's first answer
    modules = imported_after(f"{ASK}\nanswer.render('json')")
    assert not {"pydantic", "pydantic_core", "yaml", "rich", "jinja2"} & modules


def test_rich_is_imported_for_the_terminal_format_only() -> None:
    """Rich draws only on a real terminal (colour); plain ASCII text is drawn without it."""
    modules = imported_after(f"{ASK}\nanswer.render('terminal', color=True)")
    assert "rich" in modules
    assert not {"pydantic", "pydantic_core"} & modules
    plain = imported_after(f"{ASK}\nanswer.render('terminal')")
    assert not {"rich", "pydantic", "pydantic_core"} & plain


def test_cli_ask_imports_no_pydantic() -> None:
    """The command line's own dispatch too: typer 0.29 and later import pydantic to convert
    options (pyproject.toml keeps typer below it)."""
    code = (
        f"from twitchwise.cli import main\nassert main(['ask', '--format', 'json', {TEXT!r}]) == 0"
    )
    modules = imported_after(code)
    assert not {"pydantic", "pydantic_core", "yaml", "rich"} & modules
