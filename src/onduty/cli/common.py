"""What every command shares: consoles, error handling that says what to do next, the container."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from onduty.app.ports import NotFound, Unavailable

out = Console()
err = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print data as JSON.")]


def fail(message: str, hint: str = "", code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}")
    if hint:
        err.print(f"[dim]next:[/] {hint}")
    raise typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the errors a user can act on into one clear line and a next step."""
    try:
        yield
    except NotFound as exc:
        fail(str(exc).strip("'\""), "ids come from your onduty.yaml; incident numbers from `onduty incidents list`")
    except Unavailable as exc:
        fail(str(exc), "check ONDUTY_DATABASE_URL and that the database server is running")
    except ValueError as exc:
        fail(str(exc))


def current_user() -> str:
    """Who runs the command, for the record when no --by is given."""
    try:
        return getpass.getuser()
    except OSError:
        return "cli"


def container() -> Any:
    from onduty.bootstrap import build

    with friendly_errors():
        return build()


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


def parse_at(text: str | None, zone: str = "UTC", option: str = "--at") -> datetime | None:
    """An ISO 8601 date or time; naive ones are read in `zone`. None for None or "now"."""
    if text is None or text == "now":
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not an ISO 8601 time",
             "write it like 2026-11-20, 2026-11-20T17:40 or 2026-11-20T17:40-06:00")
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(zone))


