"""`onduty demo`: the founding story on the real engine, in simulated time."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.table import Table

from onduty.cli.common import JsonOpt, friendly_errors, out, print_json
from onduty.cli.render import timeline_table
from onduty.domain.review import humanize


def demo(
    plan: Annotated[Path | None, typer.Option(help="Plan to use (default: examples/agency/onduty.yaml).")] = None,
    as_json: JsonOpt = False,
    serve: Annotated[bool, typer.Option(
        help="Then serve the web console with the demo's incident (only when run from a terminal).")] = True,
    port: Annotated[int, typer.Option(help="Port for the console (another free one if taken).", min=1,
                                      max=65535)] = 8080,
) -> None:
    """Replay the story onduty grew from, in simulated time, on a throwaway SQLite database;
    then serve the web console on it, with a one-time sign-in link (unless --no-serve or no terminal).

    Example: [bold]onduty demo --no-serve[/]
    """
    from onduty.sim.demo import STORY, ZONE, run_demo

    def say(when: datetime, text: str) -> None:
        if not as_json:
            out.print(f"[dim]{when.astimezone(ZONE):%a %H:%M:%S}[/]  {text}")

    if not as_json:
        out.print(Panel.fit(
            "A recommendation engine for an online shop, fed by the shop's product-catalog feed.\n"
            "Friday evening, Chicago. The feed is about to go bad. Last time this took 7 hours.",
            title="onduty demo", border_style="cyan"))
    with friendly_errors():
        try:
            result = run_demo(say, plan)
        except FileNotFoundError as exc:
            from onduty.cli.common import fail

            fail(str(exc), "onduty demo --plan path/to/onduty.yaml")
    figures = {name: getattr(result.figures, name) for name in STORY}
    if as_json:
        print_json({
            "incident": result.incident.id, "status": result.incident.status,
            "figures_seconds": {k: v.total_seconds() if v is not None else None for k, v in figures.items()},
            "story": STORY, "pages": [m.idempotency_key for m in result.pages],
        })
        return
    out.print(timeline_table(result.timeline, ZONE, f"Incident #{result.incident.id}"))
    table = Table(title="The same failure, twice")
    table.add_column("")
    table.add_column("with onduty", style="bold green")
    table.add_column("the story", style="red")
    labels = {"time_to_detect": "time to detect", "time_to_engage": "time to engage (right person paged)",
              "time_to_acknowledge": "time to acknowledge", "time_to_resolve": "time to resolve",
              "duration": "incident duration (first bad signal → resolved)"}
    for name, label in labels.items():
        table.add_row(label, humanize(figures[name]), STORY[name])
    out.print(table)
    if not (serve and sys.stdin.isatty()):
        out.print("[dim]Next: `onduty serve` runs the real thing; see README.md for the API tour.[/]")
        return
    serve_console(result.database, port, result.timeline[-1].at)


def serve_console(database_url: str, port: int, resume_at: datetime) -> None:
    """Serve the console on the demo's database, its time running on from `resume_at`, until Ctrl-C."""
    import uvicorn

    from onduty.sim.console import demo_console, free_port
    from onduty.web.app import create_app

    console = demo_console(database_url, free_port(port), resume_at)
    out.print(Panel.fit(
        f"The console is at [bold]{console.url}[/] with the demo's incident in it.\n"
        f"Sign in as Lucía (admin), once, within 15 minutes:\n  [bold]{console.login_url}[/]\n"
        f"What Northwind's contacts see (client portal):\n  {console.portal_url}\n"
        "Ctrl-C stops it.", title="onduty console", border_style="green"))
    uvicorn.run(create_app(console.container), host="127.0.0.1", port=int(console.url.rsplit(":", 1)[1]),
                log_level="warning", access_log=False)
