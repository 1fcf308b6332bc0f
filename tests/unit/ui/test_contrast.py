"""Muted and cancelled text meet WCAG 2.1 AA (4.5:1) on every background the stylesheet puts them on
(issue 18: the weekend columns, the page background under a meeting title, the cancelled badge).
The browser audit (tests/browser/test_accessibility.py) checks the rendered pages; this names the colours."""

from __future__ import annotations

import re

import pytest

from confbridge.settings import PROJECT_ROOT

CSS = (PROJECT_ROOT / "web" / "static" / "css" / "app.css").read_text(encoding="utf-8")
ROOT_VARS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS[: CSS.index("}")]))
# Where muted text sits: cards, the page, weekend and today columns, table heads, disabled rows, previews.
BACKGROUNDS = {"card": "#ffffff", "page": ROOT_VARS["bg"], "weekend": "#fafbfc", "today": "#fffbea",
               "table-head": "#f7f8fa", "disabled-row": "#f1f2f4", "cancelled-badge": ROOT_VARS["cancelled-bg"]}


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: str, bg: str) -> float:
    high, low = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_issue_figures() -> None:
    # The old muted grey failed on a weekend column (4.44:1) and on the page background (about 4.2:1).
    assert round(contrast("#6b7686", "#fafbfc"), 2) == 4.44
    assert 4.2 < contrast("#6b7686", "#f3f5f8") < 4.25


@pytest.mark.parametrize("text", ["muted", "cancelled", "ink-soft"])
@pytest.mark.parametrize("where", list(BACKGROUNDS))
def test_text_colours_meet_aa_on_every_background(text: str, where: str) -> None:
    ratio = contrast(ROOT_VARS[text], BACKGROUNDS[where])
    assert ratio >= 4.5, f"--{text} {ROOT_VARS[text]} on {where} {BACKGROUNDS[where]}: {ratio:.2f}:1"
    assert f"background: {BACKGROUNDS[where]}" in CSS or where in {"card", "page", "cancelled-badge"}
