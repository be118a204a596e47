"""`onduty pir ID show|edit|actions|complete|export`: the post-incident review of one incident."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table

from onduty.app.exports.review import NoPdfEngine, export_review, pdf_engine
from onduty.app.reviews import (
    ReviewBundle,
    ReviewIncomplete,
    RootCauseRefused,
    action_dict,
    add_action,
    bundle_dict,
    complete_review,
    edit_review,
    review_bundle,
    update_action,
)
from onduty.cli.common import JsonOpt, container, current_user, err, fail, friendly_errors, out, print_json
from onduty.domain.review import ACTION_STATUSES, SECTIONS, humanize, response_figures
from onduty.domain.review_draft import first_abnormal_signal, minute

pir_app = typer.Typer(help="The post-incident review of an incident: show, edit, actions, complete, export.\n\n"
                           "Example: [bold]onduty pir 12 show[/]",
                      no_args_is_help=True, rich_markup_mode="rich")
actions_app = typer.Typer(help="Preventive actions of a review: add, update, list.\n\n"
                               "Example: [bold]onduty pir 12 actions list[/]", no_args_is_help=True,
                          rich_markup_mode="rich")
pir_app.add_typer(actions_app, name="actions")
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (default: you).")]


@pir_app.callback()
def pir(ctx: typer.Context, incident_id: Annotated[int, typer.Argument(help="The incident number.")]) -> None:
    """The post-incident review of incident ID (drafted when it resolved).

    Example: [bold]onduty pir 12 show[/]
    """
    ctx.obj = incident_id


def _due(text: str, option: str = "--due") -> datetime:
    """A bare date is due at the end of that day (UTC); a time is taken as given (naive means UTC)."""
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time(23, 59), tzinfo=UTC)
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date", "write it like 2026-12-15 or 2026-12-15T17:00", 2)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _actions_table(bundle: ReviewBundle, now: datetime) -> Table:
    table = Table("#", "action", "owner", "due", "status", "tracker", box=box.SIMPLE_HEAD, title="Preventive actions")
    people = bundle.directory.people
    for a in bundle.actions:
        status = f"[bold red]{a.status} (overdue)[/]" if a.overdue(now) else a.status
        table.add_row(str(a.id), a.title, people[a.owner].name if a.owner in people else a.owner,
                      f"{a.due_at:%Y-%m-%d}", status, a.tracker_url or "—")
    return table


def _load(incident_id: int) -> tuple[Any, ReviewBundle]:
    c = container()
    with friendly_errors():
        return c, review_bundle(c.db, incident_id, c.clock.now())


@pir_app.command("show")
def show(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Show the review: figures, sections, actions, and who changed what.

    Example: [bold]onduty pir 12 show[/]
    """
    c, bundle = _load(ctx.obj)
    if as_json:
        print_json(bundle_dict(bundle))
        return
    review, now = bundle.review, c.clock.now()
    owner = bundle.directory.people.get(review.owner)
    due = minute(review.due_at) if review.due_at else "optional"
    late = " [bold red](overdue)[/]" if review.overdue(now) else ""
    out.print(Panel(f"{bundle.incident.title}\nstatus [bold]{review.status}[/], owner "
                    f"{owner.name if owner else review.owner} ({review.owner_reason}), due {due}{late}",
                    title=f"Review of incident {review.incident_id}"))
    figures = response_figures(bundle.incident, bundle.facts.timeline, first_abnormal_signal(bundle.facts)[0])
    table = Table("figure", "value", box=box.SIMPLE_HEAD)
    for name, value in vars(figures).items():
        table.add_row(name.replace("_", " "), humanize(value))
    out.print(table)
    for name in SECTIONS:
        text = review.sections.get(name, "").strip()
        edited = " (edited)" if name in review.edited else ""
        out.print(Panel(Markdown(text) if text else "[dim](empty)[/]", title=name.replace("_", " ") + edited,
                        title_align="left"))
    if bundle.actions:
        out.print(_actions_table(bundle, now))
    changes = Table("when (UTC)", "who", "what", box=box.SIMPLE_HEAD, title="Changes")
    for change in bundle.changes:
        changes.add_row(minute(change.at, ""), change.by, change.what)
    out.print(changes)
    if bundle.problems and review.status == "draft":
        out.print("[yellow]Before it can be completed:[/]\n" + "\n".join(f"  - {p}" for p in bundle.problems))


@pir_app.command("edit")
def edit(
    ctx: typer.Context,
    section: Annotated[str, typer.Option("--section", help=f"One of: {', '.join(SECTIONS)}.")] = "",
    text: Annotated[str | None, typer.Option("--text", help="The section's new text.")] = None,
    from_file: Annotated[Path | None, typer.Option("--from-file", help="Read the text from this file.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Hand the review to this person (id).")] = None,
    by: ByOpt = "",
) -> None:
    """Write a section (or hand the review to a new owner); the change is kept with who and when.

    Example: [bold]onduty pir 12 edit --section root_cause --text "catalog batches had no schema check"[/]
    """
    if section and (text is None) == (from_file is None):
        fail("give the section's text with exactly one of --text or --from-file",
             f"onduty pir {ctx.obj} edit --section {section} --text \"…\"", 2)
    if not section and owner is None:
        fail("nothing to change: give --section with --text/--from-file, or --owner",
             f"onduty pir {ctx.obj} edit --section root_cause --from-file cause.md", 2)
    if from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except OSError as exc:
            fail(f"--from-file {from_file}: {exc.strerror}", "check the path", 2)
    c = container()
    with friendly_errors():
        try:
            edit_review(c.db, ctx.obj, {section: text or ""} if section else {}, by or current_user(),
                        c.clock.now(), owner=owner)
        except RootCauseRefused as exc:
            fail(f"root cause refused: {exc}", f"onduty pir {ctx.obj} edit --section root_cause --text \"…\"")
    out.print(f"[green]✓[/] review of incident {ctx.obj} updated")


