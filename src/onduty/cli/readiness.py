"""`onduty exercise run|list` (tabletop drills) and `onduty doctor` (the process, graded)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onduty.cli.common import JsonOpt, container, err, fail, friendly_errors, out, parse_at, print_json
from onduty.plan.load import PlanInvalid

exercise_app = typer.Typer(help="Tabletop exercises: a scripted incident replayed on the real plan.",
                           no_args_is_help=True, rich_markup_mode="rich")


def _plan(plan_file: Path | None, c: Any) -> tuple[Any, str]:
    """The plan to drill against: a file, or the one applied in the database."""
    from onduty.plan.load import load_plan
    from onduty.plan.schema import Plan

    if plan_file is not None:
        try:
            return load_plan(plan_file), str(plan_file)
        except PlanInvalid as exc:
            for error in exc.errors:
                err.print(f"[red]✗[/] {error}", highlight=False, soft_wrap=True)
            fail(f"{len(exc.errors)} problem(s) in {plan_file}", "fix the plan, or drop --plan to use the applied one")
    with friendly_errors(), c.db.transaction() as store:
        document = store.plan_document()
    if document is None:
        fail("no plan is applied in this database", "apply one (`onduty plan apply onduty.yaml`) or pass --plan FILE")
    return Plan.model_validate(document), "the applied plan"


def _show(result: Any) -> None:
    from onduty.sim.exercise_report import report_data

    data = report_data(result)
    out.print(f"[bold]Drill:[/] {data['scenario']}  [dim]({data['mode']}, {data['time_zone']})[/]")
    pages = Table("when", "incident", "who", "channel", "level", title="Who was paged", title_justify="left")
    for p in data["pages"]:
        pages.add_row(p["local"], f"#{p['incident']}", p["name"], p["channel"], str(p["level"]))
    out.print(pages if data["pages"] else "[red]Nobody was paged.[/]")
    for incident in data["incidents"]:
        out.print(f"[bold]#{incident['id']}[/] {incident['title']} ({incident['severity']}, {incident['type']}, "
                  f"{incident['status']})")
        for clock in incident["clocks"]:
            mark = {"met": "[green]✔ met[/]", "missed": "[red]✘ missed[/]", "met_late": "[yellow]✘ met late[/]",
                    "running": "[yellow]… running[/]"}[clock["state"]]
            out.print(f"   {clock['name']:<13} due {clock['due']}  {mark}")
    checks = Table("", "check", "evidence", title="Expectations and gaps", title_justify="left")
    for check in data["expectations"] + data["findings"]:
        mark = "[green]✔ PASS[/]" if check["passed"] else ("[red]✘ FAIL[/]" if check["must"] else "[yellow]✘ FAIL[/]")
        checks.add_row(mark, check["title"], "\n".join(check["evidence"][:4]))
    out.print(checks)
    out.print(f"[bold]Score {data['score']}/100[/]")
    for index, check in enumerate(data["fix_first"], 1):
        out.print(f" {index}. [bold]{check['title']}[/]: {check['next_step'] or 'see the evidence above'}")


@exercise_app.command("run")
def exercise_run(
    scenario_file: Annotated[Path, typer.Argument(help="The scenario file (YAML).")],
    mode: Annotated[str, typer.Option(help="auto: simulated time, in seconds; live: the wall clock, "
                                           "people act through the CLI or API.")] = "auto",
    at: Annotated[str | None, typer.Option(help="Start time (ISO 8601; naive in the scenario's zone); "
                                                "default: the scenario's own start.")] = None,
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Drill against this plan file instead of "
                                                                  "the applied plan.")] = None,
    markdown: Annotated[Path | None, typer.Option(help="Also write the report as Markdown here.")] = None,
    html: Annotated[Path | None, typer.Option(help="Also write the report as HTML here.")] = None,
    record: Annotated[bool, typer.Option(help="Record the drill (date, scenario, findings) for doctor.")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Run a tabletop exercise on the real plan in a database of its own; drills never count in reports.

    Example: [bold]onduty exercise run examples/agency/exercises/founding-story.yaml --markdown drill.md[/]
    """
    from onduty.app.readiness import record_drill
    from onduty.sim.exercise import DrillError, run_exercise
    from onduty.sim.exercise_report import report_data, to_html, to_markdown
    from onduty.sim.scenario import load_scenario

    if mode not in ("auto", "live"):
        fail(f"--mode {mode!r} is not a mode", "use --mode auto (simulated time) or --mode live (the wall clock)")
    c = container()
    plan, source = _plan(plan_file, c)
    try:
        scenario = load_scenario(scenario_file, {s.id for s in plan.services}, {p.id for p in plan.people})
    except PlanInvalid as exc:
        for error in exc.errors:
            err.print(f"[red]✗[/] {error}", highlight=False, soft_wrap=True)
        fail(f"{len(exc.errors)} problem(s) in {scenario_file}", "see docs: the scenario format is in the README")
    start = parse_at(at, scenario.time_zone)
    with friendly_errors(), c.db.transaction() as store:
        begins = scenario.starts_at(start, c.clock.now())
        overrides = store.overrides(None, begins, begins + scenario.duration)
    chosen: Literal["auto", "live"] = "live" if mode == "live" else "auto"
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[at]}"),
                  TimeElapsedColumn(), console=err, transient=True, disable=as_json) as progress:
        task = progress.add_task(scenario.name, total=scenario.duration.total_seconds(), at="")

        def say(when: datetime, text: str) -> None:
            progress.update(task, completed=(when - begins).total_seconds(), at=f"{when:%H:%M:%S}")
            if chosen == "live":
                err.print(f"{when:%H:%M:%S} {text}")

        def ready(drill: Any) -> None:
            if chosen == "live":
                err.print(f"[bold]Live drill[/] on {drill.database}. Act as you would for real, e.g.\n"
                          f"  ONDUTY_DATABASE_URL={drill.database} onduty incidents list")

        try:
            result = run_exercise(scenario, plan, source, mode=chosen, at=start, overrides=overrides, say=say,
                                  now=c.clock.now(), on_ready=ready)
        except DrillError as exc:
            fail(str(exc), "check the scenario's steps against what the plan pages")
    if record:
        with friendly_errors():
            record_drill(c.db.transaction, scenario.name, str(scenario_file), chosen, c.clock.now(),
                         result.started_at, scenario.participants,
                         [{"id": k.id, "title": k.title, "passed": k.passed, "evidence": k.evidence}
                          for k in result.expectations + result.findings], result.score)
    if markdown is not None:
        markdown.write_text(to_markdown(result), encoding="utf-8")
    if html is not None:
        html.write_text(to_html(result), encoding="utf-8")
    if as_json:
        print_json(report_data(result))
    else:
        _show(result)


