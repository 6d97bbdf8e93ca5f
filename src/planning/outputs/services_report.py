"""The report's service section (family hubs): reach per service as a chart and the services x
localities matrix, offered or missing, coloured. Shown only when the standards assess services
(``services.assess``, e.g. the shipped ``family_hubs.yaml``); kept apart from
:mod:`planning.outputs.report` so the building figures stay as they are.
"""

from __future__ import annotations

from typing import Any

from planning._format import share
from planning._html import Markup, render
from planning.outputs.report_charts import WITHIN_COLOUR as _WITHIN
from planning.outputs.report_charts import bar_chart
from planning.runs.sufficiency import SufficiencyRun


def reach_chart(services: Any, *, reach_label: str) -> Markup:
    """A bar per target (any site, a hub, each service): the share of the age group within
    reach of a site offering it (children within reach / children, residents only)."""
    left, plot_width, bar_height, gap, top = 390.0, 300.0, 14.0, 6.0, 12.0
    rows = []
    for i, (_, row) in enumerate(services.reach.iterrows()):
        value = float(row["share_within_reach"])
        width = round(plot_width * value, 1) if value == value else 0.0
        offer = f" ({row['offer']})" if row["offer"] else ""
        rows.append(
            {
                "y": top + i * (bar_height + gap),
                "label": f"{row['label']}{offer}",
                "segments": [
                    {
                        "x": left,
                        "width": width,
                        "fill": _WITHIN,
                        "text": f"{share(value, 0)} of {services.ages_label} within {reach_label}",
                    }
                ],
                "end": left + width,
                "value": share(value, 0),
            }
        )
    ticks = [{"x": round(left + plot_width * k / 5, 1), "label": f"{20 * k}%"} for k in range(6)]
    group = services.ages_label
    return bar_chart(
        "chart-reach-per-service",
        rows,
        left=left,
        top=top,
        plot_width=plot_width,
        bar_height=bar_height,
        gap=gap,
        ticks=ticks,
        axis_label=f"Share of {group} within {reach_label}",
        key=[{"x": left, "fill": _WITHIN, "label": f"{group} within {reach_label}"}],
        title=f"Share of {group} within {reach_label} of a site offering each service",
        description="; ".join(
            f"{row['label']}: {share(row['share_within_reach'], 0)}"
            for _, row in services.reach.iterrows()
        ),
        caption=f"Share of {group} (residents of the authority) living within {reach_label} of "
        "a site offering each service; 'a hub' is the full offer, 'any site' any centre.",
    )


def matrix_table(services: Any) -> Markup:
    """Services (rows) x localities (columns): 'offered' (green) or 'missing' (amber for a
    universal service, whose absence is a verdict reason; grey for a targeted one)."""
    vocabulary = services.vocabulary
    localities = [str(loc) for loc in services.matrix.index]
    columns = [{"label": "Service", "css": "text"}, {"label": "Offer", "css": "text"}]
    columns += [{"label": loc, "css": "text"} for loc in localities]
    rows = []
    for key in services.matrix.columns:
        entry = vocabulary.services[key]
        row = [
            {"text": entry.label, "css": "text"},
            {"text": entry.offer, "css": "text"},
        ]
        for loc in services.matrix.index:
            offered = services.matrix.loc[loc, key] > 0
            css = (
                "text rag-cell rag-Green"
                if offered
                else "text rag-cell rag-Amber"
                if entry.offer == "universal"
                else "text missing"
            )
            row.append({"text": "offered" if offered else "missing", "css": css})
        rows.append(row)
    return render(
        "report_table.html.j2",
        columns=columns,
        rows=rows,
        row_headers=True,
        css="services-matrix",
    )


def services_section(run: SufficiencyRun) -> Any:
    """The report's "Services" section, or nothing when services were not assessed."""
    from IPython.display import HTML

    services = run.services
    if services is None:
        return HTML("")
    reach_label = run.result.standards.reach_label()
    links = services.hub_links
    far = links[links["too_far"]]
    parts = [
        {
            "kind": "paragraph",
            "text": f"Figures count {services.ages_label} living in the authority; a service is "
            f"within reach when a site offering it is within {reach_label} (the area's reach "
            "standard). Universal services should be offered in every locality.",
        },
        {"kind": "table", "html": reach_chart(services, reach_label=reach_label)},
        {"kind": "heading", "text": "Services x localities"},
        {"kind": "table", "html": matrix_table(services)},
        {
            "kind": "paragraph",
            "text": f"{len(links)} branch(es) linked to a hub; "
            + (
                "; ".join(
                    f"{r['branch_name']} lies {r['distance_km']:.1f} km from {r['hub_name']}"
                    for _, r in far.iterrows()
                )
                if len(far)
                else "none lies farther from its hub than the standard "
                f"({run.result.standards.hub_branch_max_km:g} km)"
            )
            + ".",
        },
    ]
    return HTML(
        render(
            "report_section.html.j2",
            css_class="services",
            title=f"Services: {services.ages_label}",
            notes=services.notes,
            cards=[],
            parts=parts,
        )
    )
