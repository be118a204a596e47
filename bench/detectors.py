"""Benchmark: the streaming detectors' pure cores, printed as JSON.

- KPI (binomial CUSUM with an hour-of-week baseline) and SLO burn rate (five bucketed windows): points
  processed per second, in batches of `--batch` points covering one minute each of many series' worth.
- `--delays`: the KPI monitor's expected detection delay for a 19% drop of a 3% conversion rate at
  several traffic volumes (sessions per hour, constant), default settings, averaged over `--runs`
  seeded runs. These figures are the table in README.md and in onduty/detect/kpi.py.

Run: .venv/bin/python bench/detectors.py [--points 2000000] [--batch 100000] [--delays]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from onduty.detect import kpi, slo

T0 = 1_764_547_200.0
VOLUMES = (2_000, 5_000, 10_000, 20_000, 50_000)


def stream(points: int, batch: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Batches of (ts, first counter, second counter): each point carries one of the two metrics."""
    rng = np.random.default_rng(seed)
    out = []
    per_second = 200.0  # points a second of simulated time
    for start in range(0, points, batch):
        ts = T0 + (start + np.arange(batch)) / per_second
        which = rng.random(batch) < 0.5
        trials = rng.poisson(50, batch).astype(np.float64)
        successes = rng.binomial(50, 0.03, batch).astype(np.float64)
        out.append((ts, np.where(which, successes, 0.0), np.where(which, 0.0, trials)))
    return out


def learnt(config: kpi.RateConfig, trials_per_hour: float, rate: float, start: float,
           rng: np.random.Generator) -> kpi.RateState:
    """A monitor with `periods` whole weeks of history before `start`: armed from the first point."""
    state = kpi.RateState.new(config)
    period = int(start // config.period_s)
    for k in range(config.periods):
        col = (period - 1 - k) % config.periods
        state.hist_period[col] = period - 1 - k
        state.hist_n[:, col] = trials_per_hour
        state.hist_x[:, col] = rng.binomial(int(trials_per_hour), rate, config.slots)
    return state


def throughput(points: int, batch: int) -> dict[str, float]:
    batches = stream(points, batch, seed=1)
    config = kpi.RateConfig()
    state = learnt(config, 200.0 * 3600 / 2 * 50, 0.03, T0, np.random.default_rng(1))
    started = time.perf_counter()
    for ts, x, n in batches:
        kpi.update(state, config, ts, x, n)
    kpi_s = time.perf_counter() - started
    assert state.h > 0, "the monitor must be armed for the figure to mean anything"
    slo_config = slo.SloConfig()
    slo_state = slo.SloState.new(slo_config)
    started = time.perf_counter()
    for ts, bad, total in batches:
        slo.update(slo_state, slo_config, ts, bad, total)
    slo_s = time.perf_counter() - started
    return {"points": points, "batch": batch, "kpi_seconds": round(kpi_s, 3),
            "kpi_points_per_s": round(points / kpi_s), "slo_seconds": round(slo_s, 3),
            "slo_points_per_s": round(points / slo_s)}


def delay_minutes(sessions_per_hour: float, runs: int, seed: int, drop: float = 0.19) -> dict[str, float]:
    """Minutes from a 19% drop to the alarm, with four weeks of history at the same traffic learnt."""
    config = kpi.RateConfig()
    rng = np.random.default_rng(seed)
    delays = []
    for _ in range(runs):
        period = int(T0 // config.period_s)
        start = period * config.period_s
        state = learnt(config, sessions_per_hour, 0.03, start, rng)
        minutes = start + 60.0 * np.arange(48 * 60)
        n = rng.poisson(sessions_per_hour / 60.0, minutes.size).astype(np.float64)
        x = rng.binomial(n.astype(np.int64), 0.03 * (1 - drop)).astype(np.float64)
        ts = np.concatenate([minutes, minutes])
        fired = kpi.update(state, config, ts, np.concatenate([x, np.zeros_like(x)]),
                           np.concatenate([np.zeros_like(n), n]))
        delays.append((fired[0].at - start) / 60.0 if fired else float("nan"))
    found = np.asarray(delays)
    return {"sessions_per_hour": sessions_per_hour, "mean_minutes": round(float(np.nanmean(found)), 1),
            "median_minutes": round(float(np.nanmedian(found)), 1),
            "p90_minutes": round(float(np.nanquantile(found, 0.9)), 1),
            "missed_within_48h": int(np.isnan(found).sum()), "threshold": round(state.h, 2)}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--delays", action="store_true", help="also compute the detection-delay table")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    result: dict[str, object] = {"throughput": throughput(args.points, args.batch)}
    if args.delays:
        result["delay_19pct_drop"] = [delay_minutes(v, args.runs, seed=i) for i, v in enumerate(VOLUMES)]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
