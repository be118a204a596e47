"""`onduty drift REFERENCE CURRENT` for files, `onduty feeds set-reference|batches`, and the evidence
table `incidents show` prints for a held batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onduty.adapters.feeds.reader import BadBatch, read_batch
from onduty.cli.common import JsonOpt, container, err, fail, friendly_errors, out, print_json
from onduty.detect import feeds as detect

feeds_app = typer.Typer(help="Data feeds: references and the verdicts on their batches.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="A CSV, JSON lines or Parquet file.")]
FormatOpt = Annotated[str | None, typer.Option("--format", help="csv, jsonl or parquet (default: by extension).")]


def _read(path: Path, fmt: str | None, progress: Progress | None = None, task: Any = None) -> detect.Batch:
    if not path.is_file():
        fail(f"{path}: no such file", "give the path of a CSV, JSON lines or Parquet file", 2)
    try:
        batch = read_batch(path, fmt)
    except BadBatch as exc:
        fail(f"{path}: {exc}", "fix the file, or name its format with --format", 2)
    if progress is not None:
        progress.advance(task)
    return batch


def _pairs(text: str | None) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        a, sep, b = part.strip().partition(":")
        if not sep or not a or not b:
            fail(f"--pairs {part!r} is not a column pair", "write pairs as category:brand,category:supplier", 2)
        pairs.append((a, b))
    return tuple(pairs)


def drift(
    reference: FileArg, current: FileArg,
    columns: Annotated[str | None, typer.Option("--columns", help="Only these columns, comma-separated.")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Key column: share of keys whose attributes changed.")]
    = None,
    pairs: Annotated[str | None, typer.Option("--pairs", help="Column pairs that must have been seen, a:b,c:d.")]
    = None,
    drift_share: Annotated[float, typer.Option("--drift-share", min=0.0, max=1.0,
                                               help="Dataset drift at this share of drifted columns.")] = 0.5,
    multivariate: Annotated[bool, typer.Option("--multivariate", help="Also PCA reconstruction error.")] = False,
    fmt: FormatOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check CURRENT against REFERENCE: schema, nulls, ranges, categories, per-column drift, keys, pairs.

    Exits 0 when the batch passes, 1 when it would be quarantined, 2 on bad input, so it can gate a
    pipeline step.

    Example: [bold]onduty drift catalog-monday.parquet catalog-today.parquet --key product_id --pairs category:brand[/]
    """
    wanted = tuple(c.strip() for c in columns.split(",") if c.strip()) if columns else None
    config = detect.FeedConfig(key=key, pairs=_pairs(pairs), columns=wanted, drift_share=drift_share,
                               multivariate=multivariate)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                  transient=True, disable=as_json) as progress:
        task = progress.add_task("reading and checking", total=4)
        ref_batch = _read(reference, fmt, progress, task)
        cur_batch = _read(current, fmt, progress, task)
        for name in wanted or ():
            if name not in ref_batch:
                fail(f"--columns: {name!r} is not a column of {reference.name}",
                     f"its columns are {', '.join(ref_batch)}", 2)
        if key is not None and (key not in ref_batch or key not in cur_batch):
            fail(f"--key: {key!r} is not a column of both files", "name the key column both files share", 2)
        profile = detect.reference_profile(ref_batch, config)
        previous = detect.check(profile, ref_batch, None, config).snapshot if key else None
        progress.advance(task)
        verdict = detect.check(profile, cur_batch, previous, config)
        progress.advance(task)
    if as_json:
        print_json(verdict.as_dict())
    else:
        out.print(drift_table(verdict.drift.as_dict()))
        for finding in verdict.findings:
            mark = "[red]✗[/]" if finding.blocking else "[yellow]![/]"
            out.print(f"{mark} {finding.message}")
        keys = verdict.keys or {}
        if keys.get("previous"):
            out.print(f"keys: {100 * keys['changed_share']:.2f}% changed attributes (limit "
                      f"{100 * keys['limit']:.2f}%), {100 * keys['added_share']:.2f}% new, "
                      f"{100 * keys['removed_share']:.2f}% gone")
        for label, figures in verdict.pairs.items():
            out.print(f"pairs {label}: {100 * figures['new_pair_share']:.2f}% of rows never seen")
        colour = "green" if verdict.accepted else "red"
        out.print(f"[bold {colour}]{verdict.verdict}[/]: {len(verdict.drift.drifted_columns)} of "
                  f"{len(verdict.drift.columns)} columns drifted, {verdict.rows} rows")
    if not verdict.accepted:
        raise typer.Exit(1)


