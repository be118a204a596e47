"""Stable 64-bit hashes of values, rows and value pairs, for compact snapshots and pair sets.

A category's hash comes from its text (blake2b, once per distinct value), a number's from its bits,
so hashes agree across batches and processes; rows combine their columns with a splitmix64 mixer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onduty.detect.profile import Column

NULL_HASH = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def text_hashes(values: Sequence[object] | np.ndarray) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(str(v).encode(), digest_size=8).digest(), "little")
                     for v in values], dtype=np.uint64)


def column_hashes(column: Column) -> np.ndarray:
    """One uint64 per row; nulls hash to a constant."""
    from onduty.detect.profile import Categorical

    if isinstance(column, Categorical):
        table = np.append(text_hashes(column.categories), NULL_HASH)
        return table[np.where(column.codes >= 0, column.codes, table.size - 1)]
    if column.dtype.kind == "f":
        values = column.astype(np.float64)
        hashed = mix(values.view(np.uint64).copy())
        hashed[np.isnan(values)] = NULL_HASH
        return hashed
    if column.dtype.kind in "iub":
        return mix(column.astype(np.int64).view(np.uint64).copy())
    if column.dtype.kind == "M":
        values = column.astype("datetime64[ns]")
        hashed = mix(values.view(np.int64).view(np.uint64).copy())
        hashed[np.isnat(values)] = NULL_HASH
        return hashed
    uniques, inverse = np.unique(np.asarray(column, dtype=object).astype(str), return_inverse=True)
    table = text_hashes(uniques)
    hashed = table[inverse]
    nulls = np.array([v is None for v in column], dtype=bool)
    hashed[nulls] = NULL_HASH
    return hashed


def combine(parts: Sequence[np.ndarray]) -> np.ndarray:
    """One hash per row from several columns' hashes, order-sensitive."""
    out = np.zeros(parts[0].size if parts else 0, dtype=np.uint64)
    for i, part in enumerate(parts):
        out = mix(out ^ (part + np.uint64(i + 1)))
    return out


def pair_hashes(a: Column, b: Column) -> np.ndarray:
    return combine([column_hashes(a), column_hashes(b)])
