"""A feed's reference profile: per column its type, null share, range, quantiles and category counts,
plus the sorted numeric sample the exact drift statistics need, and the value pairs seen.

A batch is a mapping of column name → numpy array, or → `Categorical` (integer codes into a list of
categories, -1 for null), which is how Parquet's dictionary columns arrive without a string per row.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from onduty.detect.hashing import pair_hashes
from onduty.detect.multivariate import PcaModel, fit


@dataclass(frozen=True)
class Categorical:
    """Codes into `categories` (strings); -1 marks a null."""

    codes: np.ndarray
    categories: np.ndarray

    def __len__(self) -> int:
        return int(self.codes.size)

    @classmethod
    def of(cls, values: np.ndarray | Sequence[Any]) -> Categorical:
        """Factorise plain values (slow path: a Python pass over unique values)."""
        array = np.asarray(values, dtype=object)
        present = np.array([v is not None and v == v for v in array], dtype=bool)
        codes = np.full(array.size, -1, dtype=np.int64)
        if present.any():
            uniques, inverse = np.unique(array[present].astype(str), return_inverse=True)
            codes[present] = inverse
        else:
            uniques = np.array([], dtype=str)
        return cls(codes, uniques.astype(str))


Column = np.ndarray | Categorical
Batch = Mapping[str, Column]


def kind_of(column: Column) -> str:
    """numeric, categorical or datetime; booleans and strings are categorical."""
    if isinstance(column, Categorical):
        return "categorical"
    if column.dtype.kind in "iuf":
        return "numeric"
    if column.dtype.kind == "M":
        return "datetime"
    return "categorical"


def as_categorical(column: Column) -> Categorical:
    return column if isinstance(column, Categorical) else Categorical.of(column)


def numeric_values(column: np.ndarray) -> tuple[np.ndarray, int]:
    """(sorted non-null values as float64, null count)."""
    values = column.astype(np.float64, copy=False)
    mask = np.isfinite(values)
    finite = values[mask] if not mask.all() else values.copy()  # a copy: the caller's batch is untouched
    finite.sort()
    return finite, int(values.size - finite.size)


def category_counts(column: Categorical) -> tuple[np.ndarray, np.ndarray, int]:
    """(categories present, their counts, nulls): categories with no row are dropped."""
    codes = column.codes
    counts = np.bincount(codes[codes >= 0], minlength=column.categories.size) if codes.size else \
        np.zeros(column.categories.size, dtype=np.int64)
    keep = counts > 0
    return column.categories[keep].astype(str), counts[keep].astype(np.int64), int((codes < 0).sum())


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str
    rows: int
    nulls: int
    values: np.ndarray | None = None  # numeric: sorted non-null float64 sample
    categories: np.ndarray | None = None  # categorical: category names …
    counts: np.ndarray | None = None  # … and their row counts

    @property
    def null_share(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def n_unique(self) -> int:
        if self.categories is not None:
            return int(self.categories.size)
        if self.values is not None and self.values.size:
            return int(np.count_nonzero(np.diff(self.values)) + 1)
        return 0

    def summary(self) -> dict[str, Any]:
        """JSON-safe figures for evidence and display."""
        out: dict[str, Any] = {"kind": self.kind, "rows": self.rows, "null_share": round(self.null_share, 6)}
        if self.values is not None and self.values.size:
            q = np.quantile(self.values, [0.01, 0.25, 0.5, 0.75, 0.99])
            out.update(min=float(self.values[0]), max=float(self.values[-1]), mean=float(self.values.mean()),
                       std=float(self.values.std()), quantiles=[round(float(x), 6) for x in q])
        if self.categories is not None and self.counts is not None:
            order = np.argsort(-self.counts)[:10]
            out.update(categories=int(self.categories.size),
                       top={str(self.categories[i]): int(self.counts[i]) for i in order})
        return out


@dataclass(frozen=True)
class Profile:
    rows: int
    columns: dict[str, ColumnProfile]
    pairs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # sorted unique pair hashes
    pca: PcaModel | None = None  # the multivariate model, when asked for

    def to_bytes(self) -> bytes:
        """npz with a JSON header; loaded back without pickle."""
        arrays: dict[str, np.ndarray] = {}
        header: dict[str, Any] = {"rows": self.rows, "columns": [], "pairs": []}
        for i, c in enumerate(self.columns.values()):
            header["columns"].append({"name": c.name, "kind": c.kind, "rows": c.rows, "nulls": c.nulls})
            for part in ("values", "categories", "counts"):
                array = getattr(c, part)
                if array is not None:
                    arrays[f"c{i}_{part}"] = array.astype(str) if part == "categories" else array
        for j, (pair, hashes) in enumerate(self.pairs.items()):
            header["pairs"].append(list(pair))
            arrays[f"p{j}"] = hashes
        if self.pca is not None:
            header["pca"] = self.pca.header()
            arrays.update(self.pca.arrays())
        arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            header = json.loads(npz["header"].tobytes().decode())
            columns = {}
            for i, c in enumerate(header["columns"]):
                parts = {p: npz[f"c{i}_{p}"] for p in ("values", "categories", "counts") if f"c{i}_{p}" in npz}
                columns[c["name"]] = ColumnProfile(c["name"], c["kind"], c["rows"], c["nulls"], **parts)
            pairs = {(a, b): npz[f"p{j}"] for j, (a, b) in enumerate(header["pairs"])}
            pca = PcaModel.load(header["pca"], npz) if "pca" in header else None
        return cls(header["rows"], columns, pairs, pca)

    def summary(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": {n: c.summary() for n, c in self.columns.items()},
                "pairs": [f"{a}:{b}" for a, b in self.pairs]}


def column_profile(name: str, column: Column) -> ColumnProfile:
    kind = kind_of(column)
    rows = len(column)
    if kind == "numeric":
        assert isinstance(column, np.ndarray)
        values, nulls = numeric_values(column)
        return ColumnProfile(name, kind, rows, nulls, values=values)
    if kind == "datetime":
        assert isinstance(column, np.ndarray)
        return ColumnProfile(name, kind, rows, int(np.isnat(column).sum()))
    categories, counts, nulls = category_counts(as_categorical(column))
    return ColumnProfile(name, kind, rows, nulls, categories=categories, counts=counts)


def batch_rows(batch: Batch) -> int:
    sizes = {len(c) for c in batch.values()}
    if len(sizes) > 1:
        raise ValueError(f"columns have different lengths: {sorted(sizes)}")
    return sizes.pop() if sizes else 0


def profile(batch: Batch, pairs: Sequence[tuple[str, str]] = (), workers: int = 2,
            multivariate: Sequence[str] | None = None) -> Profile:
    """The reference profile of a batch; `pairs` are column pairs whose seen value pairs are kept;
    `multivariate` names the columns of a PCA model (None: no model)."""
    rows = batch_rows(batch)
    columns = map_columns(lambda item: column_profile(*item), list(batch.items()), workers)
    seen = {}
    for a, b in pairs:
        if a in batch and b in batch:
            seen[(a, b)] = np.unique(pair_hashes(batch[a], batch[b]))
    model = fit(batch, [c for c in multivariate if c in batch]) if multivariate is not None else None
    return Profile(rows, {c.name: c for c in columns}, seen, model)


def map_columns(fn: Any, items: list[Any], workers: int) -> list[Any]:
    """Column work on a few threads: numpy's sorts and searches release the GIL."""
    if workers <= 1 or len(items) < 2:
        return [fn(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))
