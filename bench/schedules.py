"""Benchmark: the scheduling model's hot paths, printed as JSON.

- `on_call_at` on a schedule of 10 layers x 50 members with 200 overrides (and some time off):
  median and p99 microseconds per call, over random instants of a year.
- `shifts` for a whole year of 50 such schedules: milliseconds per schedule.

Run: .venv/bin/python bench/schedules.py [--calls 20000] [--schedules 50]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta

from rich.progress import track

from onduty.domain.model import Layer, Override, Person, Restriction, Schedule, TimeOff
from onduty.domain.schedules import on_call_at, shifts

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ["America/Los_Angeles", "Europe/Lisbon", "Australia/Sydney", "UTC"]


def build(seed: int, layers: int = 10, members: int = 50, overrides: int = 200
          ) -> tuple[Schedule, dict[str, Person], list[Override]]:
    rng = random.Random(seed)
    people: dict[str, Person] = {}
    for i in range(members * 2):
        spans = []
        if rng.random() < 0.2:  # a fifth of the people take a vacation
            start = YEAR_START + timedelta(days=rng.randrange(0, 350))
            spans.append(TimeOff(start, start + timedelta(days=rng.randrange(3, 15)), "vacation"))
        people[f"p{i}"] = Person(f"p{i}", f"Person {i}", rng.choice(ZONES), time_off=tuple(spans))
    names = list(people)
    built = []
    for index in range(layers):
        hours = rng.choice([12, 24, 168])
        restrictions = (Restriction(frozenset(range(5)), time(9, 0), time(17, 0)),) if index % 3 == 2 else ()
        built.append(Layer(f"layer{index}", tuple(rng.sample(names, members)), date(2026, 1, 5),
                           time(rng.randrange(24), 0), timedelta(hours=hours), 0 if hours == 168 else None,
                           restrictions))
    schedule = Schedule(f"s{seed}", f"Schedule {seed}", rng.choice(ZONES), tuple(built))
    extra = []
    for ident in range(overrides):
        start = YEAR_START + timedelta(hours=rng.randrange(0, 365 * 24))
        extra.append(Override(schedule.id, rng.choice(names), start, start + timedelta(hours=rng.randrange(1, 48)),
                              id=ident))
    return schedule, people, sorted(extra, key=lambda o: o.id or 0)


def bench_on_call_at(calls: int) -> dict[str, float]:
    schedule, people, overrides = build(1)
    rng = random.Random(7)
    instants = [YEAR_START + timedelta(seconds=rng.randrange(0, 365 * 86400)) for _ in range(calls)]
    samples = []
    for at in track(instants, description="on_call_at", console=None, transient=True):
        started = clock.perf_counter_ns()
        on_call_at(schedule, people, at, overrides)
        samples.append((clock.perf_counter_ns() - started) / 1000)
    samples.sort()
    return {"median_us": round(statistics.median(samples), 1), "p99_us": round(samples[int(0.99 * len(samples))], 1),
            "calls": calls}


def bench_year_of_shifts(count: int) -> dict[str, float]:
    timings = []
    segments = 0
    for seed in track(range(count), description="a year of shifts", transient=True):
        schedule, people, overrides = build(100 + seed)
        started = clock.perf_counter()
        found = shifts(schedule, people, YEAR_START, YEAR_START + timedelta(days=365), overrides)
        timings.append((clock.perf_counter() - started) * 1000)
        segments += len(found)
    return {"median_ms_per_schedule": round(statistics.median(timings), 1),
            "max_ms_per_schedule": round(max(timings), 1), "schedules": count,
            "shifts_per_schedule": segments // count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--schedules", type=int, default=50)
    args = parser.parse_args()
    result = {"bench": "schedules", "shape": "10 layers x 50 members, 200 overrides",
              "on_call_at": bench_on_call_at(args.calls), "year_of_shifts": bench_year_of_shifts(args.schedules)}
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
