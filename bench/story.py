"""Benchmark: the founding story, measured. Weeks of clean shop traffic (seasonal by hour of week,
20,000 sessions/hour at the peak, 3% conversion), then the catalog's category column is scrambled and
conversions drop 19%. The catalog feed check (onduty.detect.feeds) sees every 15-minute batch.
Prints, as JSON, the minutes from the corruption to each detector's first alert and the false alarms
and pages over the clean days.

Run: .venv/bin/python bench/story.py [--days 30] [--seed 7] [--after-hours 8]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import timedelta

from rich.progress import Progress

from onduty.sim.shop import ShopConfig
from onduty.sim.story import StoryConfig, catalog_feed_check, run_story


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=30.0, help="clean days before the corruption")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-feed-check", action="store_true", help="leave out the catalog feed check")
    parser.add_argument("--after-hours", type=float, default=8.0, help="hours simulated after the corruption")
    args = parser.parse_args(argv)
    config = StoryConfig(clean_days=args.days, after_fault=timedelta(hours=args.after_hours),
                         shop=ShopConfig(seed=args.seed))
    started = time.perf_counter()
    with Progress(transient=True) as progress:
        task = progress.add_task("simulating", total=1.0)
        checks = [] if args.no_feed_check else [("catalog", catalog_feed_check())]
        report = run_story(config, checks, progress=lambda done: progress.update(task, completed=done))
    result = report.as_dict()
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
