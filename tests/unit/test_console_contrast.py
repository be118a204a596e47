"""The console's colours: every text colour the stylesheet pairs with a background reads at WCAG AA (4.5:1)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

CSS = (ROOT / "src" / "onduty" / "web" / "ui" / "static" / "ui.css").read_text()
VARS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b", CSS))
# (text, background) as the stylesheet uses them: body text, muted text, links, status badges, severity chips,
# clocks, errors and findings, the top bar, buttons.
PAIRS = [
    ("ink", "bg"), ("ink", "card"), ("muted", "card"), ("muted", "bg"), ("accent", "card"), ("accent", "bg"),
    ("red", "red-bg"), ("red", "card"), ("amber", "amber-bg"), ("green", "green-bg"), ("green", "card"),
    ("accent-ink", "accent"), ("#00466e", "#e0f0fa"), ("#00466e", "#e6f4ea"), ("ink", "#e8ebf0"),
    ("#fff", "#a3001b"), ("#fff", "#a34700"), ("#fff", "#4a5360"), ("#fff", "#6b7380"),
    ("#fff", "#151a22"), ("#c5ccd6", "#151a22"), ("muted", "#fafbfc"), ("#0a2a5c", "#dce8fb"),
]


def _colour(name: str) -> str:
    value = name if name.startswith("#") else VARS[name]
    assert value.lower() in CSS.lower(), f"{value} is no longer in ui.css: update this test's pairs"
    return value


def _luminance(hex_colour: str) -> float:
    if len(hex_colour) == 4:  # #fff
        hex_colour = "#" + "".join(c * 2 for c in hex_colour[1:])
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(fg: str, bg: str) -> float:
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_is_computed_as_wcag_defines_it() -> None:
    assert contrast("#000000", "#fff") == pytest.approx(21.0)
    assert contrast("#777777", "#fff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_text_on_its_background_meets_aa(fg: str, bg: str) -> None:
    ratio = contrast(_colour(fg), _colour(bg))
    assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f}:1"
