"""Dashboard charts: pygal SVG drawn on the server and shown as an image (a data: URL).

The SVG is built by pygal's element tree from our own numbers and labels (escaped by the XML
serialiser). pygal's scripts (an inline config and a tooltip library from a CDN) are stripped: the pages
load nothing from elsewhere and every number is also in a table. As an image the SVG keeps its own
<style>, which the pages' Content-Security-Policy (style-src 'self') would block inline, drawing every
shape black; an image document runs no script and fetches nothing either.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import math
from collections.abc import Sequence
from xml.etree import ElementTree

import pygal
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style

from apps.compliance.read import Tally
from apps.compliance.read.overview import TrendPoint

from .matrix import Band, band

# Dark enough on white for WCAG AA text contrast; the charts never rely on colour alone (the tables say it all).
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2937",
    foreground_strong="#111827",
    foreground_subtle="#6b7280",
    opacity="0.9",
    opacity_hover="1",
    colors=("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#b91c1c"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=12,
    value_label_font_size=12,
    title_font_size=15,
)
# The status colour scale, the same bands as the matrix: green, amber, red, and grey for "no one needs it".
# Each keeps 3:1 against white (non-text contrast); the printed value and the table say it in words.
BAND_COLOURS = {Band.GOOD: "#047857", Band.FAIR: "#b45309", Band.POOR: "#b91c1c", Band.NONE: "#6b7280"}
TONE_COLOURS = {"ok": "#047857", "warn": "#b45309", "bad": "#b91c1c", "info": "#1d4ed8"}

COMMON = {
    "style": STYLE,
    "js": [],
    "show_legend": False,
    "print_values": True,
    "width": 720,
    "margin": 12,
    "truncate_label": 28,
    "no_data_text": "No data",
}


CACHE_SECONDS = 3600


def _cached(kind: str, data, draw) -> SafeString:
    """Same numbers, same picture. Drawing takes pygal some 25 ms a chart, so each distinct chart is drawn
    once and kept an hour, keyed by what it plots."""
    key = f"web-chart-image:{kind}:{hashlib.sha256(repr(data).encode()).hexdigest()}"
    return mark_safe(cache.get_or_set(key, lambda: _svg(draw()), CACHE_SECONDS) or "")


def _svg(chart) -> str:
    root = chart.render_tree()
    for parent in root.iter():
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    svg = ElementTree.tostring(root, encoding="unicode")
    # alt="": the table next to the chart is what assistive technology reads.
    return f'<img class="chart-image" alt="" src="data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}">'


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def rates(tallies: Sequence[Tally]) -> SafeString:
    """Compliance rate (%) per slice, as horizontal bars."""
    labels = [tally.label for tally in tallies]
    values = [
        {"value": _percent(tally.rate), "color": BAND_COLOURS[band(tally.rate)], "label": BAND_LABELS[band(tally.rate)]}
        for tally in tallies
    ]

    def draw():
        chart = pygal.HorizontalBar(
            **COMMON,
            height=max(120, 44 * len(labels) + 60),
            range=(0, 100),
            value_formatter=lambda v: f"{v:.0f}%",
        )
        chart.x_labels = labels
        chart.add("Compliant", values)
        return chart

    return _cached("rates", (labels, values), draw)


BAND_LABELS = {Band.GOOD: "on target", Band.FAIR: "below target", Band.POOR: "well below target", Band.NONE: ""}


def _whole_number_ticks(counts: Sequence[int], most: int = 8) -> list[int]:
    """Axis ticks for counts: whole numbers only, at most about `most` of them."""
    top = max(counts, default=0)
    step = max(1, math.ceil(top / most))
    return list(range(0, top + step, step))


def status_counts(labels: Sequence[str], counts: Sequence[int], tones: Sequence[str]) -> SafeString:
    """People per status, each bar in its status's tone (the bar's label names the status)."""
    labels, counts, tones = list(labels), list(counts), list(tones)
    values = [{"value": n, "color": TONE_COLOURS[tone]} for n, tone in zip(counts, tones, strict=True)]

    def draw():
        chart = pygal.HorizontalBar(**COMMON, height=max(120, 40 * len(labels) + 60), value_formatter=str)
        chart.x_labels = labels
        chart.y_labels = _whole_number_ticks(counts)
        chart.add("People", values)
        return chart

    return _cached("statuses", (labels, counts, tones), draw)


def renewals(weeks: Sequence[tuple[datetime.date, int]]) -> SafeString:
    """Renewals due per week, from this week on: the timeline."""
    labels = [f"{start:%b %-d}" for start, _ in weeks]
    counts = [n for _, n in weeks]

    def draw():
        chart = pygal.Bar(**COMMON, height=300, x_label_rotation=-40, value_formatter=str)
        chart.x_labels = labels
        chart.y_labels = _whole_number_ticks(counts)
        chart.add("Renewals due", counts)
        return chart

    return _cached("renewals", (labels, counts), draw)


def trend(points: Sequence[TrendPoint]) -> SafeString:
    labels = [f"{point.day:%b %-d}" for point in points]
    values = [_percent(point.rate) for point in points]

    def draw():
        chart = pygal.Line(
            **COMMON | {"print_values": False},
            height=300,
            range=(0, 100),
            x_label_rotation=-40,
            dots_size=3,
            # A year of weeks: every fourth date is written, the others are ticks.
            x_labels_major_every=4,
            show_minor_x_labels=False,
            value_formatter=lambda v: f"{v:.1f}%",
        )
        chart.x_labels = labels
        chart.add("Compliant", values)
        return chart

    return _cached("trend", (labels, values), draw)
