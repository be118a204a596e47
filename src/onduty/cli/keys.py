"""`onduty keys create`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from onduty.cli.common import container, err, fail, friendly_errors

keys_app = typer.Typer(help="Create integration keys and API keys.", no_args_is_help=True)

@keys_app.command("create")
def keys_create(
    service: Annotated[str | None, typer.Option(help="Create an integration key for this service.")] = None,
    role: Annotated[str | None, typer.Option(help="Create an API key: admin, responder or viewer.")] = None,
    client: Annotated[str | None, typer.Option(help="Scope the API key to one client.")] = None,
) -> None:
    """Print a new key alone on standard output, once; only its hash is stored.

    Examples:
      [bold]KEY=$(onduty keys create --service recs-model)[/]  (for /v2/enqueue's routing_key)
      [bold]onduty keys create --role viewer --client northwind[/]
    """
    from onduty.app.keys import create_api_key, create_integration_key

    if (service is None) == (role is None):
        fail("give exactly one of --service (integration key) or --role (API key)",
             "onduty keys create --service recs-model   or   onduty keys create --role responder", 2)
    if role is not None and role not in ("admin", "responder", "viewer"):
        fail(f"--role must be admin, responder or viewer; got {role!r}", code=2)
    if service is not None and client is not None:
        fail("--client goes with --role (an integration key belongs to its service's client)", code=2)
    c = container()
    with friendly_errors():
        if service is not None:
            key = create_integration_key(c.db, service, c.clock.now())
            err.print(f"integration key for {service} (shown once; send it as routing_key):")
        else:
            key = create_api_key(c.db, role, client, c.clock.now())  # type: ignore[arg-type]
            err.print(f"{role} API key{' for ' + client if client else ''} (shown once; "
                      "send it as 'Authorization: Bearer <key>'):")
    sys.stdout.write(key + "\n")
