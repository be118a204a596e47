"""`onduty keys create`, `onduty keys list`, `onduty keys revoke`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

import typer

from onduty.cli.common import JsonOpt, container, current_user, err, fail, friendly_errors, out, print_json

keys_app = typer.Typer(help="Create integration keys and API keys.", no_args_is_help=True)

@keys_app.command("create")
def keys_create(
    service: Annotated[str | None, typer.Option(help="Create an integration key for this service.")] = None,
    role: Annotated[str | None, typer.Option(help="Create an API key: admin, responder or viewer.")] = None,
    client: Annotated[str | None, typer.Option(help="Scope the API key to one client.")] = None,
    expires: Annotated[str | None, typer.Option(help="API key lifetime, e.g. 90d or 12h (default: none).")] = None,
) -> None:
    """Print a new key alone on standard output, once; only its hash is stored.

    Examples:
      [bold]KEY=$(onduty keys create --service recs-model)[/]  (for /v2/enqueue's routing_key)
      [bold]onduty keys create --role viewer --client northwind --expires 90d[/]
    """
    from onduty.app.keys import create_api_key, create_integration_key

    if (service is None) == (role is None):
        fail("give exactly one of --service (integration key) or --role (API key)",
             "onduty keys create --service recs-model   or   onduty keys create --role responder", 2)
    if role is not None and role not in ("admin", "responder", "viewer"):
        fail(f"--role must be admin, responder or viewer; got {role!r}", code=2)
    if service is not None and expires is not None:
        fail("--expires goes with --role (integration keys are revoked by rotating the plan's service)", code=2)
    lifetime = None
    if expires is not None:
        from onduty.plan.schema import parse_duration

        try:
            lifetime = parse_duration(expires)
        except ValueError as exc:
            fail(f"--expires: {exc}", "write a duration such as 90d, 12h or 30m", 2)
    if service is not None and client is not None:
        fail("--client goes with --role (an integration key belongs to its service's client)", code=2)
    c = container()
    with friendly_errors():
        if service is not None:
            key = create_integration_key(c.db, service, c.clock.now())
            err.print(f"integration key for {service} (shown once; send it as routing_key):")
        else:
            now = c.clock.now()
            key = create_api_key(c.db, role, client, now,  # type: ignore[arg-type]
                                 now + lifetime if lifetime else None, current_user())
            err.print(f"{role} API key{' for ' + client if client else ''} (shown once; "
                      "send it as 'Authorization: Bearer <key>'):")
    sys.stdout.write(key + "\n")


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List API keys by their visible prefix, with role, client, expiry, last use and revocation.

    Example: [bold]onduty keys list --json[/]
    """
    from rich.table import Table

    from onduty.app.keys import list_api_keys

    c = container()
    with friendly_errors():
        keys = list_api_keys(c.db)
    if as_json:
        print_json([asdict(k) for k in keys])
        return
    table = Table("id", "prefix", "role", "client", "created", "expires", "last used", "revoked")
    for k in keys:
        table.add_row(str(k.id), (k.prefix or "(old key)") + "…", k.role, k.client_id or "all",
                      _when(k.created_at), _when(k.expires_at), _when(k.last_used_at), _when(k.revoked_at))
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's id or visible prefix (from onduty keys list).")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke an API key: it stops working at once (a running server forgets it within 5 s).

    Example: [bold]onduty keys revoke od_live_ab12[/]
    """
    from onduty.app.keys import revoke_api_key

    c = container()
    with friendly_errors():
        revoked = revoke_api_key(c.db, key, current_user(), c.clock.now())
    if as_json:
        print_json(asdict(revoked))
        return
    err.print(f"revoked API key {revoked.id} ({revoked.prefix or 'old key'}…)")
