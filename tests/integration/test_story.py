"""The founding story, shortened: a week of clean shop traffic, then the catalog's categories are
scrambled. No false alarm in the clean week; the feed check quarantines the first corrupted batch; the
relevance monitor alerts within 10 minutes."""

from __future__ import annotations

from datetime import timedelta

from onduty.sim.story import StoryConfig, catalog_feed_check, fault_time, run_story


def test_short_story_detects_the_corruption_without_false_alarms() -> None:
    config = StoryConfig(clean_days=7, after_fault=timedelta(hours=1))
    report = run_story(config, feed_checks=[("catalog", catalog_feed_check())])
    assert report.fault_at == fault_time(config)
    assert report.false_alarms == {"relevance": 0, "conversion": 0, "catalog": 0}
    assert report.false_pages == 0
    assert report.first_alert_minutes["catalog"] == 0.0  # the corrupted batch itself is held
    relevance = report.first_alert_minutes["relevance"]
    assert relevance is not None and relevance <= 10
    assert report.pages_after_fault > 0
