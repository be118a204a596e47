"""The `onduty` command line: parse, call a use case, print with Rich."""

from __future__ import annotations

import typer

from onduty.cli.alerting import heartbeat_app, silence_app
from onduty.cli.audit import audit_app
from onduty.cli.comms import comms_app
from onduty.cli.demo import demo
from onduty.cli.exports import export_app
from onduty.cli.feeds import drift, feeds_app
from onduty.cli.incidents import incidents_app
from onduty.cli.keys import keys_app
from onduty.cli.oncall import oncall, page
from onduty.cli.pir import pir_app
from onduty.cli.plan import plan_app
from onduty.cli.playbook import register as register_playbook
from onduty.cli.readiness import doctor, exercise_app
from onduty.cli.report import report_app
from onduty.cli.report_summary import summary_report as _summary  # noqa: F401  (registers report summary)
from onduty.cli.runtime import run_worker, serve
from onduty.cli.schedules import override_app, swap
from onduty.cli.users import portal_app, users_app

app = typer.Typer(
    help="onduty: incident response for teams that run production AI systems for clients.",
    no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False,
)
app.add_typer(plan_app, name="plan")
app.add_typer(keys_app, name="keys")
register_playbook(incidents_app)
app.add_typer(incidents_app, name="incidents")
incidents_app.add_typer(comms_app, name="comms")
app.add_typer(override_app, name="override")
app.add_typer(export_app, name="export")
app.add_typer(report_app, name="report")
app.add_typer(silence_app, name="silence")
app.add_typer(heartbeat_app, name="heartbeat")
app.add_typer(exercise_app, name="exercise")
app.add_typer(feeds_app, name="feeds")
app.add_typer(users_app, name="users")
app.add_typer(portal_app, name="portal")
app.add_typer(pir_app, name="pir")
app.add_typer(audit_app, name="audit")
app.command()(demo)
app.command()(serve)
app.command("worker")(run_worker)
app.command()(oncall)
app.command()(page)
app.command()(swap)
app.command()(doctor)
app.command()(drift)


def main() -> None:
    app()