def drift_table(drift: dict[str, Any]) -> Table:
    table = Table(title="Per-column drift", title_justify="left")
    for name in ("column", "type", "method", "statistic", "threshold", "drift"):
        table.add_column(name)
    for c in drift["columns"]:
        value = "n/a" if c["statistic"] is None else f"{c['statistic']:.4g}"
        table.add_row(c["column"], c["kind"], c["method"], value, f"{c['threshold']:g}",
                      "[red]drift[/]" if c["drifted"] else "[green]ok[/]")
    return table


def feed_evidence(details: dict[str, Any]) -> dict[str, Any] | None:
    """The evidence a feed check attached to an alert, if it is one."""
    custom = details.get("custom_details")
    found = custom.get("evidence") if isinstance(custom, dict) else None
    return found if isinstance(found, dict) and "findings" in found else None


def evidence_table(evidence: dict[str, Any]) -> Table:
    """A held batch's findings, as `incidents show` prints them."""
    table = Table(title=f"Evidence: feed {evidence.get('feed')} ({evidence.get('rows')} rows, "
                        f"{evidence.get('verdict')})", title_justify="left")
    for name in ("check", "column", "statistic", "value", "threshold", "holds"):
        table.add_column(name)
    for f in evidence.get("findings", []):
        table.add_row(f["check"], str(f["column"] or ""), f["statistic"], str(f["value"]), str(f["threshold"]),
                      "yes" if f["blocking"] else "no")
    keys = evidence.get("keys") or {}
    if keys.get("previous"):
        table.caption = (f"keys changed {100 * keys['changed_share']:.2f}% (normal churn "
                         f"{100 * keys['normal_churn']:.2f}%, limit {100 * keys['limit']:.2f}%)")
    return table


@feeds_app.command("set-reference")
def set_reference_cmd(feed: Annotated[str, typer.Argument(help="The feed id from the plan.")], file: FileArg,
                      fmt: FormatOpt = None) -> None:
    """Make FILE the feed's reference: later batches are checked against it.

    Example: [bold]onduty feeds set-reference catalog catalog-known-good.parquet[/]
    """
    from onduty.app.feeds import set_reference

    batch = _read(file, fmt)
    c = container()
    with friendly_errors():
        rows = set_reference(c.db, feed, batch, f"onduty feeds set-reference {file.name}", c.clock.now())
    err.print(f"[green]✓[/] {feed}: reference set from {file.name} ({rows} rows)")


@feeds_app.command("batches")
def batches_cmd(feed: Annotated[str, typer.Argument(help="The feed id from the plan.")],
                limit: Annotated[int, typer.Option(min=1, max=1000)] = 20, as_json: JsonOpt = False) -> None:
    """The feed's latest batches and their verdicts, newest first.

    Example: [bold]onduty feeds batches catalog --limit 5[/]
    """
    c = container()
    with friendly_errors(), c.db.transaction() as store:
        if feed not in store.directory().feeds:
            fail(f"feed {feed!r} is not in the applied plan", "feeds are declared under `feeds:` in onduty.yaml")
        found = store.feed_batches(feed, limit)
    if as_json:
        print_json([{"id": b.id, "received_at": b.received_at, "rows": b.rows, "verdict": b.verdict,
                     "incident_id": b.incident_id, "findings": b.findings} for b in found])
        return
    table = Table(title=f"Batches of {feed}", title_justify="left")
    for name in ("id", "received", "rows", "verdict", "incident", "held by"):
        table.add_column(name)
    for b in found:
        held = "; ".join(f["message"] for f in b.findings if f["blocking"])
        table.add_row(str(b.id), b.received_at.isoformat(timespec="seconds"), str(b.rows), b.verdict,
                      str(b.incident_id or ""), held)
    out.print(table)
