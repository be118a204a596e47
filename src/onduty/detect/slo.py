"""SLO burn-rate alerts: the multi-window, multi-burn-rate rules of the Google SRE workbook, streaming
over bucketed counters (each window a ring of `buckets` counters: fixed memory however busy).

Burn rate = (bad / total over the window) / (1 - target). A rule holds when both its long and its short
window burn faster than its factor; the short window makes the alert stop soon after the burn stops.
Defaults (target 99.9% over 30 days): page at 14.4x over 1 h and 5 min (2% of the budget in an hour),
page at 6x over 6 h and 30 min (5% in six hours), ticket at 1x over 3 days and 6 h (10% in three days).
The same counters serve an error ratio (errors / requests) or a latency SLO (requests slower than the
threshold / requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from onduty.detect.cusum import Array
from onduty.detect.kpi import Transition

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


@dataclass(frozen=True)
class BurnRule:
    level: str  # "page" or "ticket"
    factor: float
    long_s: float
    short_s: float


WORKBOOK_RULES = (
    BurnRule("page", 14.4, HOUR, 5 * MINUTE),
    BurnRule("page", 6.0, 6 * HOUR, 30 * MINUTE),
    BurnRule("ticket", 1.0, 3 * DAY, 6 * HOUR),
)


@dataclass(frozen=True)
class SloConfig:
    target: float = 0.999
    rules: tuple[BurnRule, ...] = WORKBOOK_RULES
    buckets: int = 60  # counters per window

    @property
    def windows(self) -> tuple[float, ...]:
        return tuple(sorted({w for r in self.rules for w in (r.long_s, r.short_s)}))


@dataclass
class SloState:
    bad: Array  # (windows, buckets)
    total: Array
    head: NDArray[np.int64]  # newest bucket index per window
    firing: dict[str, bool]

    @classmethod
    def new(cls, config: SloConfig) -> SloState:
        shape = (len(config.windows), config.buckets)
        return cls(np.zeros(shape), np.zeros(shape), np.full(shape[0], -1, dtype=np.int64),
                   {level: False for level in {r.level for r in config.rules}})

    def to_json(self) -> dict[str, Any]:
        return {"bad": self.bad.tolist(), "total": self.total.tolist(), "head": self.head.tolist(),
                "firing": dict(self.firing)}

    @classmethod
    def from_json(cls, data: dict[str, Any], config: SloConfig) -> SloState:
        state = cls.new(config)
        bad = np.asarray(data["bad"], dtype=np.float64)
        if bad.shape != state.bad.shape:
            return state
        return cls(bad, np.asarray(data["total"], dtype=np.float64), np.asarray(data["head"], dtype=np.int64),
                   {**state.firing, **{k: bool(v) for k, v in data["firing"].items() if k in state.firing}})


def add(state: SloState, config: SloConfig, ts: Array, bad: Array, total: Array) -> None:
    """Count points (epoch seconds, bad events, all events) into every window's ring."""
    if ts.size == 0:
        return
    size = config.buckets
    base = config.windows[0] / size
    ratios = [window / size / base for window in config.windows]
    if all(r == int(r) for r in ratios):  # sum once into the finest buckets, then coarsen those
        fine = np.floor(ts / base).astype(np.int64)
        low = int(fine.min())
        bad = np.bincount(fine - low, weights=bad).astype(np.float64)
        total = np.bincount(fine - low, weights=total).astype(np.float64)
        used = np.flatnonzero((bad != 0) | (total != 0))
        fine, bad, total = used + low, bad[used], total[used]
        indexes = [fine // int(r) for r in ratios]
    else:
        indexes = [np.floor(ts / (window / size)).astype(np.int64) for window in config.windows]
    for w, b in enumerate(indexes):
        head = int(state.head[w])
        new_head = max(head, int(b.max()))
        if head < 0 or new_head - head >= size:
            state.bad[w] = 0.0
            state.total[w] = 0.0
        elif new_head > head:
            cleared = np.arange(head + 1, new_head + 1) % size
            state.bad[w, cleared] = 0.0
            state.total[w, cleared] = 0.0
        state.head[w] = new_head
        keep = b > new_head - size  # older than the window: gone already
        slots = b[keep] % size
        state.bad[w] += np.bincount(slots, weights=bad[keep], minlength=size)
        state.total[w] += np.bincount(slots, weights=total[keep], minlength=size)


def burn_rates(state: SloState, config: SloConfig) -> dict[float, tuple[float, float, float]]:
    """Window length → (burn rate, bad, total) at the newest bucket."""
    out = {}
    budget = 1.0 - config.target
    for w, window in enumerate(config.windows):
        bad, total = float(state.bad[w].sum()), float(state.total[w].sum())
        out[window] = ((bad / total) / budget if total > 0 else 0.0, bad, total)
    return out


def evaluate(state: SloState, config: SloConfig, at: float) -> list[Transition]:
    """Fire each level (page, ticket) whose rule holds, resolve each that no longer does."""
    rates = burn_rates(state, config)
    transitions = []
    for level in sorted(state.firing):
        held = [r for r in config.rules if r.level == level
                and rates[r.long_s][0] > r.factor and rates[r.short_s][0] > r.factor]
        if bool(held) != state.firing[level]:
            state.firing[level] = bool(held)
            transitions.append(Transition("fire" if held else "resolve", at, {
                "level": level, "target": config.target,
                "rules": [_rule_text(r) for r in (held or [r for r in config.rules if r.level == level])],
                "burn_rates": {_span(w): {"burn_rate": round(b, 3), "bad": bad, "total": total,
                                          "ratio": round(bad / total, 6) if total else 0.0}
                               for w, (b, bad, total) in rates.items()},
            }))
    return transitions


def update(state: SloState, config: SloConfig, ts: Array, bad: Array, total: Array) -> list[Transition]:
    """Count a batch of points, then evaluate the rules at its newest point."""
    add(state, config, ts, bad, total)
    return evaluate(state, config, float(ts.max())) if ts.size else []


def _rule_text(rule: BurnRule) -> str:
    return f"{rule.factor:g}x over {_span(rule.long_s)} and {_span(rule.short_s)} -> {rule.level}"


def _span(seconds: float) -> str:
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
