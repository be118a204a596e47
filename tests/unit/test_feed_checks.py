"""Feed checks as pure functions: schema, nulls, ranges, categories, keyed churn and unseen pairs;
the shuffled-catalog corruption that per-column drift cannot see."""

from __future__ import annotations

import numpy as np
import pytest

from onduty.detect.feeds import Categorical, FeedConfig, Profile, Snapshot, check, profile, reference_profile

CATEGORIES = np.array([f"cat{i}" for i in range(40)])


def catalog(rng: np.random.Generator, rows: int = 20_000) -> dict[str, np.ndarray | Categorical]:
    """Products with a category, a brand that sells in one or two categories, and a price."""
    category = rng.integers(0, CATEGORIES.size, rows)
    brand = category * 3 + rng.integers(0, 2, rows)  # each brand belongs to its category
    return {
        "product_id": np.array([f"p{i:07d}" for i in range(rows)], dtype=object),
        "category": Categorical(category, CATEGORIES),
        "brand": Categorical(brand, np.array([f"brand{i}" for i in range(CATEGORIES.size * 3)])),
        "price": np.round(rng.lognormal(3, 0.5, rows), 2),
    }


def churned(batch: dict[str, np.ndarray | Categorical], rng: np.random.Generator,
            share: float = 0.003) -> dict[str, np.ndarray | Categorical]:
    """A normal refresh: a few prices change."""
    price = batch["price"].copy()  # type: ignore[union-attr]
    moved = rng.random(price.size) < share
    price[moved] = np.round(price[moved] * 1.1, 2)
    return {**batch, "price": price}


def shuffle_categories(batch: dict[str, np.ndarray | Categorical], rng: np.random.Generator,
                       share: float) -> dict[str, np.ndarray | Categorical]:
    """Swap category and brand between randomly chosen items: every column keeps its distribution."""
    cat, brand = batch["category"], batch["brand"]
    assert isinstance(cat, Categorical) and isinstance(brand, Categorical)
    picked = rng.choice(cat.codes.size, int(share * cat.codes.size), replace=False)
    codes = cat.codes.copy()
    codes[picked] = codes[rng.permutation(picked)]
    return {**batch, "category": Categorical(codes, cat.categories)}


def keyed_history(rng: np.random.Generator) -> tuple[Profile, Snapshot, dict[str, np.ndarray | Categorical],
                                                     FeedConfig]:
    config = FeedConfig(key="product_id", pairs=(("category", "brand"),))
    batch = catalog(rng)
    reference = profile(batch, pairs=config.pairs)
    previous = check(reference, batch, None, config).snapshot
    for _ in range(4):
        batch = churned(batch, rng)
        verdict = check(reference, batch, previous, config)
        assert verdict.accepted, verdict.findings
        previous = verdict.snapshot
    assert previous is not None
    return reference, previous, batch, config


def test_shuffled_categories_pass_per_column_drift_but_fail_keys_and_pairs() -> None:
    rng = np.random.default_rng(5)
    reference, previous, batch, config = keyed_history(rng)
    corrupted = shuffle_categories(batch, rng, 0.05)
    verdict = check(reference, corrupted, previous, config)
    assert not verdict.drift.drifted_columns  # every column's distribution is unchanged
    category = next(d for d in verdict.drift.columns if d.column == "category")
    assert category.method == "jensenshannon" and category.statistic < 0.01
    failed = {f.check for f in verdict.findings if f.blocking}
    assert failed == {"keys", "pairs"}
    assert verdict.verdict == "quarantine"
    assert verdict.keys is not None and verdict.keys["changed_share"] > 0.04 > verdict.keys["limit"]
    assert verdict.pairs["category:brand"]["new_pair_share"] > 0.04


def test_quarantined_batch_keeps_the_previous_churn_history() -> None:
    rng = np.random.default_rng(6)
    reference, previous, batch, config = keyed_history(rng)
    verdict = check(reference, shuffle_categories(batch, rng, 0.05), previous, config)
    assert verdict.snapshot is not None and verdict.snapshot.history == previous.history


def test_normal_churn_is_accepted_and_learnt() -> None:
    rng = np.random.default_rng(7)
    reference, previous, batch, config = keyed_history(rng)
    verdict = check(reference, churned(batch, rng), previous, config)
    assert verdict.accepted
    assert verdict.snapshot is not None and len(verdict.snapshot.history) == len(previous.history) + 1


