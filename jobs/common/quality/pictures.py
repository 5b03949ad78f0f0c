"""Self-contained HTML pages for ZenML's dashboard: tables and bar charts as inline SVG.

The dashboard shows an HTML visualization in a sandboxed frame with no network, so a page carries
its own styles and no scripts. Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

STYLE = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #1f2937; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 20px 0 6px; }
p.note { color: #4b5563; margin: 2px 0 10px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #d1d5db; padding: 4px 10px; text-align: right; }
th { background: #f3f4f6; } td.label, th.label { text-align: left; }
td.bad { color: #b91c1c; font-weight: 600; } td.good { color: #047857; }
"""


def page(title: str, *sections: str, subtitle: str = "") -> str:
    note = f'<p class="note">{escape(subtitle)}</p>' if subtitle else ""
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{note}"
        + "".join(sections)
        + "</body></html>"
    )


def side_by_side(*sections: str) -> str:
    """Sections next to each other where the frame is wide enough (the dashboard's is short)."""
    return (
        '<div style="display: flex; flex-wrap: wrap; gap: 0 32px; align-items: flex-start">'
        + "".join(sections)
        + "</div>"
    )


def section(heading: str, *parts: str, note: str = "") -> str:
    text = f'<p class="note">{escape(note)}</p>' if note else ""
    return f"<section><h2>{escape(heading)}</h2>{text}{''.join(parts)}</section>"


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    classes: Iterable[Sequence[str]] | None = None,
    shades: Iterable[Sequence[float | None]] | None = None,
) -> str:
    """The first column is a label; ``classes`` and ``shades`` (0..1 blue) style the cells."""
    rows = list(rows)
    classes = list(classes) if classes is not None else [[""] * len(r) for r in rows]
    shades = list(shades) if shades is not None else [[None] * len(r) for r in rows]
    head = "".join(
        f'<th class="label">{escape(h)}</th>' if i == 0 else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row, row_classes, row_shades in zip(rows, classes, shades, strict=True):
        cells = []
        for i, (value, css, shade) in enumerate(zip(row, row_classes, row_shades, strict=True)):
            css = " ".join(filter(None, ["label" if i == 0 else "", css]))
            style = (
                f' style="background: rgba(37, 99, 235, {0.08 + 0.6 * shade:.2f})"'
                if shade is not None
                else ""
            )
            cells.append(f'<td class="{css}"{style}>{escape(_text(value))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def bars(
    values: Sequence[tuple[str, float]],
    *,
    limit: float | None = None,
    limit_label: str = "threshold",
    highlight: Iterable[str] = (),
    scale: float | None = None,
) -> str:
    """Horizontal bars with a dashed line at ``limit``; bars named in ``highlight`` are red."""
    highlight = set(highlight)
    top = max([scale or 0.0, limit or 0.0, *(v for _, v in values), 1e-9])
    width, left, row = 640, 170, 26
    height = row * len(values) + 30
    span = width - left - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" font-family="system-ui, sans-serif" font-size="12">'
    ]
    for i, (label, value) in enumerate(values):
        y = 8 + i * row
        colour = "#dc2626" if label in highlight else "#2563eb"
        length = max(span * value / top, 1)
        parts.append(
            f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{row - 8}" fill="{colour}">'
            f"<title>{escape(label)}: {value:.4g}</title></rect>"
            f'<text x="{left + length + 6:.1f}" y="{y + 14}">{value:.4g}</text>'
        )
    if limit is not None:
        x = left + span * limit / top
        parts.append(
            f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 18}" stroke="#111827" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 4}" text-anchor="middle">'
            f"{escape(limit_label)} {limit:.4g}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _text(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "" if value is None else str(value)


def scatter(
    points: Sequence[tuple[float, float]],
    *,
    x_label: str,
    y_label: str,
    diagonal: bool = False,
) -> str:
    """Points in a square plot with labelled axes; ``diagonal``: the line y = x (where a
    perfect prediction would lie)."""
    size, margin = 360, 44
    xs = [x for x, _ in points] or [0.0]
    ys = [y for _, y in points] or [0.0]
    low = min(min(xs), min(ys)) if diagonal else None
    high = max(max(xs), max(ys)) if diagonal else None
    x0, x1 = (low, high) if diagonal else (min(xs), max(xs))
    y0, y1 = (low, high) if diagonal else (min(ys), max(ys))
    assert x0 is not None and x1 is not None and y0 is not None and y1 is not None
    span_x, span_y = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    inner = size - 2 * margin

    def at(x: float, y: float) -> tuple[float, float]:
        return margin + inner * (x - x0) / span_x, size - margin - inner * (y - y0) / span_y

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f'<rect x="{margin}" y="{margin}" width="{inner}" height="{inner}" fill="none" '
        'stroke="#d1d5db"/>',
    ]
    if diagonal:
        (ax, ay), (bx, by) = at(x0, y0), at(x1, y1)
        parts.append(
            f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" stroke="#111827" '
            'stroke-dasharray="4 3"/>'
        )
    for x, y in points:
        px, py = at(x, y)
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="#2563eb" opacity="0.6"/>')
    parts.append(
        f'<text x="{size / 2}" y="{size - 8}" text-anchor="middle">{escape(x_label)} '
        f"({x0:.4g} to {x1:.4g})</text>"
        f'<text x="12" y="{size / 2}" text-anchor="middle" transform="rotate(-90 12 {size / 2})">'
        f"{escape(y_label)} ({y0:.4g} to {y1:.4g})</text></svg>"
    )
    return "".join(parts)
