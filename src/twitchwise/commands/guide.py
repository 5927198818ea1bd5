"""``twitchwise guide TOPIC`` and ``twitchwise site build DIR``.

Everything heavier than Typer is imported inside the commands, so start-up of other commands
is unchanged.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from twitchwise.commands._common import (
    ANSWER_FORMATS,
    LIST_FORMATS,
    FormatOpt,
    WidthOpt,
    check_format,
    long_running,
    print_rows,
    terminal_style,
    twitchwise_app,
)
from twitchwise.errors import InputError

site_app = typer.Typer(
    name="site",
    help="Build the static website of every guide.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def guide(
    topic: Annotated[
        str | None, typer.Argument(help="A body region or situation, e.g. knee or after-workout.")
    ] = None,
    fmt: FormatOpt = "terminal",
    list_: Annotated[
        bool, typer.Option("--list", help="List every topic (with --format json: id and title).")
    ] = False,
    width: WidthOpt = None,
) -> None:
    """Show the guide for a body region or situation: causes, warning signs, what to do.

    A name that is not a topic's own (an alias, a plural, a body region with no guide of its
    own, a misspelling) shows the closest guide and says which on stderr; a name that fits
    several guides equally lists them.

    Example: twitchwise guide knee
    """
    tw = twitchwise_app()
    if list_:
        check_format(fmt, LIST_FORMATS)
        rows = [{"id": t.id, "title": t.title} for t in tw.topics()]
        if fmt == "json":
            typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            print_rows(rows, fmt)
        return
    if topic is None or not topic.strip():
        raise InputError(
            "name a topic, for example: twitchwise guide knee (twitchwise guide --list shows all)"
        )
    check_format(fmt, ANSWER_FORMATS)
    from twitchwise.guides.build import resolve_topic

    match = resolve_topic(topic, tw.kb)
    if match.topic is None:
        # several guides fit the name equally: nothing is shown, the error names them
        raise InputError(match.note, field="topic", suggestions=[t.id for t in match.choices])
    if match.note:
        # a near miss (an alias, a plural, a body region with no guide of its own, a typo):
        # say which guide this is, on stderr so that stdout holds only the guide
        typer.echo(f"note: {match.note}", err=True)
    built = tw.guide(match.topic)
    tty, width = terminal_style(fmt, width)
    typer.echo(built.render(fmt, width=width, color=tty), nl=fmt == "json")


def site_build(
    directory: Annotated[str, typer.Argument(help="Folder to write the site into.")],
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Public address the site will be published at (https://...): canonical "
            "links, og:url and sitemap.xml. Without it the build is local.",
        ),
    ] = None,
    no_search: Annotated[
        bool,
        typer.Option("--no-search", help="Leave out the site search (no Pagefind index)."),
    ] = False,
) -> None:
    """Write a static website: every guide, a page per cause, the checklist, search, a sitemap.

    Example: twitchwise site build public/ --base-url https://example.org/twitch/
    """
    long_running()
    from pathlib import Path

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from twitchwise.guides.site import build_site

    console = Console(stderr=True)
    with Progress(
        TextColumn("building site"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task("", total=None)

        def step(rel: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=rel)

        report = build_site(
            Path(directory),
            base_url=base_url,
            search=not no_search,
            progress=step,
            kb=twitchwise_app().kb,
        )
    typer.echo(f"wrote {len(report.pages)} files to {report.root}")
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)


def register(app: typer.Typer) -> None:
    app.command()(guide)
    site_app.command("build")(site_build)
    app.add_typer(site_app, name="site")
