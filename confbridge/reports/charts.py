"""Server-side SVG charts (pygal) for the reports page, served as images under the page's CSP.

The SVG carries no script (``js=[]``) and is shown through ``<img>`` (a browser runs nothing in an
image); each chart's numbers are also on the page as a table, for screen readers and for copying."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pygal
from pygal.style import Style

# pygal writes its configuration for its (optional, here absent) tooltip script into the SVG: dropped.
_SCRIPT = re.compile(rb"<script[^>]*>.*?</script>", re.DOTALL)
# The media type and the policy a chart is served with: no script, no fetch, its own inline style only.
SVG_TYPE = "image/svg+xml"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'"

STYLE = Style(
    background="#ffffff", plot_background="#ffffff", foreground="#1f2933", foreground_strong="#1f2933",
    foreground_subtle="#52606d", colors=("#1d4ed8", "#b91c1c", "#047857", "#92400e"),
    font_family="system-ui, 'Segoe UI', Roboto, Arial, sans-serif", label_font_size=13, major_label_font_size=13,
    value_font_size=12, title_font_size=16, legend_font_size=13,
)


def _config(title: str) -> dict[str, object]:
    return {"title": title, "style": STYLE, "js": [], "show_legend": False, "width": 720, "height": 360,
            "explicit_size": False, "print_values": False, "disable_xml_declaration": False,
            "no_data_text": "—"}


def bars(title: str, points: Sequence[tuple[str, float]], *, horizontal: bool = False,
         percent: bool = False) -> bytes:
    """A bar chart of (label, value) points as a standalone SVG document."""
    chart_type = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_type(**_config(title))
    if percent:
        chart.value_formatter = lambda v: f"{v:.1f}%"
        chart.range = (0, 100)
    if horizontal:
        for label, value in points:
            chart.add(label, [value])
        chart.show_legend = True
        chart.legend_at_bottom = True
        chart.legend_at_bottom_columns = 2
        chart.height = max(300, 60 + 34 * len(points))
    else:
        chart.x_labels = [label for label, _value in points]
        chart.x_label_rotation = 0 if len(points) <= 12 else 60
        chart.add(title, [value for _label, value in points])
    rendered = chart.render()
    svg = rendered if isinstance(rendered, bytes) else str(rendered).encode("utf-8")
    return _SCRIPT.sub(b"", svg)
