"""Small server-side SVG bar charts for the reports: no JavaScript, readable when printed.

Every text that goes into the SVG is escaped here; the result is Markup so templates can
embed it. Each chart carries a <title> and <desc> (role="img"), and the pages put a table
with the same numbers beside it for screen readers and for copying.
"""

import math
from datetime import datetime, timedelta

from markupsafe import Markup, escape

INK, MUTED, GRID = "#212529", "#495057", "#ced4da"
DARK, LIGHT = "#0b3d6e", "#b6d4f2"
FONT = 'font-family="DejaVu Sans, Verdana, Arial, sans-serif"'


def _nice_max(value: int, ticks: int = 4) -> tuple[int, int]:
    """A round axis maximum >= value and its tick step (1, 2, 5 x 10^k)."""
    if value <= ticks:
        return ticks, 1
    raw = value / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return int(step * math.ceil(value / step)), int(step)


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT} font-size="12">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def arrivals_chart(
    chart_id: str,
    bins: list[tuple[datetime, int]],
    *,
    title: str,
    desc: str,
    time_format: str = "%H.%M",
    bar_label: str = "%(start)s–%(end)s: %(n)d",
) -> Markup:
    """Check-ins per 5 minutes as vertical bars, time along the bottom (WIB)."""
    width, height = 720, 230
    left, right, top, bottom = 40, 12, 14, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((n for _, n in bins), default=0)
    axis_max, step = _nice_max(peak)
    parts = _open(chart_id, width, height, title, desc)
    for value in range(0, axis_max + 1, step):
        y = top + plot_h - plot_h * value / axis_max
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{value}</text>'
        )
    n = max(len(bins), 1)
    slot = plot_w / n
    gap = 1 if slot >= 4 else 0
    label_every = max(1, math.ceil(48 / slot))
    # Keep labels on round times: a multiple of 15 minutes when bars are 5 minutes wide.
    if label_every > 1:
        label_every = math.ceil(label_every / 3) * 3
    for i, (start, count) in enumerate(bins):
        x = left + i * slot
        h = plot_h * count / axis_max
        end = start + timedelta(minutes=5)
        tip = bar_label % {
            "start": start.strftime(time_format),
            "end": end.strftime(time_format),
            "n": count,
        }
        if count:
            parts.append(
                f'<rect x="{x + gap:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{max(slot - 2 * gap, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{DARK}"><title>{escape(tip)}</title></rect>'
            )
        if i % label_every == 0:
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" '
                f'y2="{top + plot_h + 4}" stroke="{MUTED}"/>'
            )
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 17}" text-anchor="middle" '
                f'fill="{INK}">{escape(start.strftime(time_format))}</text>'
            )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}" stroke="{INK}" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def units_chart(
    chart_id: str, rows: list[dict], *, title: str, desc: str, legend: dict[str, str]
) -> Markup:
    """One row per unit: a light bar for the registered, a dark one inside it for those who
    attended, a dashed mark at the quota, and "attended/registered" at the end.

    ``rows``: dicts with label, registered, attended and quota (None: no quota).
    ``legend``: texts for the keys registered, attended, quota."""
    width, row_h, label_w = 720, 24, 170
    top, bottom, right = 34, 26, 70
    height = top + row_h * max(len(rows), 1) + bottom
    plot_w = width - label_w - right
    peak = max([max(r["registered"], r["attended"], r["quota"] or 0) for r in rows] or [0])
    axis_max, step = _nice_max(peak, ticks=5)
    scale = plot_w / axis_max
    parts = _open(chart_id, width, height, title, desc)
    parts += _legend(label_w, legend)
    plot_bottom = top + row_h * len(rows)
    for value in range(0, axis_max + 1, step):
        x = label_w + value * scale
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{plot_bottom}" stroke="{GRID}"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{plot_bottom + 16}" text-anchor="middle" '
            f'fill="{MUTED}">{value}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * row_h
        label = row["label"] if len(row["label"]) <= 24 else row["label"][:23] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2 + 4:.1f}" text-anchor="end" '
            f'fill="{INK}">{escape(label)}<title>{escape(row["label"])}</title></text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{row["registered"] * scale:.1f}" '
            f'height="{row_h - 8}" fill="{LIGHT}" stroke="{DARK}" stroke-width="1"/>'
        )
        if row["attended"]:
            parts.append(
                f'<rect x="{label_w}" y="{y + 8}" '
                f'width="{row["attended"] * scale:.1f}" height="{row_h - 16}" '
                f'fill="{DARK}"/>'
            )
        if row["quota"]:
            qx = label_w + row["quota"] * scale
            parts.append(
                f'<line x1="{qx:.1f}" x2="{qx:.1f}" y1="{y + 1}" y2="{y + row_h - 1}" '
                f'stroke="{INK}" stroke-width="2" stroke-dasharray="3 2"/>'
            )
        end = label_w + max(row["registered"], row["attended"], row["quota"] or 0) * scale
        parts.append(
            f'<text x="{end + 6:.1f}" y="{y + row_h / 2 + 4:.1f}" fill="{INK}">'
            f"{row['attended']}/{row['registered']}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _legend(x: int, legend: dict[str, str]) -> list[str]:
    parts = [
        f'<rect x="{x}" y="6" width="14" height="12" fill="{LIGHT}" stroke="{DARK}"/>',
        f'<text x="{x + 20}" y="16" fill="{INK}">{escape(legend["registered"])}</text>',
    ]
    x2 = x + 40 + 7 * len(legend["registered"])
    parts += [
        f'<rect x="{x2}" y="6" width="14" height="12" fill="{DARK}"/>',
        f'<text x="{x2 + 20}" y="16" fill="{INK}">{escape(legend["attended"])}</text>',
    ]
    x3 = x2 + 40 + 7 * len(legend["attended"])
    parts += [
        f'<line x1="{x3 + 7}" x2="{x3 + 7}" y1="4" y2="20" stroke="{INK}" '
        f'stroke-width="2" stroke-dasharray="3 2"/>',
        f'<text x="{x3 + 16}" y="16" fill="{INK}">{escape(legend["quota"])}</text>',
    ]
    return parts
