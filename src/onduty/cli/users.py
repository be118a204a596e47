"""`onduty users …` (console sign-in and roles) and `onduty portal link` (a client's secret portal link)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from onduty.cli.common import JsonOpt, container, err, fail, friendly_errors, print_json

users_app = typer.Typer(help="People who sign in to the web console: passwords, one-time links, roles.",
                        no_args_is_help=True)
portal_app = typer.Typer(help="The client portal: per-client secret links.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        fail("no terminal to ask for the password", "pipe it in with --password-stdin")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        fail("the two passwords differ", "run the command again")
    return first


@users_app.command("set-password")
def set_password(
    person: Annotated[str, typer.Argument(help="The person's id in the plan.")],
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from stdin.")] = False,
) -> None:
    """Set the password a person signs in to the console with (stored as an argon2 hash).

    Example: [bold]printf '%s\\n' "$PW" | onduty users set-password lucia --password-stdin[/]
    """
    from onduty.app.accounts import set_password as store_password

    password = _read_password(password_stdin)
    c = container()
    with friendly_errors():
        account = store_password(c.db, person, password, c.clock.now())
    err.print(f"password set for {person} (role {account.role})")


@users_app.command("set-role")
def set_role(
    person: Annotated[str, typer.Argument(help="The person's id in the plan.")],
    role: Annotated[str, typer.Argument(help="admin, responder or viewer.")],
) -> None:
    """Give a person a console role: admin, responder (the default) or viewer (can look, cannot act).

    Example: [bold]onduty users set-role hannah viewer[/]
    """
    from onduty.app.accounts import set_role as store_role

    c = container()
    with friendly_errors():
        store_role(c.db, person, role, c.clock.now())
    err.print(f"{person} is now {role}")


@users_app.command("login-link")
def login_link(
    person: Annotated[str, typer.Argument(help="The person's id in the plan.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a one-time sign-in link for a person; it works once, within 15 minutes.

    Example: [bold]onduty users login-link lucia[/]
    """
    from onduty.app.accounts import LINK_LIFETIME, issue_login_link

    c = container()
    with friendly_errors():
        token = issue_login_link(c.db, person, c.clock.now())
    url = f"{c.settings.public_url.rstrip('/')}/login/link/{token}"
    if as_json:
        print_json({"person": person, "url": url, "expires_in_seconds": LINK_LIFETIME.total_seconds()})
        return
    typer.echo(url)
    err.print(f"[dim]one sign-in for {person}, valid {int(LINK_LIFETIME.total_seconds() // 60)} minutes[/]")


@portal_app.command("link")
def portal_link(
    client: Annotated[str, typer.Argument(help="The client's id in the plan.")],
    as_json: JsonOpt = False,
) -> None:
    """Print a new secret portal link for a client's contacts; the previous link stops working.

    Example: [bold]onduty portal link northwind[/]
    """
    from onduty.app.accounts import issue_portal_link

    c = container()
    with friendly_errors():
        token = issue_portal_link(c.db, client, c.clock.now())
    url = f"{c.settings.public_url.rstrip('/')}/portal/enter/{token}"
    if as_json:
        print_json({"client": client, "url": url})
        return
    typer.echo(url)
    err.print("[dim]share it like a password; run this again to replace it (the old link and its "
              "sessions stop working)[/]")