@exercise_app.command("list")
def exercise_list(as_json: JsonOpt = False) -> None:
    """The drills held, newest first (what `onduty doctor` counts).

    Example: [bold]onduty exercise list[/]
    """
    c = container()
    with friendly_errors(), c.db.transaction() as store:
        drills = store.drills()
    rows = [{"held_at": d.held_at.isoformat(), "name": d.name, "scenario": d.scenario, "mode": d.mode,
             "score": d.score, "participants": list(d.participants),
             "failed": [f["title"] for f in d.findings if not f.get("passed")]} for d in drills]
    if as_json:
        print_json(rows)
        return
    table = Table("held", "drill", "mode", "score", "failed checks")
    for row in rows:
        table.add_row(row["held_at"][:16], row["name"], row["mode"], str(row["score"]), "\n".join(row["failed"]))
    out.print(table if rows else "No drill recorded yet: run one with `onduty exercise run SCENARIO`.")


def doctor(as_json: JsonOpt = False) -> None:
    """Grade the plan and the database against the minimum viable incident process.

    Exits 1 when a must-have fails, so it can run in CI.

    Example: [bold]onduty doctor --json[/]
    """
    from onduty.app.readiness import doctor as grade_process
    from onduty.domain.readiness import fix_first, score

    c = container()
    with friendly_errors():
        checks = grade_process(c.db.transaction, c.clock.now())
    failed_must = any(k.must and not k.passed for k in checks)
    if as_json:
        print_json({"score": score(checks), "ok": not failed_must, "checks": [
            {"id": k.id, "title": k.title, "must": k.must, "passed": k.passed, "evidence": k.evidence,
             "next_step": k.next_step} for k in checks]})
    else:
        for check in checks:
            mark = "[green]✔[/]" if check.passed else ("[red]✘[/]" if check.must else "[yellow]![/]")
            kind = "must" if check.must else "should"
            out.print(f"{mark} [bold]{check.title}[/] [dim]({kind})[/]")
            for line in check.evidence[:6]:
                out.print(f"    [dim]{line}[/]", highlight=False)
            if len(check.evidence) > 6:
                out.print(f"    [dim]… {len(check.evidence) - 6} more[/]")
            if check.next_step:
                out.print(f"    [bold]next:[/] {check.next_step}", highlight=False)
        out.print(f"\n[bold]Score {score(checks)}/100[/]"
                  + (f"; fix first: {fix_first(checks)[0].title}" if fix_first(checks) else ""))
    if failed_must:
        raise typer.Exit(1)
