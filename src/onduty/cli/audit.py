"""`onduty audit verify`: the hash-chained audit trail, recomputed and checked."""

from __future__ import annotations

from typing import Annotated

import typer

from onduty.cli.common import JsonOpt, container, err, friendly_errors, out, print_json

audit_app = typer.Typer(help="Check the append-only, hash-chained audit trail.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    client: Annotated[str | None, typer.Option(help="Check only this client's chain.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute every chain from the stored rows; name each changed or deleted row. Exit 1 if any.

    Example: [bold]onduty audit verify --client northwind --json[/]
    """
    from onduty.app.audit import seal_audit, verify_audit

    c = container()
    with friendly_errors():
        seal_audit(c.db, c.clock.now())  # rows written since the worker's last pass are chained first
        counts, findings, unsealed = verify_audit(c.db, client)
    if as_json:
        print_json({"ok": not findings, "chains": counts, "unsealed": unsealed,
                    "problems": [{"chain": f.chain, "seq": f.seq, "source": f.source, "row_id": f.row_id,
                                  "problem": f.problem, "message": f.describe()} for f in findings]})
    else:
        for chain, count in counts.items():
            out.print(f"chain {chain}: {count} sealed rows")
        for finding in findings:
            err.print(f"[bold red]tampered:[/] {finding.describe()}")
        if not findings:
            out.print("[green]audit trail intact[/]")
    if findings:
        raise typer.Exit(1)
