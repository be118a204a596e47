"""`onduty plan check|apply`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from onduty.cli.common import container, err, friendly_errors, out
from onduty.plan.load import PlanInvalid

plan_app = typer.Typer(help="Check and apply the plan (onduty.yaml).", no_args_is_help=True)

def _load(file: Path) -> Any:
    from onduty.plan.load import load_plan

    try:
        return load_plan(file)
    except PlanInvalid as exc:
        for error in exc.errors:
            err.print(f"[red]✗[/] {error}", highlight=False, soft_wrap=True)
        err.print(f"[bold red]{len(exc.errors)} problem(s)[/] in {file}; nothing was applied.")
        raise typer.Exit(1) from None


@plan_app.command("check")
def plan_check(file: Annotated[Path, typer.Argument(help="The plan file.")] = Path("onduty.yaml")) -> None:
    """Validate a plan without touching the database.

    Example: [bold]onduty plan check examples/agency/onduty.yaml[/]
    """
    plan = _load(file)
    out.print(f"[green]✓[/] {file}: {len(plan.people)} people, {len(plan.clients)} clients, "
              f"{len(plan.services)} services, {len(plan.schedules)} schedules, "
              f"{len(plan.escalation_policies)} escalation policies")


@plan_app.command("apply")
def plan_apply(file: Annotated[Path, typer.Argument(help="The plan file.")] = Path("onduty.yaml")) -> None:
    """Validate and apply a plan in one transaction; applying the same plan again changes nothing.

    Example: [bold]onduty plan apply examples/agency/onduty.yaml[/]
    """
    from onduty.app.plans import apply_plan

    plan = _load(file)
    c = container()
    with friendly_errors():
        result = apply_plan(c.db, plan, str(file), c.clock.now())
    if not result.changed:
        out.print(f"[green]✓[/] {file} is already applied (plan {result.sha256[:12]}); nothing changed")
    else:
        out.print(f"[green]✓[/] applied {file} (plan {result.sha256[:12]}): {result.added} added, "
                  f"{result.updated} changed, {result.removed} retired")


