"""`onduty export calendar|contacts|chart`: copies of the plan and the rota that work without onduty."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from onduty.app.exports.calendar import FeedKind, calendar_feed, check_feed_exists, feed_token, feed_url
from onduty.app.exports.chart import chart_html, escalation_chart
from onduty.app.exports.contacts import contact_sheet, contacts_csv, contacts_html, contacts_vcard
from onduty.app.ports import NotFound
from onduty.cli.common import container, err, fail, friendly_errors

export_app = typer.Typer(
    help="Offline copies: calendar feeds of on-call shifts, the contact list, escalation charts.",
    no_args_is_help=True, rich_markup_mode="rich",
)

OutOpt = Annotated[Path | None, typer.Option("--out", help="Write to this file instead of standard output.",
                                             dir_okay=False)]


def emit(text: str | bytes, out_file: Path | None, what: str) -> None:
    """Write to standard output (exactly the bytes, nothing added) or to `out_file`, noting it on stderr."""
    data = text.encode() if isinstance(text, str) else text
    if out_file is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out_file.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {what} to {out_file}: {exc.strerror}", "pick a path in a folder you can write to")
    err.print(f"[green]✓[/] wrote {what} to {out_file}")


@export_app.command("calendar")
def calendar(
    schedule: Annotated[str | None, typer.Option(help="The shifts of this schedule.")] = None,
    person: Annotated[str | None, typer.Option(help="This person's shifts across every schedule.")] = None,
    url: Annotated[bool, typer.Option("--url", help="Print the secret feed URL to subscribe to instead.")] = False,
    out_file: OutOpt = None,
) -> None:
    """An iCalendar (RFC 5545) feed of on-call shifts, times in UTC.

    One event per shift, 14 days back to 90 days ahead; cover shifts say
    whom they cover and why. With --url, prints the feed's address (from
    ONDUTY_PUBLIC_URL) with its secret token, for a calendar app to
    subscribe to: anyone holding that URL can read the feed, so share it
    like a password.

    Example:
      [bold]onduty export calendar --schedule ml-primary --url[/]
      [bold]onduty export calendar --person aiko --out aiko.ics[/]
    """
    if (schedule is None) == (person is None):
        fail("give exactly one of --schedule or --person",
             "onduty export calendar --schedule ml-primary   or   onduty export calendar --person aiko", 2)
    kind: FeedKind = "schedule" if schedule is not None else "person"
    ident = schedule or person or ""
    c = container()
    now = c.clock.now()
    text: str | bytes
    with friendly_errors():
        try:
            with c.db.transaction() as store:
                check_feed_exists(store.directory(), kind, ident)
                if url:
                    text = feed_url(c.settings.public_url, kind, ident, feed_token(store, kind, ident, now)) + "\n"
                else:
                    text = calendar_feed(store, kind, ident, now)
        except NotFound as exc:
            fail(str(exc).strip("'\""), "use one of the known ids above, as written in your onduty.yaml")
    emit(text, out_file, "the feed URL" if url else "the calendar")


@export_app.command("contacts")
def contacts(
    fmt: Annotated[str, typer.Option("--format", help="html (to print), csv or vcard (3.0).")] = "html",
    out_file: OutOpt = None,
) -> None:
    """The contact list for the day onduty itself is down: HTML, CSV or vCard.

    Every person with roles, time zone and contact methods; each client's
    account manager, delivery lead, tech lead and client-side contacts;
    per service, who is on call now, level by level. Webhook and Slack
    URLs show only their host (they are credentials).

    CSV columns, one row per contact method:
      kind       person, or client contact
      id         the person's id (empty for client contacts)
      name, client, role, time_zone
      method     email, sms, webhook, slack, console (client: email, phone)
      address    where to reach them
      order      the order pages try a person's methods

    Example:
      [bold]onduty export contacts --out contacts.html[/]
      [bold]onduty export contacts --format vcard --out team.vcf[/]
    """
    renderers = {"html": contacts_html, "csv": contacts_csv, "vcard": contacts_vcard}
    if fmt not in renderers:
        fail(f"--format {fmt!r} is not one of html, csv, vcard", "onduty export contacts --format csv", 2)
    c = container()
    with friendly_errors(), c.db.transaction() as store:
        if not store.directory().people:
            fail("no plan is applied, so there is nobody to list", "onduty plan apply onduty.yaml")
        sheet = contact_sheet(store, c.clock.now())
    emit(renderers[fmt](sheet), out_file, f"the contact list ({fmt})")


@export_app.command("chart")
def chart(
    client: Annotated[str, typer.Option(help="The client (an id from the plan).")],
    out_file: OutOpt = None,
) -> None:
    """A one-page, printable escalation chart for a client (HTML).

    For each severity: the deadlines and who is paged or told, by name;
    the client's coverage hours; and the next 7 days' on-call for each of
    the client's services, level by level.

    Example: [bold]onduty export chart --client northwind --out northwind.html[/]
    """
    c = container()
    with friendly_errors():
        try:
            with c.db.transaction() as store:
                found = escalation_chart(store, client, c.clock.now())
        except NotFound as exc:
            fail(str(exc).strip("'\""), "use one of the known client ids above, as written in your onduty.yaml")
    emit(chart_html(found), out_file, f"the escalation chart of {client}")
