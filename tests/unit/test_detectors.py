"""The detectors' arithmetic: CUSUM threshold against its run length, hour-of-week baseline, relevance
drop, the SRE workbook's burn-rate rules, and score drift (KS small, normalised Wasserstein large)."""

from __future__ import annotations

import numpy as np
import pytest

from onduty.detect import kpi, outputs, slo
from onduty.detect.cusum import (
    floored_cusum,
    kl_bernoulli,
    simulate_run_lengths,
    threshold_for_arl,
    threshold_for_rate,
)

WEEK = 7 * 86400.0
T0 = 1_764_547_200.0  # 2025-12-01 00:00 UTC


def test_floored_cusum_matches_the_recursion() -> None:
    rng = np.random.default_rng(3)
    steps = rng.normal(-0.1, 1.0, 500)
    expected, s = [], 2.0
    for step in steps:
        s = max(0.0, s + step)
        expected.append(s)
    assert np.allclose(floored_cusum(steps, 2.0), expected)


def test_threshold_keeps_the_in_control_run_length_above_its_target() -> None:
    p0, trials, drop, target = 0.05, 200, 0.2, 500
    h = threshold_for_arl(target * trials, kl_bernoulli(p0, p0 * (1 - drop)))
    in_control = simulate_run_lengths(p0, drop, trials, h, paths=300, max_steps=10 * target, seed=11)
    assert in_control.mean() >= target


@pytest.mark.parametrize(("alarms", "higher"), [(1.0, 0.1), (0.1, 0.01)])
def test_a_smaller_false_alarm_budget_raises_the_threshold(alarms: float, higher: float) -> None:
    assert threshold_for_rate(0.03, 0.15, 3.0, higher) > threshold_for_rate(0.03, 0.15, 3.0, alarms)


def minutes(days: float, start: float = T0) -> np.ndarray:
    return start + 60.0 * np.arange(int(days * 1440))


def feed(state: kpi.RateState, config: kpi.RateConfig, ts: np.ndarray, x: np.ndarray,
         n: np.ndarray, chunk: int = 60) -> list[tuple[float, kpi.Transition]]:
    out = []
    for i in range(0, ts.size, chunk):
        sl = slice(i, i + chunk)
        both = np.concatenate([ts[sl], ts[sl]])
        xs = np.concatenate([x[sl], np.zeros(ts[sl].size)]).astype(float)
        ns = np.concatenate([np.zeros(ts[sl].size), n[sl]]).astype(float)
        out += [(t.at, t) for t in kpi.update(state, config, both, xs, ns)]
    return out


