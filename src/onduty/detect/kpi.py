"""KPI monitor for rates (conversion, click-through, relevance): a baseline learnt per hour of week
(or flat), and a binomial CUSUM for a drop, with its threshold set for a target false-alarm rate.

Baseline: for each hour of week, the rate over that hour and its neighbours (±`pool` slots) in each of
the last `periods` weeks, the current week left out; with three or more weeks, the median of the weekly
rates (robust to one bad week), else their pooled rate; then pulled toward hour of day x day of week
by its binomial variance (empirical Bayes), so a thin night hour does not set the bar alone. The
monitor arms once `min_periods` whole weeks are learnt.
Buckets of `step_s` seconds close when a later point arrives; each closed bucket adds
x·ln(p1/p0) + (n-x)·ln((1-p1)/(1-p0)) to the statistic, with p1 = p0·(1-drop). It fires past the
threshold h (see cusum.py), then runs the mirror statistic and resolves when the data again look
like the baseline. Buckets seen while firing are not learnt. The last `recent` closed buckets (start,
rate, expected rate) are kept, bounded, so each fire and resolve carries the series around it.

Detection delay for a 19% drop of a 3% conversion rate (defaults: design drop 0.15, 0.1 false alarms
per 30 days; `bench/detectors.py --delays`, mean of 20 seeded runs), sessions/hour -> minutes:
2,000 -> 414; 5,000 -> 215; 10,000 -> 111; 20,000 -> 58; 50,000 -> 23.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onduty.detect.cusum import Array, first_above, floored_cusum, llr_drop, threshold_for_rate

HOUR = 3600.0
NDArrayInt = NDArray[np.int64]


@dataclass(frozen=True)
class RateConfig:
    drop: float = 0.15  # the relative drop the CUSUM is tuned for
    false_alarms_per_30d: float = 0.1
    step_s: float = 60.0  # bucket length
    slot_s: float = HOUR  # baseline slot length
    slots: int = 168  # slots per period: 168 = hour of week; 1 = a flat baseline
    periods: int = 4  # past periods kept for the baseline
    pool: int = 1  # neighbouring slots pooled on each side
    min_trials: float = 300.0  # trials a slot's baseline needs before it is used
    min_periods: int = 2  # whole past periods (weeks) learnt before the monitor arms
    recent: int = 240  # closed buckets kept for the evidence's series (start, rate, expected rate)

    @property
    def period_s(self) -> float:
        return self.slot_s * self.slots


@dataclass
class RateState:
    """Everything a rate monitor keeps between batches (fixed size: slots x periods counters)."""

    hist_x: Array
    hist_n: Array
    hist_period: NDArrayInt
    bucket: int = -1
    open_x: float = 0.0
    open_n: float = 0.0
    s: float = 0.0  # the drop statistic
    r: float = 0.0  # the recovery statistic, while firing
    h: float = 0.0
    firing: bool = False
    run: dict[str, float] = field(default_factory=lambda: {"x": 0.0, "n": 0.0, "e": 0.0, "start": -1.0})
    recent: list[list[float | None]] = field(default_factory=list)  # [start, rate, expected rate] per bucket

    @classmethod
    def new(cls, config: RateConfig) -> RateState:
        shape = (config.slots, config.periods)
        return cls(np.zeros(shape), np.zeros(shape), np.full(config.periods, -1, dtype=np.int64))

    def to_json(self) -> dict[str, Any]:
        return {"hist_x": self.hist_x.tolist(), "hist_n": self.hist_n.tolist(),
                "hist_period": self.hist_period.tolist(), "bucket": self.bucket, "open_x": self.open_x,
                "open_n": self.open_n, "s": self.s, "r": self.r, "h": self.h, "firing": self.firing,
                "run": dict(self.run), "recent": [list(p) for p in self.recent]}

    @classmethod
    def from_json(cls, data: dict[str, Any], config: RateConfig) -> RateState:
        state = cls.new(config)
        hist_x = np.asarray(data["hist_x"], dtype=np.float64)
        if hist_x.shape != state.hist_x.shape:  # the plan changed the baseline's shape: learn again
            return state
        return cls(hist_x, np.asarray(data["hist_n"], dtype=np.float64),
                   np.asarray(data["hist_period"], dtype=np.int64), int(data["bucket"]), float(data["open_x"]),
                   float(data["open_n"]), float(data["s"]), float(data["r"]), float(data["h"]),
                   bool(data["firing"]), {k: float(v) for k, v in data["run"].items()},
                   [list(p) for p in data.get("recent", [])][-config.recent:])



@dataclass(frozen=True)
class Transition:
    """The monitor started or stopped firing at `at` (epoch seconds), with the evidence."""

    action: str  # "fire" or "resolve"
    at: float
    evidence: dict[str, Any]


def baseline(state: RateState, config: RateConfig, period: int) -> tuple[Array, Array]:
    """(rate, trials behind it) per slot from past periods other than `period`; NaN where too few trials."""
    valid = (state.hist_period >= 0) & (state.hist_period != period) & (state.hist_period > period - config.periods - 1)
    whole = (state.hist_n[:, valid] > 0).sum(axis=0) >= 0.9 * config.slots  # periods with (nearly) every slot
    if int(whole.sum()) < config.min_periods:
        return np.full(config.slots, np.nan), np.zeros(config.slots)
    x = state.hist_x[:, valid]
    n = state.hist_n[:, valid]
    if config.pool and config.slots > 1:
        x = sum((np.roll(x, k, axis=0) for k in range(-config.pool, config.pool + 1)), np.zeros_like(x))
        n = sum((np.roll(n, k, axis=0) for k in range(-config.pool, config.pool + 1)), np.zeros_like(n))
    total_n = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = x.sum(axis=1) / total_n
        if x.shape[1] >= 3:
            weekly = np.where(n > 0, x / np.where(n > 0, n, 1), np.nan)
            counted = (n > 0).sum(axis=1)
            median = np.nanmedian(np.where(counted[:, None] >= 3, weekly, 0.0), axis=1)
            pooled = np.where(counted >= 3, median, pooled)
    if config.slots == 168 and x.shape[1]:
        pooled = _shrunk(pooled, total_n, state.hist_x[:, valid].sum(axis=1), state.hist_n[:, valid].sum(axis=1),
                         config.pool)
    rate = np.where(total_n >= config.min_trials, pooled, np.nan)
    return rate, total_n


def _shrunk(rate: Array, trials: Array, x: Array, n: Array, pool: int) -> Array:
    """Each hour-of-week rate pulled toward hour of day x day of week (7x the data behind it) by how
    noisy it is: weight tau^2 / (tau^2 + binomial variance), tau^2 the spread the binomial noise leaves
    unexplained (method of moments). Real hour-of-week effects keep their weight; noise does not."""
    days_x, days_n = x.reshape(7, 24), n.reshape(7, 24)
    hod_x, hod_n = days_x.sum(axis=0), days_n.sum(axis=0)
    if pool:
        hod_x = sum((np.roll(hod_x, k) for k in range(-pool, pool + 1)), np.zeros(24))
        hod_n = sum((np.roll(hod_n, k) for k in range(-pool, pool + 1)), np.zeros(24))
    with np.errstate(invalid="ignore", divide="ignore"):
        day_factor = (days_x.sum(axis=1) / days_n.sum(axis=1)) / (x.sum() / n.sum())
        model = (day_factor[:, None] * (hod_x / hod_n)[None, :]).reshape(168)
        variance = model * (1 - model) / trials
    known = np.isfinite(rate) & np.isfinite(model) & np.isfinite(variance) & (trials > 0)
    if not known.any():
        return rate
    tau2 = max(0.0, float(np.mean((rate[known] - model[known]) ** 2 - variance[known])))
    weight = np.where(known, tau2 / (tau2 + np.where(known, variance, 1.0)), 1.0)
    return np.where(np.isfinite(model), model + weight * (rate - model), rate)


def _trial_rate(state: RateState, config: RateConfig) -> float:
    """Mean trials a second over the learnt cells (cells with traffic)."""
    cells = int((state.hist_n > 0).sum())
    return float(state.hist_n.sum()) / (cells * config.slot_s) if cells else 0.0


def update(state: RateState, config: RateConfig, ts: Array, x: Array, n: Array) -> list[Transition]:
    """Feed points (epoch seconds, successes, trials; a point may carry either) and return transitions."""
    if ts.size == 0:
        return []
    b = np.floor(ts / config.step_s).astype(np.int64)
    if state.bucket >= 0:
        b = np.maximum(b, state.bucket)  # late points count in the open bucket
    buckets, inverse = np.unique(b, return_inverse=True)
    bx = np.bincount(inverse, weights=x, minlength=buckets.size).astype(np.float64)
    bn = np.bincount(inverse, weights=n, minlength=buckets.size).astype(np.float64)
    if state.bucket >= 0 and buckets[0] == state.bucket:
        bx[0] += state.open_x
        bn[0] += state.open_n
    elif state.bucket >= 0:  # the open bucket closes before this batch's first one
        buckets = np.concatenate([[state.bucket], buckets])
        bx = np.concatenate([[state.open_x], bx])
        bn = np.concatenate([[state.open_n], bn])
    state.bucket, state.open_x, state.open_n = int(buckets[-1]), float(bx[-1]), float(bn[-1])
    return _close(state, config, buckets[:-1], bx[:-1], bn[:-1])


def _close(state: RateState, config: RateConfig, buckets: NDArrayInt, bx: Array, bn: Array) -> list[Transition]:
    if buckets.size == 0:
        return []
    starts = buckets.astype(np.float64) * config.step_s
    slot = (np.floor(starts / config.slot_s).astype(np.int64)) % config.slots
    period = np.floor(starts / config.period_s).astype(np.int64)
    p0 = np.full(buckets.size, np.nan)
    for p in np.unique(period):
        rate, _ = baseline(state, config, int(p))
        mask = period == p
        p0[mask] = rate[slot[mask]]
    known = ~np.isnan(p0)
    if known.any():
        mean_p0 = float(np.average(p0[known], weights=np.maximum(bn[known], 1e-9)))
        rate_s = _trial_rate(state, config)
        if 0 < mean_p0 < 1 and rate_s > 0:
            state.h = threshold_for_rate(mean_p0, config.drop, rate_s, config.false_alarms_per_30d)
    llr = llr_drop(bx, bn, p0, config.drop) if state.h > 0 else np.zeros(buckets.size)
    expected = np.where(known, bn * np.nan_to_num(p0), 0.0)
    before = state.recent

    def series(end: int) -> list[list[float | None]]:
        """The last `recent` buckets up to this batch's bucket `end` (exclusive)."""
        return (before + _points(starts, bx, bn, p0, max(0, end - config.recent), end))[-config.recent:]

    transitions: list[Transition] = []
    learn = np.ones(buckets.size, dtype=bool)
    i = 0
    while i < buckets.size:
        if not state.firing:
            path = floored_cusum(llr[i:], state.s)
            hit = first_above(path, state.h) if state.h > 0 else None
            end = buckets.size if hit is None else i + hit + 1
            _track_run(state, path[: end - i], starts[i:end], bx[i:end], bn[i:end], expected[i:end])
            state.s = float(path[end - i - 1])
            if hit is not None:
                state.firing, state.r = True, 0.0
                at = float(starts[end - 1] + config.step_s)
                evidence = _evidence(state, config, float(p0[end - 1]), at)
                transitions.append(Transition("fire", at, {**evidence, "points": series(end)}))
                learn[end - 1:] = False
            i = end
        else:
            learn[i:] = False
            path = floored_cusum(-llr[i:], state.r)
            hit = first_above(path, state.h)
            end = buckets.size if hit is None else i + hit + 1
            state.r = float(path[end - i - 1])
            if hit is not None:
                at = float(starts[end - 1] + config.step_s)
                state.firing, state.s = False, 0.0
                state.run = {"x": 0.0, "n": 0.0, "e": 0.0, "start": -1.0}
                transitions.append(Transition("resolve", at, {
                    "at": at, "statistic": round(state.r, 3), "threshold": round(state.h, 3),
                    "baseline": _round(float(p0[end - 1])),
                    "rate": _round(float(bx[end - 1] / bn[end - 1]) if bn[end - 1] else math.nan),
                    "points": series(end)}))
                learn[end:] = True
            i = end
    _learn(state, config, slot[learn], period[learn], bx[learn], bn[learn])
    state.recent = series(buckets.size)
    return transitions