@pir_app.command("complete")
def complete(ctx: typer.Context, by: ByOpt = "") -> None:
    """Complete the review; refused while a required section is empty or the root cause is refused.

    Example: [bold]onduty pir 12 complete --by hannah[/]
    """
    c = container()
    with friendly_errors():
        try:
            complete_review(c.db, ctx.obj, by or current_user(), c.clock.now())
        except ReviewIncomplete as exc:
            err.print("[bold red]error:[/] the review cannot be completed yet:")
            for problem in exc.problems:
                err.print(f"  - {problem}")
            err.print(f"[dim]next:[/] onduty pir {ctx.obj} show")
            raise typer.Exit(1) from None
    out.print(f"[green]✓[/] review of incident {ctx.obj} completed")


@pir_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="md, html or pdf.")] = "md",
    audience: Annotated[str, typer.Option("--audience", help="internal, or client (roles only, no internal notes).")]
    = "internal",
    output: Annotated[Path | None, typer.Option("-o", "--out", help="Write to this file (default: stdout).")] = None,
) -> None:
    """Export the review as Markdown, self-contained HTML, or PDF (where a PDF engine is installed).

    Example: [bold]onduty pir 12 export --format html --audience client -o review.html[/]
    """
    if fmt not in ("md", "html", "pdf"):
        fail(f"--format {fmt!r} is not one of md, html, pdf", f"onduty pir {ctx.obj} export --format html", 2)
    if audience not in ("internal", "client"):
        fail(f"--audience {audience!r} is not internal or client", f"onduty pir {ctx.obj} export --audience client", 2)
    if fmt == "pdf" and output is None:
        fail("a PDF needs -o FILE", f"onduty pir {ctx.obj} export --format pdf -o review.pdf", 2)
    _, bundle = _load(ctx.obj)
    with friendly_errors():
        try:
            data = export_review(bundle, fmt, audience)  # type: ignore[arg-type]
        except NoPdfEngine as exc:
            fail(str(exc), f"onduty pir {ctx.obj} export --format html -o review.html")
    if output is None:
        typer.echo(data.decode())
        return
    output.write_bytes(data)
    engine = f" (printed with {pdf_engine()})" if fmt == "pdf" else ""
    err.print(f"[green]✓[/] wrote {output} ({len(data):,} bytes, {audience} version){engine}")


@actions_app.command("add")
def actions_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="What will be done.")],
    owner: Annotated[str, typer.Option("--owner", help="Who does it (a person id).")],
    due: Annotated[str, typer.Option("--due", help="Due date (a bare date means the end of that day, UTC).")],
    tracker: Annotated[str | None, typer.Option("--tracker", help="Link to the ticket in your tracker.")] = None,
    by: ByOpt = "",
) -> None:
    """Add a preventive action to the review.

    Example: [bold]onduty pir 12 actions add --title "schema check on catalog batches" --owner aiko --due 2026-12-15[/]
    """
    c = container()
    with friendly_errors():
        action = add_action(c.db, ctx.obj, title, owner, _due(due), by or current_user(), c.clock.now(), tracker)
    out.print(f"[green]✓[/] action {action.id} added")


@actions_app.command("update")
def actions_update(
    ctx: typer.Context,
    action_id: Annotated[int, typer.Argument(help="The action's number (from `actions list`).")],
    status: Annotated[str | None, typer.Option("--status", help=", ".join(ACTION_STATUSES))] = None,
    title: Annotated[str | None, typer.Option("--title")] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    due: Annotated[str | None, typer.Option("--due")] = None,
    tracker: Annotated[str | None, typer.Option("--tracker")] = None,
    by: ByOpt = "",
) -> None:
    """Change an action's status, owner, due date, title or tracker link.

    Example: [bold]onduty pir 12 actions update 3 --status done[/]
    """
    c = container()
    with friendly_errors():
        update_action(c.db, ctx.obj, action_id, by or current_user(), c.clock.now(), title=title, owner=owner,
                      due_at=_due(due) if due else None, status=status, tracker_url=tracker)
    out.print(f"[green]✓[/] action {action_id} updated")


@actions_app.command("list")
def actions_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the review's preventive actions (overdue ones in red).

    Example: [bold]onduty pir 12 actions list --json[/]
    """
    c, bundle = _load(ctx.obj)
    if as_json:
        print_json([action_dict(a) for a in bundle.actions])
    elif not bundle.actions:
        out.print(f"no actions yet; add one with `onduty pir {ctx.obj} actions add`")
    else:
        out.print(_actions_table(bundle, c.clock.now()))


