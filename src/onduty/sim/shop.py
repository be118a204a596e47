"""A simulated shop for the founding story: traffic seasonal by hour of week, conversions, a product
catalog refreshed every 15 minutes, and recommendations that follow the catalog's categories.

Relevance is computed from the catalog: the model recommends items of the context item's category as
the feed states it, so after the category column is scrambled its picks stop matching what the
shopper is looking at (the true category). Conversions drop by `drop` once the corrupted batch lands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CATEGORIES = ("shoes", "jackets", "shirts", "trousers", "dresses", "bags", "hats", "socks", "watches", "jewellery",
              "kitchen", "bedding", "lamps", "rugs", "toys", "books", "garden", "tools", "sports", "beauty")
Batch = Mapping[str, NDArray[np.generic]]


@dataclass(frozen=True)
class ShopConfig:
    seed: int = 7
    peak_sessions_per_hour: float = 20_000.0
    conversion: float = 0.03
    drop: float = 0.19  # conversions lost while the catalog is corrupted
    recs_per_session: int = 8
    model_follows_catalog: float = 0.64  # share of picks taken from the context's catalog category
    catalog_size: int = 2_000
    scrambled_share: float = 1.0  # share of items whose category is shuffled among them
    utc_offset_hours: int = -6  # the shop's local time (Chicago in November)


def _hours_from(hour: NDArray[np.float64], centre: float) -> NDArray[np.float64]:
    """Hours between each time of day and `centre`, across midnight (the evening runs past 00:00)."""
    d = np.abs(hour - centre)
    return np.minimum(d, 24.0 - d)


def sessions_rate(config: ShopConfig, ts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Expected sessions per minute at epoch seconds `ts`: a daily curve peaking in the evening, lighter
    weekends, in the shop's local time."""
    local = ts + config.utc_offset_hours * 3600.0
    hour = (local / 3600.0) % 24
    day = (np.floor(local / 86400.0).astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    daily = 0.08 + 0.92 * np.exp(-0.5 * (_hours_from(hour, 20.0) / 4.0) ** 2) + \
        0.35 * np.exp(-0.5 * (_hours_from(hour, 12.5) / 2.0) ** 2)
    weekly = np.where(day >= 5, 0.8, 1.0)
    return config.peak_sessions_per_hour / 60.0 * np.minimum(daily, 1.0) * weekly


def conversion_rate(config: ShopConfig, ts: NDArray[np.float64]) -> NDArray[np.float64]:
    """Conversion by time of day: a little higher in the evening (a deterministic season)."""
    hour = ((ts + config.utc_offset_hours * 3600.0) / 3600.0) % 24
    return config.conversion * (0.9 + 0.2 * np.exp(-0.5 * (_hours_from(hour, 20.5) / 3.0) ** 2))


class Shop:
    """The shop's state: its catalog (true and as fed) and a seeded random source."""

    def __init__(self, config: ShopConfig):
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        n = config.catalog_size
        self.true_category = self.rng.integers(0, len(CATEGORIES), n)
        self.fed_category = self.true_category.copy()
        self.brand = np.array([f"{CATEGORIES[c][:3]}-brand-{b}" for c, b in
                               zip(self.true_category, self.rng.integers(0, 12, n), strict=True)])
        self.list_price = np.round(np.exp(self.rng.normal(3.4, 0.7, n)) + self.true_category, 2)
        self.price = self.list_price.copy()
        self.stock = self.rng.integers(0, 400, n)
        self.corrupted = False

    def corrupt(self) -> None:
        """Shuffle the category column among `scrambled_share` of the items."""
        n = self.config.catalog_size
        chosen = self.rng.choice(n, round(n * self.config.scrambled_share), replace=False)
        self.fed_category[chosen] = self.fed_category[self.rng.permutation(chosen)]
        self.corrupted = True

    def restore(self) -> None:
        """Go back to the last good batch: the fed categories are right again."""
        self.fed_category = self.true_category.copy()
        self.corrupted = False

    def catalog_batch(self) -> dict[str, NDArray[np.generic]]:
        """The next 15-minute refresh as column → array: a few prices and stock levels change."""
        n = self.config.catalog_size
        repriced = self.rng.random(n) < 0.01  # around each item's list price, so the catalog stays stationary
        self.price = np.where(repriced, np.round(self.list_price * self.rng.uniform(0.9, 1.1, n), 2), self.price)
        restocked = self.rng.random(n) < 0.05
        self.stock = np.where(restocked, self.rng.integers(0, 400, n), self.stock)
        return {
            "product_id": np.arange(100_000, 100_000 + n, dtype=np.int64),
            "category": np.array([CATEGORIES[c] for c in self.fed_category]),
            "brand": self.brand.copy(), "price": self.price.astype(np.float64), "stock": self.stock.copy(),
        }

    def relevance(self) -> float:
        """P(a recommendation's true category matches the context's), given the fed categories."""
        k = len(CATEGORIES)
        table = np.zeros((k, k))
        np.add.at(table, (self.fed_category, self.true_category), 1.0)
        per_fed = table.sum(axis=1)
        follows = float(np.sum(table ** 2 / np.where(per_fed > 0, per_fed, 1)[:, None]) / table.sum())
        share = np.bincount(self.true_category, minlength=k) / self.true_category.size
        chance = float(np.sum(share ** 2))
        q = self.config.model_follows_catalog
        return q * follows + (1 - q) * chance

    def minutes(self, ts: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
        """Counts per minute starting at `ts`: sessions, orders, recommendations shown and matching."""
        config = self.config
        sessions = self.rng.poisson(sessions_rate(config, ts))
        rate = conversion_rate(config, ts) * ((1 - config.drop) if self.corrupted else 1.0)
        orders = self.rng.binomial(sessions, rate)
        shown = sessions * config.recs_per_session
        matching = self.rng.binomial(shown, self.relevance())
        return {"sessions": sessions.astype(np.float64), "orders": orders.astype(np.float64),
                "recs.shown": shown.astype(np.float64), "recs.matching": matching.astype(np.float64)}
