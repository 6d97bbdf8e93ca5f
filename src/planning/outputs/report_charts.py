"""The report's charts: horizontal bar charts drawn as inline SVG from a Jinja2 template.

:func:`bar_chart` lays out any horizontal bar chart (``report_chart.html.j2``, autoescaped), with
axis ticks at a round step (:func:`nice_step`); the report's colours for "within reach" and
"beyond it" are :data:`WITHIN_COLOUR` and :data:`BEYOND_COLOUR`. The report notebook shows two:
under-5s within reach by deprivation decile (:func:`reach_by_deprivation_chart`) and each
centre's load against the standard (:func:`centre_load_chart`).

Examples
--------
>>> nice_step(15795.0)
5000
"""

from __future__ import annotations

import math
from typing import Any

from planning._format import count, share
from planning._html import Markup, render
from planning.runs.sufficiency import SufficiencyRun

__all__ = [
    "BEYOND_COLOUR",
    "WITHIN_COLOUR",
    "bar_chart",
    "centre_load_chart",
    "nice_step",
    "reach_by_deprivation_chart",
]


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


#: Colours of "within reach" and "beyond it" in every bar chart of the report.
WITHIN_COLOUR, BEYOND_COLOUR = "#1f6fb2", "#c6dbef"
_WITHIN, _BEYOND = WITHIN_COLOUR, BEYOND_COLOUR
_LOAD_COLOURS = {"within range": "#1e8449", "above range": "#c0392b", "below range": "#d68910"}


def bar_chart(
    chart_id: str,
    rows: list[dict[str, Any]],
    *,
    left: float,
    top: float,
    plot_width: float,
    bar_height: float,
    gap: float,
    right: float = 60.0,
    band: dict[str, Any] | None = None,
    **text: Any,
) -> Markup:
    """A horizontal bar chart (``report_chart.html.j2``): one row per bar, laid out from the
    top with ``gap`` between bars, and room below the plot for the axis and the key.

    ``rows`` give each bar's ``y``, ``label``, ``segments``, ``end`` and ``value``; ``text``
    the ``ticks``, ``axis_label``, ``key``, ``title``, ``description`` and ``caption``.
    """
    plot_height = len(rows) * (bar_height + gap)
    return render(
        "report_chart.html.j2",
        id=chart_id,
        width=left + plot_width + right,
        height=top + plot_height + 62,
        left=left,
        top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        bar_height=bar_height,
        rows=rows,
        band=band,
        **text,
    )