def _points(starts: Array, bx: Array, bn: Array, p0: Array, lo: int, hi: int) -> list[list[float | None]]:
    """[start, rate, expected rate] of buckets lo..hi-1; None where a bucket had no trials or no baseline."""
    return [[float(starts[k]), _round(float(bx[k] / bn[k])) if bn[k] > 0 else None, _round(float(p0[k]))]
            for k in range(lo, hi)]


def _track_run(state: RateState, path: Array, starts: Array, bx: Array, bn: Array, expected: Array) -> None:
    """Keep the counts since the statistic last stood at zero: the evidence window."""
    zeros = np.flatnonzero(path <= 0)
    if zeros.size:
        k = int(zeros[-1]) + 1
        state.run = {"x": 0.0, "n": 0.0, "e": 0.0, "start": float(starts[k]) if k < starts.size else -1.0}
    else:
        k = 0
    if k < starts.size:
        if state.run["start"] < 0:
            state.run["start"] = float(starts[k])
        state.run["x"] += float(bx[k:].sum())
        state.run["n"] += float(bn[k:].sum())
        state.run["e"] += float(expected[k:].sum())


def _learn(state: RateState, config: RateConfig, slot: NDArrayInt, period: NDArrayInt, bx: Array,
           bn: Array) -> None:
    for p in np.unique(period):
        col = int(p) % config.periods
        if state.hist_period[col] != p:
            state.hist_x[:, col] = 0.0
            state.hist_n[:, col] = 0.0
            state.hist_period[col] = p
        mask = period == p
        state.hist_x[:, col] += np.bincount(slot[mask], weights=bx[mask], minlength=config.slots)
        state.hist_n[:, col] += np.bincount(slot[mask], weights=bn[mask], minlength=config.slots)


def _evidence(state: RateState, config: RateConfig, p0_now: float, at: float) -> dict[str, Any]:
    run = state.run
    rate = run["x"] / run["n"] if run["n"] else math.nan
    expected_rate = run["e"] / run["n"] if run["n"] else math.nan
    from scipy import stats  # imported when first needed: it is slow to load

    p_value = float(stats.binom.cdf(run["x"], int(run["n"]), expected_rate)) if run["n"] else math.nan
    return {
        "statistic": round(state.s, 3), "threshold": round(state.h, 3),
        "window": {"start": run["start"], "end": at, "successes": run["x"], "trials": run["n"],
                   "rate": _round(rate)},
        "baseline": _round(expected_rate), "baseline_now": _round(p0_now),
        "change": _round(rate / expected_rate - 1) if expected_rate else None,
        "p_value": float(f"{p_value:.3g}") if not math.isnan(p_value) else None,
        "design_drop": config.drop, "false_alarms_per_30d": config.false_alarms_per_30d,
    }


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 5)
