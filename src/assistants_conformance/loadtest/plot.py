"""A latency-over-time chart as a small hand-written SVG (matplotlib is not a dependency, and one
line chart does not justify it): p50 and p99 per time bucket for a few series."""

from __future__ import annotations

from html import escape

from .metrics import Sample, percentile

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
W, H, LEFT, RIGHT, TOP, BOTTOM = 900, 420, 70, 220, 30, 45


def _buckets(samples: list[Sample], t0: float, width: float) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for s in samples:
        if s.ok:
            out.setdefault(int((s.at - t0) // width), []).append(s.value)
    return out


def latency_svg(series: dict[str, list[Sample]], *, t0: float, warmup_end: float | None = None,
                title: str = "latency over time") -> str:
    """series: label -> samples (ms). One p50 line (solid) and one p99 line (dashed) per series."""
    everything = [s for group in series.values() for s in group if s.ok]
    if not everything:
        return _frame(title, "no samples", 1, 1, "")
    t_end = max(s.at for s in everything) - t0
    width = max(1.0, t_end / 60)  # at most ~60 buckets
    lines: list[tuple[str, str, list[tuple[float, float]]]] = []
    for i, (label, group) in enumerate(series.items()):
        buckets = _buckets(group, t0, width)
        for p, dash in ((0.5, ""), (0.99, "6,4")):
            points = [((k + 0.5) * width, percentile(sorted(v), p)) for k, v in sorted(buckets.items())]
            if points:
                lines.append((f"{label} p{p * 100:g}", COLORS[i % len(COLORS)] + ("|" + dash if dash else ""), points))
    y_max = max((y for _, _, pts in lines for _, y in pts), default=1.0) * 1.1 or 1.0
    x_max = max(t_end, width)
    body = []
    sx = lambda x: LEFT + (W - LEFT - RIGHT) * x / x_max  # noqa: E731
    sy = lambda y: TOP + (H - TOP - BOTTOM) * (1 - y / y_max)  # noqa: E731
    if warmup_end is not None and warmup_end > t0:
        wx = sx(min(warmup_end - t0, x_max))
        body.append(f'<rect x="{LEFT}" y="{TOP}" width="{wx - LEFT:.1f}" height="{H - TOP - BOTTOM}" fill="#eee"/>'
                    f'<text x="{LEFT + 4}" y="{TOP + 14}" font-size="11" fill="#777">warm-up (excluded)</text>')
    for j, (label, style, pts) in enumerate(lines):
        color, _, dash = style.partition("|")
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5"{dash_attr} points="{path}"/>')
        ly = TOP + 16 * j + 8
        body.append(f'<line x1="{W - RIGHT + 10}" y1="{ly}" x2="{W - RIGHT + 34}" y2="{ly}" stroke="{color}"'
                    f' stroke-width="2"{dash_attr}/><text x="{W - RIGHT + 40}" y="{ly + 4}" font-size="11">'
                    f'{escape(label)}</text>')
    return _frame(title, "", x_max, y_max, "".join(body))


def _frame(title: str, note: str, x_max: float, y_max: float, body: str) -> str:
    axes = [f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="#000"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="#000"/>']
    for k in range(6):
        x = LEFT + (W - LEFT - RIGHT) * k / 5
        y = TOP + (H - TOP - BOTTOM) * (1 - k / 5)
        axes.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" font-size="11" text-anchor="middle">{x_max * k / 5:.1f}</text>')
        axes.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{y_max * k / 5:.1f}</text>')
        axes.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>')
    axes.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 8}" font-size="12" text-anchor="middle">seconds since start</text>')
    axes.append(f'<text x="14" y="{(TOP + H - BOTTOM) / 2}" font-size="12" transform="rotate(-90 14,{(TOP + H - BOTTOM) / 2})"'
                f' text-anchor="middle">ms</text>')
    if note:
        axes.append(f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H / 2}" font-size="14" text-anchor="middle">{escape(note)}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif">'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<text x="{LEFT}" y="18" font-size="14">{escape(title)}</text>{"".join(axes)}{body}</svg>\n')
