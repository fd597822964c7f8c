"""Charts as inline SVG, drawn on the server: no JavaScript library, no external network.

People would rather look at a chart than a table; these render in any browser, print well and
can be asserted in tests (every point is an element with data attributes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777")


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[str, float | None]]  # (x label, y) in x order; None = no data


def line_chart(series: Sequence[Series], *, title: str, y_min: float | None = None,
               y_max: float | None = None, y_format: str = "{:.0f}", width: int = 1000,
               height: int = 260, threshold: float | None = None,
               chart_id: str = "chart") -> str:
    # Sized for a full-width panel (the SVG scales with it, text included); the left margin
    # grows with the widest y label so large figures are never clipped.
    right, top, bottom = 36, 28, 44
    labels: list[str] = []
    for s in series:
        for x, _ in s.points:
            if x not in labels:
                labels.append(x)
    values = [y for s in series for _, y in s.points if y is not None]
    lo = y_min if y_min is not None else min(values, default=0.0)
    hi = y_max if y_max is not None else max(values, default=1.0)
    if hi <= lo:
        hi = lo + 1
    ticks = [lo + (hi - lo) * k / 4 for k in range(5)]
    left = max(48, 7 * max(len(y_format.format(t)) for t in ticks) + 16)
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels) - 1, 1)

    def px(i: int) -> float:
        return left + plot_w * i / n

    def py(y: float) -> float:
        return top + plot_h * (1 - (y - lo) / (hi - lo))

    out = [f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {width} {height}"'
           f' width="100%" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f'<title>{escape(title)}</title>',
           f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>']
    for y in ticks:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{py(y):.1f}" y2="{py(y):.1f}" '
                   f'class="grid"/><text x="{left - 6}" y="{py(y) + 4:.1f}" class="axis" '
                   f'text-anchor="end">{escape(y_format.format(y))}</text>')
    step = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            out.append(f'<text x="{px(i):.1f}" y="{height - 22}" class="axis" '
                       f'text-anchor="middle">{escape(label)}</text>')
    if threshold is not None and lo <= threshold <= hi:
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{py(threshold):.1f}" '
                   f'y2="{py(threshold):.1f}" class="threshold"/>')
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        xs = {x: i for i, x in enumerate(labels)}
        path: list[str] = []
        for x, y in s.points:
            if y is None:
                continue
            path.append(f"{'L' if path else 'M'}{px(xs[x]):.1f},{py(y):.1f}")
        if path:
            out.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" '
                       f'stroke-width="2" class="series" data-series="{escape(s.name)}"/>')
        for x, y in s.points:
            if y is not None:
                out.append(f'<circle cx="{px(xs[x]):.1f}" cy="{py(y):.1f}" r="3" '
                           f'fill="{color}" class="point" data-series="{escape(s.name)}" '
                           f'data-x="{escape(x)}" data-y="{y}"><title>{escape(s.name)} '
                           f'{escape(x)}: {escape(y_format.format(y))}</title></circle>')
    legend_x = left
    for index, s in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        out.append(f'<rect x="{legend_x}" y="{height - 8}" width="10" height="4" '
                   f'fill="{color}"/><text x="{legend_x + 14}" y="{height - 3}" '
                   f'class="legend">{escape(s.name)}</text>')
        legend_x += 24 + 7 * len(s.name)
    out.append("</svg>")
    return "".join(out)


def bar_chart(bars: Sequence[tuple[str, float]], *, title: str, width: int = 640,
              height: int = 200, value_format: str = "{:.0f}", chart_id: str = "bars",
              colours: Sequence[str] | None = None) -> str:
    """Bars; ``colours`` (one per bar) when the colour carries meaning (accepted green,
    dead red), the palette otherwise."""
    left, right, top, bottom = 12, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    hi = max((v for _, v in bars), default=1.0) or 1.0
    slot = plot_w / max(len(bars), 1)
    out = [f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {width} {height}"'
           f' width="100%" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>']
    for i, (label, value) in enumerate(bars):
        h = plot_h * value / hi
        x = left + i * slot + slot * 0.15
        out.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
                   f'height="{h:.1f}" '
                   f'fill="{colours[i] if colours else PALETTE[i % len(PALETTE)]}" '
                   f'class="bar" '
                   f'data-label="{escape(label)}" data-value="{value}"><title>{escape(label)}: '
                   f'{escape(value_format.format(value))}</title></rect>'
                   f'<text x="{x + slot * 0.35:.1f}" y="{height - 24}" class="axis" '
                   f'text-anchor="middle">{escape(label[:14])}</text>'
                   f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h - h - 4:.1f}" '
                   f'class="axis" text-anchor="middle">{escape(value_format.format(value))}'
                   f'</text>')
    out.append("</svg>")
    return "".join(out)
