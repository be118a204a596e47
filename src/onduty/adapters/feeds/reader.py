"""Read a data batch (CSV, JSON lines, Parquet) with pyarrow into the detectors' column arrays.

String columns arrive dictionary-encoded (codes + categories), so category counts never build a
Python string per row. A file that cannot be parsed raises BadBatch naming the row or column.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from onduty.detect.profile import Batch, Categorical, ColumnProfile, column_profile, map_columns

FORMATS = ("csv", "jsonl", "parquet")
CONTENT_TYPES = {
    "text/csv": "csv", "application/csv": "csv",
    "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/json-lines": "jsonl",
    "application/x-jsonlines": "jsonl", "application/ndjson": "jsonl",
    "application/vnd.apache.parquet": "parquet", "application/x-parquet": "parquet",
    "application/parquet": "parquet",
}


if TYPE_CHECKING:
    import pyarrow as pa

# pyarrow is imported where a batch is read, not with this module: it takes a quarter of a second, and
# every `onduty` process (server, worker, each CLI command) imports this module through its routes.


class BadBatch(ValueError):
    """The batch could not be read; the message says where and what to fix."""


def format_of(path: Path, hint: str | None = None) -> str:
    """The format from an explicit hint, else the file's extension."""
    if hint:
        return hint
    suffix = path.suffix.lower().lstrip(".")
    found = {"csv": "csv", "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "parquet": "parquet",
             "pq": "parquet"}.get(suffix)
    if found is None:
        raise BadBatch(f"{path.name}: cannot tell the format from the extension; use .csv, .jsonl or .parquet")
    return found


def format_for_content_type(content_type: str | None, fallback: str | None) -> str | None:
    """The format a Content-Type names; octet-stream or none → the feed's own format hint."""
    base = (content_type or "").split(";")[0].strip().lower()
    if base in CONTENT_TYPES:
        return CONTENT_TYPES[base]
    if base in ("", "application/octet-stream"):
        return fallback
    return None


def _tidy(message: str) -> str:
    return re.sub(r"\s+", " ", message).strip()


def _where(path: Path, message: str) -> str:
    """'line N: ' for a CSV row pyarrow quotes without numbering it."""
    match = re.search(r"Expected \d+ columns, got \d+: (.*)", message)
    if not match:
        return ""
    quoted = match.group(1).strip()
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if line.decode(errors="replace").strip() == quoted:
                return f"line {number}: "
    return ""


def read_table(path: Path, fmt: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.json as pa_json
    import pyarrow.parquet as pq

    try:
        if fmt == "csv":
            return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
        if fmt == "jsonl":
            return pa_json.read_json(path)
        if fmt == "parquet":
            return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise BadBatch(f"not valid {fmt}: {_where(path, str(exc))}{_tidy(str(exc))}") from None
    raise BadBatch(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _dictionary(column: pa.ChunkedArray) -> Categorical:
    """Codes and categories straight from dictionary chunks (as Parquet stores text), no decoding."""
    unified = column.unify_dictionaries()
    if unified.num_chunks == 0:
        return Categorical(np.zeros(0, dtype=np.int64), np.array([], dtype=str))
    dictionary = unified.chunk(0).dictionary
    codes = np.concatenate([c.indices.fill_null(-1).to_numpy(zero_copy_only=False) for c in unified.chunks])
    return Categorical(codes.astype(np.int64), np.asarray(dictionary.to_pylist(), dtype=object).astype(str))


def _column(name: str, column: pa.ChunkedArray) -> np.ndarray | Categorical:
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_dictionary(kind):
        if pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type):
            return _dictionary(column)
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        if column.null_count or pa.types.is_decimal(kind):
            return np.asarray(column.cast(pa.float64()).fill_null(float("nan")).to_numpy())
        return np.asarray(column.to_numpy())
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return np.asarray(column.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False))
    if pa.types.is_null(kind):
        return np.full(len(column), np.nan)
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind)):
        raise BadBatch(f"column {name!r}: type {kind} is not supported (numbers, text, booleans, dates)")
    if pa.types.is_boolean(kind):
        column = column.cast(pa.string())
    encoded = pc.dictionary_encode(column.combine_chunks())
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    categories = np.asarray(encoded.dictionary.to_pylist(), dtype=object).astype(str)
    return Categorical(codes, categories)


def to_batch(table: pa.Table, columns: list[str] | None = None) -> dict[str, np.ndarray | Categorical]:
    names = table.column_names
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise BadBatch(f"column names repeat: {', '.join(dupes)}")
    wanted = columns if columns is not None else names
    missing = [c for c in wanted if c not in names]
    if missing:
        raise BadBatch(f"no column {', '.join(map(repr, missing))}; the file has {', '.join(names)}")
    return {name: _column(name, table.column(name)) for name in wanted}


def read_profiles(path: Path, fmt: str | None = None, columns: list[str] | None = None,
                  workers: int = 2) -> dict[str, ColumnProfile]:
    """Each column's profile, reading Parquet one column at a time (text as dictionary codes), so only
    the sorted samples stay in memory; CSV and JSON lines are parsed once, then converted per column."""
    fmt = format_of(path, fmt)
    if fmt != "parquet":
        batch = read_batch(path, fmt, columns)
        return {name: column_profile(name, batch[name]) for name in batch}
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        source = pq.ParquetFile(path, read_dictionary=text)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadBatch(f"not valid parquet: {_tidy(str(exc))}") from None
    names = columns if columns is not None else schema.names
    missing = [c for c in names if c not in schema.names]
    if missing:
        raise BadBatch(f"no column {', '.join(map(repr, missing))}; the file has {', '.join(schema.names)}")
    if source.metadata.num_rows == 0:
        raise BadBatch("the batch has no rows")

    def one(name: str) -> ColumnProfile:
        with _lock:  # the file handle is shared; decoding is quick next to sorting
            table = source.read(columns=[name])
        return column_profile(name, _column(name, table.column(0)))

    return {p.name: p for p in map_columns(one, list(names), workers)}


_lock = threading.Lock()


def read_batch(path: Path, fmt: str | None = None, columns: list[str] | None = None) -> Batch:
    """The file's columns as arrays; BadBatch when it cannot be read or is empty."""
    table = read_table(path, format_of(path, fmt))
    if table.num_columns == 0:
        raise BadBatch("the batch has no columns")
    if table.num_rows == 0:
        raise BadBatch("the batch has no rows")
    return to_batch(table, columns)