def _ticks(maximum: float, left: float, plot_width: float, step: float, fmt: Any) -> list:
    n = int(maximum // step)
    return [
        {"x": round(left + plot_width * k * step / maximum, 1), "label": fmt(k * step)}
        for k in range(n + 1)
    ]


def nice_step(maximum: float, target: int = 6) -> float:
    """A round axis step (1, 2 or 5 x a power of ten) giving about ``target`` ticks."""
    raw = maximum / target
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def reach_by_deprivation_chart(run: SufficiencyRun) -> Any:
    """Under-5s within reach and beyond it, by national IMD decile (1 is most deprived).

    A stacked bar per decile present in the authority: under-5s within the reach standard, then
    those beyond it, labelled with the share within reach (sum of under-5s in areas within reach
    / sum of under-5s, by decile). The deciles the standards call most deprived are marked.
    """
    r = run.result
    s = r.standards
    a = r.areas
    u5 = a["under5"].astype(float)
    within = (u5 * a["within_reach"].astype(bool)).groupby(a["imd_decile"]).sum()
    total = u5.groupby(a["imd_decile"]).sum()
    total = total[total > 0].sort_index()
    left, plot_width, bar_height, gap, top = 190.0, 420.0, 18.0, 8.0, 12.0
    maximum = float(total.max()) * 1.05 if len(total) else 1.0
    rows = []
    for i, (decile, n) in enumerate(total.items()):
        inside = float(within.get(decile, 0.0))
        w_in = plot_width * inside / maximum
        w_out = plot_width * (n - inside) / maximum
        rows.append(
            {
                "y": top + i * (bar_height + gap),
                "label": f"Decile {int(decile)}" + (" (most deprived)" if decile == 1 else ""),
                "segments": [
                    {
                        "x": left,
                        "width": round(w_in, 1),
                        "fill": _WITHIN,
                        "text": f"{count(inside)} within {s.reach_label()}",
                    },
                    {
                        "x": round(left + w_in, 1),
                        "width": round(w_out, 1),
                        "fill": _BEYOND,
                        "text": f"{count(n - inside)} beyond {s.reach_label()}",
                    },
                ],
                "end": round(left + w_in + w_out, 1),
                "value": share(inside / n, 0) if n else "n/a",
            }
        )
    step = nice_step(maximum)
    deciles = ", ".join(map(str, s.most_deprived_deciles))
    return _html(
        bar_chart(
            "chart-reach-by-deprivation",
            rows,
            left=left,
            top=top,
            plot_width=plot_width,
            bar_height=bar_height,
            gap=gap,
            ticks=_ticks(maximum, left, plot_width, step, count),
            axis_label="Children under 5",
            key=[
                {"x": left, "fill": _WITHIN, "label": f"within {s.reach_label()} of a centre"},
                {"x": left + 200, "fill": _BEYOND, "label": f"beyond {s.reach_label()}"},
            ],
            title=f"Under-5s within {s.reach_label()} of a centre, by deprivation decile",
            description="; ".join(
                f"decile {int(d)}: {count(within.get(d, 0.0))} of {count(n)} under-5s within "
                f"reach ({share(within.get(d, 0.0) / n, 0)})"
                for d, n in total.items()
            ),
            caption=f"Under-5s within {s.reach_label()} of a centre (dark) and beyond it (light),"
            f" by national IMD decile of their small area; the figure is the share within reach."
            f" The {s.deprived_label} areas are those in deciles {deciles}.",
        )
    )


def centre_load_chart(run: SufficiencyRun) -> Any:
    """Each centre's catchment under-5s against the load range of the standards in force.

    The shaded band runs from the standards' minimum to their maximum under-5s per centre
    (600-1,200 by default); bars are coloured by load status, and say it in their tooltip.
    """
    r = run.result
    s = r.standards
    c = r.centres.sort_values("under5", ascending=False)
    # room for the longest name at about 6.5 px a character (12 px Arial)
    longest = int(c["name"].astype(str).str.len().max()) if len(c) else 10
    left, plot_width, bar_height, gap, top = 12.0 + 6.5 * min(longest, 60), 380.0, 14.0, 6.0, 22.0
    maximum = max(float(c["under5"].max()) if len(c) else 0.0, s.load_max * 1.15)
    rows = []
    for i, (_, centre) in enumerate(c.iterrows()):
        n = float(centre["under5"])
        status = str(centre["load_status"])
        width = plot_width * n / maximum
        rows.append(
            {
                "y": top + i * (bar_height + gap),
                "label": str(centre["name"]),
                "segments": [
                    {
                        "x": left,
                        "width": round(width, 1),
                        "fill": _LOAD_COLOURS.get(status, "#7f8c8d"),
                        "text": f"{centre['name']}: {count(n)} under-5s, {status}",
                    },
                ],
                "end": round(left + width, 1),
                "value": f"{count(n)} ({status})",
            }
        )
    band_x = left + plot_width * s.load_min / maximum
    band = {
        "x": round(band_x, 1),
        "width": round(plot_width * (s.load_max - s.load_min) / maximum, 1),
        "label": f"standard {s.load_range_label} under-5s per centre",
    }
    key = []
    x = left
    for status, colour in _LOAD_COLOURS.items():
        key.append({"x": x, "fill": colour, "label": status})
        x += 120
    return _html(
        bar_chart(
            "chart-centre-loads",
            rows,
            left=left,
            top=top,
            plot_width=plot_width,
            bar_height=bar_height,
            gap=gap,
            right=150.0,
            band=band,
            ticks=_ticks(maximum, left, plot_width, nice_step(maximum), count),
            axis_label="Under-5s in the centre's catchment",
            key=key,
            title=f"Under-5s per centre against the standard of {s.load_range_label}",
            description="; ".join(f"{row['label']}: {row['value']}" for row in rows),
            caption=f"Under-5s in each centre's catchment (the small areas nearest to it); the "
            f"shaded band is the standard of {s.load_range_label} under-5s per centre "
            f"(target {count(s.load_target)}).",
        )
    )
