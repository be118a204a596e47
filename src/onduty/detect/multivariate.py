"""A multivariate check: PCA fitted on part of the reference, and the mean reconstruction error of a
batch against that of held-out reference chunks. It sees relations between columns break (a category
no longer fitting its brand) when each column alone looks the same."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from onduty.detect.profile import Batch, Categorical

SAMPLE_ROWS = 20_000  # reference rows the model sees (fit plus held out)
HELD_OUT_CHUNKS = 8
MAX_CATEGORIES = 200  # categorical columns with more categories (ids, free text) are left out
VARIANCE_KEPT = 0.99


@dataclass(frozen=True)
class PcaModel:
    numeric: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    categorical: tuple[tuple[str, np.ndarray], ...]  # column → its reference categories (one-hot)
    components: np.ndarray  # k x features
    center: np.ndarray  # feature means of the fitted rows
    chunk_errors: np.ndarray  # mean error of each held-out reference chunk

    @property
    def limit(self) -> float:
        """A batch whose mean error passes this is off the reference's structure."""
        mean = float(self.chunk_errors.mean())
        return max(mean + 4 * float(self.chunk_errors.std()), 1.25 * mean) + 1e-9

    def encode(self, batch: Batch) -> np.ndarray:
        parts = []
        for i, name in enumerate(self.numeric):
            values = np.asarray(batch[name], dtype=np.float64)
            parts.append(np.nan_to_num((values - self.mean[i]) / self.scale[i])[:, None])
        for name, categories in self.categorical:
            column = _categorical(batch[name])
            lookup = np.searchsorted(categories, column.categories)
            lookup = np.where((lookup < categories.size) & (categories[np.minimum(lookup, categories.size - 1)]
                                                            == column.categories), lookup, -1)
            codes = np.where(column.codes >= 0, lookup[np.maximum(column.codes, 0)], -1) \
                if column.categories.size else np.full(column.codes.size, -1)
            onehot = np.zeros((codes.size, categories.size))
            known = codes >= 0
            onehot[np.flatnonzero(known), codes[known]] = 1.0
            parts.append(onehot)
        return np.hstack(parts) if parts else np.zeros((0, 0))

    def errors(self, features: np.ndarray) -> np.ndarray:
        centered = features - self.center
        projected = centered @ self.components.T @ self.components
        return np.asarray(((centered - projected) ** 2).sum(axis=1))

    def batch_error(self, batch: Batch) -> float:
        return float(self.errors(self.encode(batch)).mean())


    def arrays(self) -> dict[str, np.ndarray]:
        out = {"m_mean": self.mean, "m_scale": self.scale, "m_components": self.components,
               "m_center": self.center, "m_chunks": self.chunk_errors}
        out.update({f"m_cat{i}": cats.astype(str) for i, (_, cats) in enumerate(self.categorical)})
        return out

    def header(self) -> dict[str, Any]:
        return {"numeric": list(self.numeric), "categorical": [name for name, _ in self.categorical]}

    @classmethod
    def load(cls, header: dict[str, Any], arrays: Any) -> PcaModel:
        cats = tuple((name, arrays[f"m_cat{i}"]) for i, name in enumerate(header["categorical"]))
        return cls(tuple(header["numeric"]), arrays["m_mean"], arrays["m_scale"], cats, arrays["m_components"],
                   arrays["m_center"], arrays["m_chunks"])


def _categorical(column: Any) -> Categorical:
    from onduty.detect.profile import as_categorical

    return as_categorical(column)


def fit(batch: Batch, columns: Sequence[str]) -> PcaModel | None:
    """Fit on a seeded sample of the reference; None when fewer than two usable columns or 100 rows."""
    from onduty.detect.profile import kind_of
    numeric = [c for c in columns if kind_of(batch[c]) == "numeric"]
    categorical = []
    for c in columns:
        if kind_of(batch[c]) == "categorical":
            col = _categorical(batch[c])
            if 1 < col.categories.size <= MAX_CATEGORIES:
                categorical.append((c, np.sort(col.categories.astype(str))))
    rows = len(next(iter(batch.values()))) if batch else 0
    if len(numeric) + len(categorical) < 2 or rows < 100:
        return None
    rng = np.random.default_rng(0)
    sample = rng.permutation(rows)[:SAMPLE_ROWS]
    picked = {c: _take(batch[c], sample) for c in [*numeric, *(c for c, _ in categorical)]}
    values = [np.asarray(picked[c], dtype=np.float64) for c in numeric]
    mean = np.array([np.nanmean(v) for v in values]) if values else np.zeros(0)
    scale = np.array([max(float(np.nanstd(v)), 1e-9) for v in values]) if values else np.zeros(0)
    model = PcaModel(tuple(numeric), mean, scale, tuple(categorical), np.zeros((0, 0)), np.zeros(0), np.zeros(0))
    features = model.encode(picked)
    cut = int(features.shape[0] * 0.6)
    fitted, held_out = features[:cut], features[cut:]
    center = fitted.mean(axis=0)
    _, singular, vt = np.linalg.svd(fitted - center, full_matrices=False)
    share = np.cumsum(singular**2) / max(float((singular**2).sum()), 1e-12)
    k = int(np.searchsorted(share, VARIANCE_KEPT) + 1)
    model = PcaModel(model.numeric, mean, scale, model.categorical, vt[:k], center, np.zeros(0))
    chunks = np.array_split(held_out, HELD_OUT_CHUNKS)
    return PcaModel(model.numeric, mean, scale, model.categorical, vt[:k], center,
                    np.array([model.errors(chunk).mean() for chunk in chunks if len(chunk)]))


def _take(column: Any, rows: np.ndarray) -> Any:
    from onduty.detect.profile import Categorical

    if isinstance(column, Categorical):
        return Categorical(column.codes[rows], column.categories)
    return column[rows]