def test_baseline_is_learnt_per_hour_of_week() -> None:
    config = kpi.RateConfig()
    state = kpi.RateState.new(config)
    ts = minutes(21)  # two whole weeks learnt arm the monitor
    hour = (ts // 3600) % 24
    rate = np.where((hour >= 9) & (hour < 21), 0.04, 0.02)  # a day rate and a night rate
    n = np.full(ts.size, 300.0)
    feed(state, config, ts, np.round(n * rate), n)
    period = int((ts[-1] + 3600) // config.period_s)
    base, _ = kpi.baseline(state, config, period + 1)
    slots = np.arange(168)
    slot_hour = slots % 24  # slot 0 is 00:00 UTC on a day boundary
    middle_of_day = (slot_hour >= 10) & (slot_hour < 20)
    night = (slot_hour < 8) | (slot_hour >= 22)
    assert np.allclose(base[middle_of_day], 0.04, atol=0.002)
    assert np.allclose(base[night], 0.02, atol=0.002)


def traffic(ts: np.ndarray, peak: float = 20_000 / 60) -> np.ndarray:
    hour = (ts // 3600) % 24
    return peak * (0.25 + 0.75 * np.clip(np.sin((hour - 6) / 24 * 2 * np.pi), 0, 1))


def test_monitor_waits_for_two_whole_weeks_before_it_arms() -> None:
    config = kpi.RateConfig()
    state = kpi.RateState.new(config)
    ts = minutes(10)
    n = np.full(ts.size, 300.0)
    feed(state, config, ts, n * 0.03, n)
    assert state.h == 0 and np.isnan(kpi.baseline(state, config, int(ts[-1] // config.period_s))[0]).all()


def test_conversion_drop_fires_and_clean_weeks_do_not() -> None:
    rng = np.random.default_rng(5)
    config = kpi.RateConfig()
    state = kpi.RateState.new(config)
    ts = minutes(24)
    n = rng.poisson(traffic(ts)).astype(float)
    p = np.full(ts.size, 0.03)
    fault = 23 * 1440 + 14 * 60  # day 23, 14:00 UTC
    p[fault:] *= 0.81
    fired = feed(state, config, ts, rng.binomial(n.astype(np.int64), p).astype(float), n)
    assert [t.action for _, t in fired] == ["fire"]
    at, alert = fired[0]
    assert 0 < at - ts[fault] < 3 * 3600
    assert alert.evidence["change"] == pytest.approx(-0.19, abs=0.06)
    assert alert.evidence["statistic"] > alert.evidence["threshold"]


def relevance_drop(chunk: int = 60) -> tuple[kpi.RateConfig, kpi.RateState, np.ndarray,
                                             list[tuple[float, kpi.Transition]]]:
    """A day of minutes at relevance 0.66 with a drop to 0.10 from minute 900 to 1200, fed to its monitor."""
    rng = np.random.default_rng(8)
    config = outputs.relevance_config()
    state = kpi.RateState.new(config)
    ts = minutes(1)
    shown = np.full(ts.size, 500.0)
    rel = np.full(ts.size, 0.66)
    rel[900:1200] = 0.10
    return config, state, ts, feed(state, config, ts, rng.binomial(500, rel).astype(float), shown, chunk)


def test_relevance_drop_fires_within_minutes_and_recovery_resolves() -> None:
    _, _, ts, fired = relevance_drop(chunk=1)
    assert [t.action for _, t in fired] == ["fire", "resolve"]
    assert fired[0][0] - ts[900] <= 3 * 60
    assert fired[0][1].evidence["baseline"] == pytest.approx(0.66, abs=0.02)
    assert fired[0][1].evidence["p_value"] < 1e-9


def test_fire_and_resolve_carry_the_recent_series_bounded() -> None:
    config, state, _, fired = relevance_drop()
    (fire_at, fire), (resolve_at, resolve) = fired
    for at, transition in ((fire_at, fire), (resolve_at, resolve)):
        points = transition.evidence["points"]
        assert len(points) == config.recent == 240  # a day of minutes behind it, 240 kept
        starts = [p[0] for p in points]
        assert starts == sorted(starts) and starts[-1] == at - config.step_s  # up to the transition's bucket
        assert all(p[2] == pytest.approx(0.66, abs=0.02) for p in points)  # the expected rate beside each
    assert fire.evidence["points"][-1][1] < 0.2 and resolve.evidence["points"][-1][1] > 0.5
    assert len(state.to_json()["recent"]) == 240


def test_a_short_history_gives_a_short_series_with_gaps_as_none() -> None:
    config = outputs.relevance_config()
    state = kpi.RateState.new(config)
    ts = minutes(0.05)  # 72 minutes
    n = np.full(ts.size, 50.0)
    n[10] = 0.0
    feed(state, config, ts, np.full(ts.size, 30.0), n)
    assert len(state.recent) == ts.size - 1  # the last bucket is still open
    assert state.recent[10][1] is None and state.recent[11][1] == pytest.approx(0.6)
    assert state.recent[0][2] is None  # no baseline learnt yet: no expected rate


def test_state_round_trips_through_json() -> None:
    config = outputs.relevance_config()
    state = kpi.RateState.new(config)
    ts = minutes(0.2)
    feed(state, config, ts, np.full(ts.size, 30.0), np.full(ts.size, 50.0))
    again = kpi.RateState.from_json(state.to_json(), config)
    assert again.to_json() == state.to_json()


# error ratio (before the last 30 min, in the 25 min before the last 5, in the last 5 min) -> levels firing
BURN_TABLE = [
    ("quiet", 0.0005, 0.0005, 0.0005, set()),
    ("fast burn", 0.02, 0.02, 0.02, {"page", "ticket"}),
    ("fast burn stopped 5 min ago: the 6x rule still holds", 0.02, 0.02, 0.0, {"page", "ticket"}),
    ("burn stopped 30 min ago: only the ticket", 0.02, 0.0, 0.0, {"ticket"}),
    ("a 5-minute spike alone", 0.0005, 0.0005, 0.05, set()),
    ("slow 7x burn", 0.007, 0.007, 0.007, {"page", "ticket"}),
    ("budget pace 2x", 0.002, 0.002, 0.002, {"ticket"}),
]


@pytest.mark.parametrize(("name", "before", "recent", "last", "levels"), BURN_TABLE, ids=[r[0] for r in BURN_TABLE])
def test_workbook_burn_rate_rules(name: str, before: float, recent: float, last: float, levels: set[str]) -> None:
    config = slo.SloConfig(target=0.999)
    state = slo.SloState.new(config)
    ts = minutes(3)
    age = ts[-1] - ts
    ratio = np.where(age < 5 * 60, last, np.where(age < 30 * 60, recent, before))
    total = np.full(ts.size, 10_000.0)
    slo.update(state, config, ts, total * ratio, total)
    assert {level for level, on in state.firing.items() if on} == levels


def test_burn_evidence_names_every_window() -> None:
    config = slo.SloConfig()
    state = slo.SloState.new(config)
    ts = minutes(0.5)
    fired = slo.update(state, config, ts, np.full(ts.size, 50.0), np.full(ts.size, 1000.0))
    page = next(t for t in fired if t.evidence["level"] == "page")
    assert set(page.evidence["burn_rates"]) == {"5m", "30m", "1h", "6h", "3d"}
    assert page.evidence["burn_rates"]["5m"]["burn_rate"] == pytest.approx(50.0)


def test_window_counters_forget_what_left_the_window() -> None:
    config = slo.SloConfig()
    state = slo.SloState.new(config)
    slo.add(state, config, np.array([T0]), np.array([10.0]), np.array([10.0]))
    slo.add(state, config, np.array([T0 + 2 * 3600]), np.array([0.0]), np.array([10.0]))
    rates = slo.burn_rates(state, config)
    assert rates[3600.0][1] == 0.0 and rates[6 * 3600.0][1] == 10.0


def test_score_drift_uses_ks_for_small_references_and_wasserstein_above() -> None:
    rng = np.random.default_rng(2)
    small = outputs.score_drift(rng.normal(0, 1, 500), rng.normal(0.5, 1, 500))
    assert small.method == "ks" and small.drifted
    same = outputs.score_drift(rng.normal(0, 1, 5000), rng.normal(0, 1, 5000))
    assert same.method == "wasserstein_normed" and not same.drifted
    moved = outputs.score_drift(rng.normal(0, 1, 5000), rng.normal(0.3, 1, 5000))
    assert moved.drifted and moved.statistic == pytest.approx(0.3, abs=0.05)


def test_output_drift_fires_on_a_shifted_window_and_resolves_when_it_returns() -> None:
    rng = np.random.default_rng(4)
    config = outputs.OutputDriftConfig(reference_size=2000, window=500)
    state = outputs.OutputDriftState([], [])
    scores = np.concatenate([rng.beta(2, 5, 3000), rng.beta(5, 2, 500), rng.beta(2, 5, 500)])
    fired = outputs.update_output_drift(state, config, np.arange(scores.size, dtype=float), scores)
    assert [t.action for t in fired] == ["fire", "resolve"]
    assert fired[0].evidence["method"] == "wasserstein_normed"
