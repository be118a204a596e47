"""The founding story, shortened: a week of clean shop traffic, then the catalog's categories are
scrambled. No false alarm in the clean week; relevance alerts within 10 minutes; a feed check given
to the runner as one callable alerts on the first corrupted batch."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import numpy as np

from onduty.sim.shop import Batch
from onduty.sim.story import StoryConfig, fault_time, run_story


def keyed_churn(batch: Batch, previous: Batch | None) -> Mapping[str, Any] | None:
    """A stand-in feed check: the share of products whose category changed since the last batch."""
    if previous is None:
        return None
    changed = float(np.mean(batch["category"] != previous["category"]))
    return {"changed_share": changed} if changed > 0.01 else None


def test_short_story_detects_the_corruption_without_false_alarms() -> None:
    config = StoryConfig(clean_days=7, after_fault=timedelta(hours=1))
    report = run_story(config, feed_checks=[("keyed-churn", keyed_churn)])
    assert report.fault_at == fault_time(config)
    assert report.false_alarms == {"relevance": 0, "conversion": 0, "keyed-churn": 0}
    assert report.false_pages == 0
    relevance = report.first_alert_minutes["relevance"]
    assert relevance is not None and relevance <= 10
    assert report.first_alert_minutes["keyed-churn"] == 0.0  # the corrupted batch itself
    assert report.pages_after_fault > 0
