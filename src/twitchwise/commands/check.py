"""``twitchwise check``: the adaptive interview, asked in the terminal or answered from a file.

The questions and when to stop come from :mod:`twitchwise.reason.interview`; this module only
asks them (questionary, arrow keys), shows how things stand, and prints the Quick Clear Answer.
Everything heavy is imported inside the functions, so ``twitchwise ask`` does not pay for it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from twitchwise.commands._common import (
    ANSWER_FORMATS,
    FormatOpt,
    WidthOpt,
    check_format,
    long_running,
    print_answer,
    twitchwise_app,
)
from twitchwise.errors import InputError

if TYPE_CHECKING:
    from twitchwise.app.core import Twitchwise
    from twitchwise.app.interview import (
        Answered,
        InterviewState,
        Policy,
        Question,
        Stop,
    )

#: What a person can reply: an answer for ``interview.answer``, or a way out.
Reply = bool | int | list[int] | None
Action = Literal["back", "quit"]
Asker = Callable[["Question", int], "Reply | Action"]

NOT_TTY = (
    "'twitchwise check' asks its questions in a terminal; from a script or a pipe, give the "
    "answers with --answers FILE.json (a JSON object of finding ids to true or false)"
)


def check(
    text: Annotated[
        list[str] | None,
        typer.Argument(help="Optional: what you notice, in your own words, to start from."),
    ] = None,
    answers: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            help="JSON file of finding ids to true/false: answer from it instead of asking "
            "(questions it does not cover are answered 'not sure').",
        ),
    ] = None,
    fmt: FormatOpt = "terminal",
    max_questions: Annotated[
        int | None,
        typer.Option("--max-questions", help="Ask at most this many questions (default 16)."),
    ] = None,
    width: WidthOpt = None,
) -> None:
    """Answer a few questions, one at a time, and get a Quick Clear Answer.

    Warning signs are asked about first, then the questions that best tell the likely causes
    apart. Example: twitchwise check "my eyelid keeps twitching"
    """
    long_running()
    from twitchwise.app.interview import Policy

    check_format(fmt, ANSWER_FORMATS)
    policy = Policy()
    if max_questions is not None:
        if max_questions < 1:
            raise InputError(f"--max-questions must be at least 1, not {max_questions}")
        policy = Policy(max_questions=max_questions)
    tw = twitchwise_app()
    mapping = _read_answers(answers, tw) if answers is not None else None
    if mapping is None and not sys.stdin.isatty():
        raise InputError(NOT_TTY)
    state = tw.interview(" ".join(text or [])).state
    if mapping is not None:
        state, stop = tw.interview_run(state, mapping, policy)
    else:
        state, stop = interview_loop(state, tw, policy, _questionary_asker(), typer.echo)
    answer, data = tw.interview_result(state, stop)
    if fmt == "json":
        import json

        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    if fmt == "terminal" and mapping is not None:
        typer.echo(transcript(tw, state.asked, stop))
    print_answer(answer, fmt, width)


def _read_answers(path: Path, tw: Twitchwise) -> dict[str, bool]:
    """The answers file: a JSON object of known finding ids to true or false."""
    import json

    example = 'for example {"weakness": false, "twitching": true}'
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            f"cannot read the answers file {str(path)!r} ({reason}); give a JSON file of "
            f"finding ids to true or false, {example}"
        ) from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"the answers file {str(path)!r} is not valid JSON (line {exc.lineno}: {exc.msg}); "
            f"write an object of finding ids to true or false, {example}"
        ) from None
    if not isinstance(data, dict):
        raise InputError(
            f"the answers file {str(path)!r} must hold a JSON object of finding ids to true or "
            f"false, {example}"
        )
    try:
        tw.finding_ids(list(data))
    except InputError as exc:
        raise InputError(f"the answers file {str(path)!r}: {exc}") from None
    out: dict[str, bool] = {}
    for fid, value in data.items():
        if not isinstance(value, bool):
            raise InputError(
                f"the answer for {fid!r} in the answers file must be true or false, not "
                f"{json.dumps(value)}"
            )
        out[fid] = value
    return out


# --------------------------------------------------------------------------- the loop


def interview_loop(
    state: InterviewState,
    tw: Twitchwise,
    policy: Policy,
    ask: Asker,
    show: Callable[[str], None],
) -> tuple[InterviewState, Stop]:
    """Ask until the policy stops (or the person quits), showing progress after each answer.

    ``ask`` gets the question and its number and returns the reply, ``"back"`` or ``"quit"``.
    """
    from twitchwise.app.interview import Stop

    now = tw.interview_view(state, policy)
    if state.start.observations:
        show(progress_line(now.progress))
    while True:
        question = now.question
        if question is None:
            assert now.stop is not None
            show(now.stop.text)
            return now.state, now.stop
        reply = ask(question, len(now.state.asked) + 1)
        if reply == "back":
            if now.state.asked:
                now = tw.interview_view(now.state.back(), policy)
            continue
        if reply == "quit":
            stop = Stop("quit", "Stopped at your request.")
            show(stop.text)
            return now.state, stop
        now = tw.interview_answer(now.state, question.id, reply, policy)
        show(progress_line(now.progress))


def progress_line(progress: Any) -> str:
    """One line: the triage so far and the three leading causes."""
    from twitchwise.answer.render import LEVEL_TITLE

    causes = ", ".join(f"{name.lower()} {round(p * 100)}%" for _, name, p in progress.leading)
    return f"  So far: {LEVEL_TITLE[progress.level]}. Most likely: {causes}."


def transcript(tw: Twitchwise, asked: tuple[Answered, ...], stop: Stop) -> str:
    """The questions asked and their answers, numbered, then why it stopped."""
    import textwrap

    lines = [f"Questions asked ({len(asked)}):"]
    for i, a in enumerate(asked, 1):
        lines.append(
            textwrap.fill(a.text, width=100, initial_indent=f"{i:>2}. ", subsequent_indent="    ")
        )
        lines.append(f"    Answer: {tw.describe_answer(a)}")
    lines += ["", stop.text, ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- questionary


def _questionary_asker() -> Asker:  # pragma: no cover - needs a terminal
    """Arrow-key questions in the terminal (questionary)."""
    import questionary
    from questionary import Choice, Separator

    ways_out: list[Any] = [Separator(), Choice("Go back", "back"), Choice("Quit", "quit")]

    def ask(question: Question, number: int) -> Reply | Action:
        title = f"{number}. {question.text}"
        hint = f"({question.help})" if question.help else None
        if question.kind == "finding":
            reply: Any = questionary.select(
                title,
                choices=[
                    Choice("Yes", True),
                    Choice("No", False),
                    Choice("Not sure", "unsure"),
                    *ways_out,
                ],
                instruction=hint,
            ).ask()
        elif question.kind in ("one_of", "quantity"):
            reply = questionary.select(
                title,
                choices=[
                    *(Choice(o.label, i) for i, o in enumerate(question.options)),
                    Choice("Not sure", "unsure"),
                    *ways_out,
                ],
                instruction=hint,
            ).ask()
        else:
            picked = questionary.checkbox(
                title,
                choices=[
                    *(Choice(o.label, i) for i, o in enumerate(question.options)),
                    Separator(),
                    Choice("Not sure", "unsure"),
                    Choice("Go back", "back"),
                    Choice("Quit", "quit"),
                ],
                instruction="(space to choose, enter to confirm; choose nothing if none apply)",
            ).ask()
            if picked is None:
                raise typer.Abort()
            for special in ("quit", "back", "unsure"):
                if special in picked:
                    reply = special
                    break
            else:
                reply = [i for i in picked if isinstance(i, int)]
        if reply is None:  # Ctrl-C
            raise typer.Abort()
        if reply == "unsure":
            return None
        return reply  # type: ignore[no-any-return]

    return ask


def register(app: typer.Typer) -> None:
    app.command()(check)
