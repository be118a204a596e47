"""A keyed feed's compact snapshot (sorted key hashes → attribute hashes) and its churn against the
previous one: which share of the keys present in both changed their attributes."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from onduty.detect.hashing import column_hashes, combine

if TYPE_CHECKING:
    from onduty.detect.feeds import FeedConfig
    from onduty.detect.profile import Batch


@dataclass(frozen=True)
class Snapshot:
    keys: np.ndarray  # sorted unique uint64 key hashes
    hashes: np.ndarray  # uint64 attribute hash of each key
    history: tuple[float, ...] = ()  # changed-key shares of past accepted batches, oldest first
    duplicates: int = 0

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        header = json.dumps({"history": list(self.history), "duplicates": self.duplicates}).encode()
        np.savez(buffer, keys=self.keys, hashes=self.hashes, header=np.frombuffer(header, dtype=np.uint8))
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            header = json.loads(npz["header"].tobytes().decode())
            return cls(npz["keys"], npz["hashes"], tuple(header["history"]), header["duplicates"])


def snapshot(batch: Batch, key: str, attributes: Sequence[str]) -> Snapshot:
    """Key hashes sorted, each with its attribute hash; of repeated keys the last row counts."""
    keys = column_hashes(batch[key])
    hashes = combine([column_hashes(batch[c]) for c in attributes])
    order = np.argsort(keys, kind="stable")
    keys, hashes = keys[order], hashes[order]
    last = np.append(keys[1:] != keys[:-1], True) if keys.size else np.zeros(0, dtype=bool)
    return Snapshot(keys[last], hashes[last], (), int(keys.size - last.sum()))


def compare(previous: Snapshot, current: Snapshot) -> dict[str, Any]:
    """Shares of keys changed (of those in both), added (of the current) and removed (of the previous)."""
    at = np.searchsorted(previous.keys, current.keys)
    inside = at < previous.keys.size
    found = np.zeros(current.keys.size, dtype=bool)
    found[inside] = previous.keys[at[inside]] == current.keys[inside]
    both = int(found.sum())
    changed = int((previous.hashes[at[found]] != current.hashes[found]).sum())
    return {
        "changed_share": round(changed / both, 6) if both else 0.0, "changed_keys": changed, "common_keys": both,
        "added_share": round(1 - both / current.keys.size, 6) if current.keys.size else 0.0,
        "removed_share": round(1 - both / previous.keys.size, 6) if previous.keys.size else 0.0,
    }


def churn_limit(history: Sequence[float], cfg: FeedConfig) -> tuple[float, float]:
    """(the changed-key share above which a batch is held, the feed's normal churn).

    Learnt from past accepted batches: the floor, `churn_factor` times the mean, or the mean plus four
    standard deviations, whichever is highest; until enough history, a generous fixed limit.
    """
    if len(history) < cfg.churn_min_history:
        return max(cfg.churn_unlearnt, cfg.churn_floor), float(np.mean(history)) if history else 0.0
    values = np.asarray(history, dtype=np.float64)
    mean, std = float(values.mean()), float(values.std())
    return max(cfg.churn_floor, cfg.churn_factor * mean, mean + 4 * std), mean