@pytest.mark.parametrize(("change", "check_name", "statistic"), [
    (lambda b: {k: v for k, v in b.items() if k != "price"}, "schema", "missing"),
    (lambda b: {**b, "price": Categorical.of(b["price"].astype(str))}, "schema", "type"),
    (lambda b: {**b, "price": np.where(np.arange(b["price"].size) % 4 == 0, np.nan, b["price"])}, "nulls",
     "null_share"),
    (lambda b: {**b, "price": b["price"] * np.where(np.arange(b["price"].size) % 20 == 0, 1000, 1)}, "range",
     "out_of_range_share"),
    (lambda b: {**b, "category": Categorical(np.where(np.arange(b["category"].codes.size) % 10 == 0, 40,
                                                       b["category"].codes), np.append(CATEGORIES, "junk"))},
     "categories", "new_category_share"),
    (lambda b: {**b, "category": Categorical(np.where(b["category"].codes == 3, 4, b["category"].codes),
                                             CATEGORIES)}, "categories", "vanished_categories"),
])
def test_broken_batch_is_quarantined_with_a_named_finding(change, check_name: str, statistic: str) -> None:  # type: ignore[no-untyped-def]
    batch = catalog(np.random.default_rng(8), 5000)
    verdict = check(profile(batch), change(batch))
    blocking = [(f.check, f.statistic) for f in verdict.findings if f.blocking]
    assert (check_name, statistic) in blocking
    assert verdict.verdict == "quarantine"


def test_extra_column_is_reported_but_accepted() -> None:
    batch = catalog(np.random.default_rng(9), 2000)
    verdict = check(profile(batch), {**batch, "stock": np.ones(2000)})
    assert verdict.accepted
    assert [(f.check, f.column, f.blocking) for f in verdict.findings] == [("schema", "stock", False)]


def test_dataset_drift_quarantines_when_half_the_columns_drift() -> None:
    rng = np.random.default_rng(10)
    ref = {f"x{i}": rng.normal(0, 1, 3000) for i in range(4)}
    cur = {f"x{i}": rng.normal(1.0 if i < 2 else 0, 1, 3000) for i in range(4)}
    verdict = check(profile(ref), cur, config=FeedConfig(out_of_range_share=1.0))
    assert verdict.drift.drifted_columns == ["x0", "x1"]
    assert [f.check for f in verdict.findings if f.blocking] == ["dataset_drift"]


def test_profile_survives_a_round_trip_through_bytes() -> None:
    batch = catalog(np.random.default_rng(11), 1000)
    original = profile(batch, pairs=[("category", "brand")])
    again = Profile.from_bytes(original.to_bytes())
    assert again.summary() == original.summary()
    assert np.array_equal(again.pairs[("category", "brand")], original.pairs[("category", "brand")])
    assert check(again, batch).accepted


def test_pca_error_flags_shuffled_categories_and_passes_a_clean_refresh() -> None:
    rng = np.random.default_rng(12)
    config = FeedConfig(key="product_id", multivariate=True)
    batch = catalog(rng)
    reference = Profile.from_bytes(reference_profile(batch, config).to_bytes())
    clean = check(reference, churned(batch, rng), None, config)
    assert clean.accepted and clean.multivariate is not None
    held = check(reference, shuffle_categories(batch, rng, 0.05), None, config)
    (finding,) = [f for f in held.findings if f.check == "multivariate"]
    assert finding.blocking and finding.value > finding.threshold  # type: ignore[operator]
    assert not held.drift.drifted_columns


def test_identifier_columns_are_left_out_of_category_and_drift_checks() -> None:
    rng = np.random.default_rng(13)
    ref = {"title": np.array([f"t{i}" for i in range(3000)], dtype=object), "x": rng.normal(0, 1, 3000)}
    cur = {"title": np.array([f"u{i}" for i in range(3000)], dtype=object), "x": rng.normal(0, 1, 3000)}
    verdict = check(profile(ref), cur)
    assert verdict.accepted, verdict.findings
    assert [d.column for d in verdict.drift.columns] == ["x"]
