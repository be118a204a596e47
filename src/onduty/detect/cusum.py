"""Binomial CUSUM arithmetic shared by the KPI and relevance monitors: log-likelihood ratios, the
threshold for a target false-alarm rate, and a floored cumulative sum computed without a Python loop.

The threshold uses Siegmund's approximation of the in-control average run length (ARL0) of a CUSUM
on log-likelihood ratios: ARL0 ≈ (e^h - h - 1) / K trials, where K = KL(p0 ‖ p1) is the expected
per-trial drift of the statistic when nothing is wrong. Checking only at bucket boundaries (not after
every trial) can only lengthen the run, so the false-alarm rate it gives is an upper bound.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
SECONDS_PER_30_DAYS = 30 * 86400.0


def kl_bernoulli(p0: float, p1: float) -> float:
    """KL(Bernoulli(p0) ‖ Bernoulli(p1)) in nats."""
    return p0 * math.log(p0 / p1) + (1 - p0) * math.log((1 - p0) / (1 - p1))


def threshold_for_arl(arl_trials: float, kl: float) -> float:
    """The h with (e^h - h - 1) / kl = arl_trials (Siegmund), solved by Newton's method; at least 1."""
    target = max(arl_trials * kl, 1e-9)
    h = max(math.log(target + 1.0), 1.0)
    for _ in range(50):
        f = math.exp(h) - h - 1.0 - target
        step = f / (math.exp(h) - 1.0)
        h -= step
        if abs(step) < 1e-10:
            break
    return max(h, 1.0)


def threshold_for_rate(p0: float, drop: float, trials_per_second: float, false_alarms_per_30d: float) -> float:
    """CUSUM threshold giving at most `false_alarms_per_30d` false alarms in 30 days at this traffic."""
    arl_seconds = SECONDS_PER_30_DAYS / false_alarms_per_30d
    return threshold_for_arl(arl_seconds * trials_per_second, kl_bernoulli(p0, p0 * (1 - drop)))


def llr_drop(x: Array, n: Array, p0: Array, drop: float) -> Array:
    """Per-bucket log-likelihood ratio of rate p0·(1-drop) against p0 for x successes in n trials.

    Buckets without a baseline (p0 NaN) contribute 0: they neither raise nor lower the statistic.
    """
    p = np.clip(p0, 1e-9, 1 - 1e-9)
    p1 = p * (1 - drop)
    out = x * np.log(p1 / p) + (n - x) * np.log((1 - p1) / (1 - p))
    return np.where(np.isnan(p0), 0.0, out)


def floored_cusum(increments: Array, start: float) -> Array:
    """S_t = max(0, S_{t-1} + L_t) from S_0 = start, as cumulative sums (no Python loop)."""
    c = np.cumsum(increments)
    floor = np.minimum(np.minimum.accumulate(c), -start)
    return c - floor


def first_above(values: Array, h: float) -> int | None:
    hit = np.flatnonzero(values > h)
    return int(hit[0]) if hit.size else None


def simulate_run_lengths(p0: float, drop: float, trials_per_step: int, h: float, paths: int, max_steps: int,
                         seed: int) -> Array:
    """Steps to the first alarm of in-control paths (max_steps when none): for checking the ARL."""
    rng = np.random.default_rng(seed)
    out = np.full(paths, float(max_steps))
    s = np.zeros(paths)
    alive = np.ones(paths, dtype=bool)
    p1 = p0 * (1 - drop)
    a, b = math.log(p1 / p0), math.log((1 - p1) / (1 - p0))
    for step in range(max_steps):
        x = rng.binomial(trials_per_step, p0, size=paths)
        s = np.maximum(0.0, s + x * a + (trials_per_step - x) * b)
        crossed = alive & (s > h)
        out[crossed] = step + 1
        alive &= ~crossed
        if not alive.any():
            break
    return out
