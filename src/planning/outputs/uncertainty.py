"""How sure are we? The verdicts with their probability, and the intervals as error bars.

Presentation only: the figures come from :mod:`planning.analysis.uncertainty` (through
:func:`planning.runs.sufficiency.run_uncertainty`); the charts are inline SVG rendered by the
Jinja2 template ``uncertainty_chart.html.j2`` (nothing fetched, nothing scripted), so the report
stays one self-contained file.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from planning._format import count, share
from planning._html import Markup, render
from planning.analysis.uncertainty import UncertaintyResult, verdict_text
from planning.analysis.uncertainty_propagation import RULES
from planning.outputs.report_charts import nice_step
from planning.runs.sufficiency import SufficiencyRun
from planning.standards import Standards
from planning.uncertainty_model import UncertaintyModel

#: Dot colours by most likely verdict (the report's RAG palette).
_FILL = {"Green": "#27ae60", "Amber": "#f39c12", "Red": "#c0392b"}
#: Threshold line colours.
_GREEN_LINE, _AMBER_LINE, _RED_LINE = "#1e8449", "#b9770e", "#922b21"


def _groups(table: pd.DataFrame) -> pd.DataFrame:
    """The authority, then its localities (the centre rows are not verdicts)."""
    return table[table["level"] != "centre"]


def error_bar_chart(
    table: pd.DataFrame,
    figure: str,
    *,
    chart_id: str,
    title: str,
    axis_label: str,
    thresholds: list[tuple[float, str, str]],
    as_share: bool,
    interval: tuple[float, float],
) -> Markup:
    """One figure's point estimate and interval for the authority and each locality.

    ``table`` is :attr:`UncertaintyResult.table`; ``figure`` one of
    :data:`planning.analysis.uncertainty.FIGURES`; ``thresholds`` ``(value, label, colour)``
    lines for the standards that the figure is judged against.
    """
    groups = _groups(table).dropna(subset=[figure])
    fmt = (lambda v: share(v, 0)) if as_share else count
    if as_share:
        maximum = 1.0
        step = 0.1
    else:
        top_value = max(
            [float(groups[f"{figure}_high"].max()) if len(groups) else 0.0]
            + [value for value, _, _ in thresholds]
        )
        maximum = top_value * 1.08 if top_value > 0 else 1.0
        step = nice_step(maximum)
    longest = int(groups["name"].astype(str).str.len().max()) if len(groups) else 10
    left, plot_width, row_height = 14.0 + 6.5 * min(max(longest, 9), 50), 360.0, 26.0
    top = 34.0

    def x(value: float) -> float:
        return round(left + plot_width * min(max(value, 0.0), maximum) / maximum, 1)

    rows = []
    for i, (_, row) in enumerate(groups.iterrows()):
        authority = row["level"] == "authority"
        low, high = float(row[f"{figure}_low"]), float(row[f"{figure}_high"])
        point = float(row[figure])
        label = "Authority" if authority else str(row["name"])
        rows.append(
            {
                "y": top + 12 + i * row_height,
                "label": label,
                "bold": authority,
                "low": x(low),
                "high": x(high),
                "point": x(point),
                "fill": _FILL.get(str(row["likely"]), "#7f8c8d"),
                "note": verdict_text(row),
                "text": f"{label}: {fmt(point)} (interval {fmt(low)} to {fmt(high)}); "
                f"{verdict_text(row)}",
            }
        )
    plot_height = len(rows) * row_height + 4
    lines = []
    for k, (value, label, colour) in enumerate(sorted(thresholds)):
        lines.append({"x": x(value), "label": label, "colour": colour, "lift": 12 * (k % 2)})
    ticks = [
        {"x": x(k * step), "label": fmt(k * step)} for k in range(int(maximum / step + 1e-9) + 1)
    ]
    low_pct, high_pct = (round(100 * q) for q in interval)
    return render(
        "uncertainty_chart.html.j2",
        id=chart_id,
        width=left + plot_width + 260,
        height=top + plot_height + 42,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        rows=rows,
        ticks=ticks,
        thresholds=lines,
        axis_label=axis_label,
        title=title,
        description="; ".join(row["text"] for row in rows),
        caption=f"{title}: the dot is the figure reported, the bar runs from the "
        f"{low_pct}th to the {high_pct}th percentile of the plausible values; dashed lines "
        "are the standards it is judged against. The dot's colour is the most likely verdict.",
    )


def uncertainty_charts(sure: UncertaintyResult, standards: Standards) -> list[Markup]:
    """The error-bar charts of the figures the verdict rules judge (a figure that no group has,
    such as the most deprived share where no area is among the most deprived, has none)."""
    s = standards
    interval = sure.model.interval
    reach = s.reach_label()
    present = _groups(sure.table).notna().any()
    charts = [
        error_bar_chart(
            sure.table,
            "share_deprived_within_reach",
            chart_id="chart-uncertainty-deprived",
            title=f"Under-5s in the {s.deprived_label} areas within {reach} of a centre",
            axis_label="Share of under-5s in those areas within reach",
            thresholds=[
                (s.deprived_green, f"green {share(s.deprived_green, 0)}", _GREEN_LINE),
                (s.deprived_amber, f"amber {share(s.deprived_amber, 0)}", _AMBER_LINE),
            ],
            as_share=True,
            interval=interval,
        ),
        error_bar_chart(
            sure.table,
            "share_within_reach",
            chart_id="chart-uncertainty-reach",
            title=f"All under-5s within {reach} of a centre",
            axis_label="Share of under-5s within reach",
            thresholds=[
                (s.all_green, f"green {share(s.all_green, 0)}", _GREEN_LINE),
                (s.all_amber, f"amber {share(s.all_amber, 0)}", _AMBER_LINE),
            ],
            as_share=True,
            interval=interval,
        ),
        error_bar_chart(
            sure.table,
            "under5_per_centre",
            chart_id="chart-uncertainty-load",
            title="Under-5s per centre",
            axis_label="Under-5s per centre (centre equivalents)",
            thresholds=[
                (s.load_max, f"amber above {count(s.load_max)}", _AMBER_LINE),
                (
                    s.red_load_factor * s.load_max,
                    f"red above {count(s.red_load_factor * s.load_max)}",
                    _RED_LINE,
                ),
            ],
            as_share=False,
            interval=interval,
        ),
    ]
    figures = ["share_deprived_within_reach", "share_within_reach", "under5_per_centre"]
    return [chart for chart, figure in zip(charts, figures) if present[figure]]


def sources_text(model: UncertaintyModel) -> str:
    """The uncertain inputs of a model in words, e.g. 'the under-5 estimates, ... circuity'.

    >>> sources_text(UncertaintyModel.none())
    'none: every input taken as exact'
    """
    parts = []
    if any(cv > 0 for cv in model.population_cv.values()) or model.authority_cv > 0:
        parts.append("the ONS under-5 estimates")
    if model.apportionment_concentration is not None:
        parts.append("their split into 2021 areas")
    if model.idaci_rounding_base is not None:
        parts.append("the rounding and suppression of the IDACI counts")
    if model.circuity is not None:
        parts.append("the walking circuity")
    if model.reach_km is not None:
        parts.append("the reach standard")
    if model.max_under5_per_centre is not None:
        parts.append("the largest acceptable load")
    if not parts:
        return "none: every input taken as exact"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


def uncertainty_block(run: SufficiencyRun, sure: UncertaintyResult) -> Markup:
    """The verdicts with their probabilities and the error-bar charts, as one HTML block."""
    table = sure.table
    groups = _groups(table)
    verdicts = []
    for _, row in groups.iterrows():
        driver = str(row["driver"])
        verdicts.append(
            {
                "name": "Authority" if row["level"] == "authority" else str(row["name"]),
                "text": verdict_text(row),
                "robust": "robust" if bool(row["robust"]) else "fragile",
                "driver": f"uncertain through the {RULES[driver]}" if driver in RULES else "",
            }
        )
    fragile = int((~groups["robust"].astype(bool)).sum())
    intro = (
        f"Each figure above is an estimate. {sure.draws:,} plausible sets of inputs were drawn "
        f"from the declared uncertainty model ({sources_text(sure.model)}) and the verdicts "
        "worked out for each. A verdict is robust when it comes out in at least "
        f"{share(sure.model.fragile_below, 0)} of them, fragile otherwise: "
        f"{fragile} of {len(groups)} here are fragile."
    )
    model = sure.model
    method = (
        f"Uncertainty model: {model.source}; {sure.draws:,} draws, seed {sure.seed}. The README "
        "section 'How sure are we?' gives each choice and its evidence."
    )
    return render(
        "uncertainty_section.html.j2",
        intro=intro,
        verdicts=verdicts,
        charts=uncertainty_charts(sure, run.result.standards),
        method=method,
    )


def uncertainty_section(
    run: SufficiencyRun, *, draws: int = 1_000, model: Any = None, seed: int | None = None
) -> Any:
    """The report's "How sure are we?" section for a run (an IPython HTML display object)."""
    from IPython.display import HTML

    from planning.runs.sufficiency import run_uncertainty

    sure = run_uncertainty(run, draws=draws, model=model, seed=seed)
    return HTML(str(uncertainty_block(run, sure)))
