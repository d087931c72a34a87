"""The training-flow charts, drawn on the server as SVG; each page puts its table of numbers beside.

Plain strings built from numbers the figures hold; every piece of text is escaped. The colours are
SVG attributes (not styles), so the content security policy has nothing to allow.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from vigtrain.flow.history import Step

DAYS_PER_MONTH = 30.4375
STEP_COLOURS = {
    Step.WORK: "#1d70b8",
    Step.SIGN_OFF: "#f47738",
    Step.ACCREDITOR: "#912b88",
    Step.MEETING: "#0f7a52",
    Step.RATIFICATION: "#484949",
}
TEXT = 'class="app-chart__label"'
# Short enough to fit beside a key at 320 px; the table beside the chart uses the full labels.
LEGEND = {
    Step.WORK: "Doing the work",
    Step.SIGN_OFF: "Waiting for sign-off",
    Step.ACCREDITOR: "Waiting for an accreditor",
    Step.MEETING: "Waiting for the meeting",
    Step.RATIFICATION: "Waiting for ratification",
}


def _svg(chart_id: str, width: int, height: int, title: str, description: str, body: list[str]) -> Markup:
    head = (
        f'<svg class="app-chart" viewBox="0 0 {width} {height}" role="img" focusable="false" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    # Safe: numbers, fixed words and colours, and every other piece of text passed through `escape`.
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def survival_chart(chart_id: str, points: Sequence[Sequence[float]], median: int | None, label: str) -> Markup:
    """The share still in training, month by month since enrolment, with its 95% band and the median."""
    left, right, top, bottom = 54, 388, 12, 190
    last_day = max((point[0] for point in points), default=0)
    months = max(24, 6 * -(-int(last_day / DAYS_PER_MONTH + 1) // 6))

    def x(day: float) -> float:
        return round(left + (day / DAYS_PER_MONTH) / months * (right - left), 1)

    def y(share: float) -> float:
        return round(bottom - share * (bottom - top), 1)

    def steps(index: int) -> list[tuple[float, float]]:
        path, value = [(x(0), y(1.0))], 1.0
        for point in points:
            if point[2]:  # events at this time: the curve steps down
                path += [(x(point[0]), y(value)), (x(point[0]), y(point[index]))]
                value = point[index]
        path.append((x(last_day), y(value)))
        return path

    body = [
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" class="app-chart__axis"/>',
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="app-chart__axis"/>',
    ]
    for share in (0, 0.25, 0.5, 0.75, 1):
        body.append(
            f'<line x1="{left}" y1="{y(share)}" x2="{right}" y2="{y(share)}" stroke="#cecece" stroke-width="1"/>'
            f'<text x="{left - 8}" y="{y(share) + 5}" text-anchor="end" {TEXT}>{int(share * 100)}%</text>'
        )
    for month in range(0, months + 1, 6):
        at = x(month * DAYS_PER_MONTH)
        body.append(f'<text x="{at}" y="{bottom + 20}" text-anchor="middle" {TEXT}>{month}</text>')
    middle = (left + right) / 2
    body.append(f'<text x="{middle}" y="{bottom + 42}" text-anchor="middle" {TEXT}>Months since enrolment</text>')
    if points:
        upper, lower = steps(6), steps(5)
        band = " ".join(f"{px},{py}" for px, py in upper + list(reversed(lower)))
        body.append(f'<polygon points="{band}" fill="#1d70b8" fill-opacity="0.18" stroke="none"/>')
        line = " ".join(f"{px},{py}" for px, py in steps(4))
        body.append(f'<polyline points="{line}" fill="none" stroke="#1d70b8" stroke-width="3"/>')
    if median is not None:
        body.append(
            f'<line x1="{left}" y1="{y(0.5)}" x2="{x(median)}" y2="{y(0.5)}" stroke="#ca3535" stroke-width="2" '
            f'stroke-dasharray="6 4"/><line x1="{x(median)}" y1="{y(0.5)}" x2="{x(median)}" y2="{bottom}" '
            f'stroke="#ca3535" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{x(median) + (6 if x(median) < middle else -6)}" y="{y(0.5) - 8}" '
            f'text-anchor="{"start" if x(median) < middle else "end"}" {TEXT}>'
            f"median {median / DAYS_PER_MONTH:.1f} months</text>"
        )
    description = (
        f"Step curve of the share of {label} trainees still in training against months since enrolment, "
        "with its 95% confidence band. "
        + (
            f"Half were accredited by {median / DAYS_PER_MONTH:.1f} months."
            if median is not None
            else "Fewer than half have been accredited so far, so the median is not reached."
        )
        + " The table below gives the figures."
    )
    return _svg(chart_id, 400, 240, f"Still in training: {label}", description, body)


def steps_chart(chart_id: str, stages: Sequence[dict], label: str) -> Markup:
    """One bar per stage, split by step: the median days each step took (the table gives the quartiles)."""
    left, right, row, top = 2, 398, 52, 4
    longest = max(
        (sum((step["done"] or {}).get("median", 0) for step in stage["steps"]) for stage in stages), default=0
    )
    scale = (right - left) / longest if longest else 0
    body: list[str] = []
    described = []
    for index, stage in enumerate(stages):
        base = top + index * row
        body.append(f'<text x="{left}" y="{base + 16}" {TEXT}>{escape(stage["name"])}</text>')
        at, parts = float(left), []
        for step in stage["steps"]:
            days = (step["done"] or {}).get("median")
            if not days:
                continue
            width = round(days * scale, 1)
            colour = STEP_COLOURS[Step(step["step"])]
            body.append(
                f'<rect x="{round(at, 1)}" y="{base + 22}" width="{width}" height="22" fill="{colour}">'
                f"<title>{escape(Step(step['step']).label)}: median {days:g} days</title></rect>"
            )
            at += width
            parts.append(f"{Step(step['step']).label.lower()} {days:g} days")
        described.append(f"{stage['name']}: " + (", ".join(parts) if parts else "no finished steps yet"))
    legend_top = top + len(stages) * row + 8
    for index, step in enumerate(Step):
        y = legend_top + index * 24
        body.append(
            f'<rect x="{left}" y="{y}" width="16" height="16" fill="{STEP_COLOURS[step]}"/>'
            f'<text x="{left + 22}" y="{y + 13}" {TEXT}>{escape(LEGEND[step])}</text>'
        )
    height = legend_top + len(Step) * 24
    return _svg(
        chart_id,
        400,
        height,
        f"Median days in each step: {label}",
        "Bars per stage split into steps, by median days. " + "; ".join(described) + ". The table gives the figures.",
        body,
    )
