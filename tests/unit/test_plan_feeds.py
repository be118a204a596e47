"""The plan's `feeds:` section: defaults, pairs in either form, and mistakes named by line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from onduty.domain.severity import Severity
from onduty.plan.convert import to_directory
from onduty.plan.load import load_plan
from tests.unit.test_plan_load import BASE, errors_of, write


def test_feed_defaults_and_pairs_reach_the_directory(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, BASE + """\
feeds:
  - id: catalog
    service: recs
    key: product_id
    pairs: ["category:brand", [category, supplier]]
    severity: sev1
"""))
    feed = to_directory(plan).feeds["catalog"]
    assert feed.pairs == (("category", "brand"), ("category", "supplier"))
    assert feed.severity is Severity.SEV1 and feed.reference == "first_batch"
    assert feed.thresholds["drift_share"] == 0.5 and feed.thresholds["churn_floor"] == 0.01
    (rule, *_) = to_directory(plan).alerting.classes  # type: ignore[union-attr]
    assert rule.incident_type == "pipeline_failure" and rule.severity is Severity.SEV1


@pytest.mark.parametrize(("feed", "field", "message"), [
    ("  - {id: catalog, service: nowhere}", "feeds[0].service", "unknown service 'nowhere'"),
    ("  - {id: catalog, service: recs, pairs: [category]}", "feeds[0].pairs[0]", "column pair"),
    ("  - {id: catalog, service: recs, thresholds: {drift_share: 2}}", "feeds[0].thresholds.drift_share",
     "less than or equal to 1"),
    ("  - {id: catalog, service: recs, thresholds: {method: anova}}", "feeds[0].thresholds.method", "'ks'"),
])
def test_feed_mistakes_name_the_field(tmp_path: Path, feed: str, field: str, message: str) -> None:
    errors = errors_of(tmp_path, BASE + "feeds:\n" + feed + "\n")
    assert any(e.field == field and message in e.message for e in errors), errors
