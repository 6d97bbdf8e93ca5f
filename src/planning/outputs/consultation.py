"""The consultation evidence pack: a scenario's effect, as HTML a council can attach to a
consultation paper (Childcare Act 2006 s.5D; DfE 2013 presumption against closure).

Each function returns an ``IPython.display.HTML`` block for the report notebook's scenario mode;
every text from input files is escaped. With no scenario, :func:`scenario_section` returns an
empty block, so the notebook needs no logic of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from planning._format import count, km, ratio, share, signed
from planning._html import Markup, render
from planning.analysis.need import IDACI_CHILDREN_HEADING
from planning.analysis.scenarios import Comparison, Scenario, ScenarioEngine, load_scenario
from planning.runs.sufficiency import SufficiencyRun


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


def _table(frame: pd.DataFrame) -> str:
    """The report's table: one header row, names left, figures right, verdicts coloured."""
    from planning.outputs.report import table_html

    if isinstance(frame.index, pd.RangeIndex):
        return str(table_html(frame))
    label = str(frame.index.name or "").replace("_", " ")
    return str(table_html(frame, index=label[:1].upper() + label[1:]))


def compare_run(run: SufficiencyRun, scenario: str | Path | Scenario) -> Comparison:
    """Evaluate a scenario (file or object) against a sufficiency run's current network."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    # The run's neighbouring demand and supply too, so before and after match the run.
    engine = ScenarioEngine.from_result(run.result, area_candidates=False)
    return engine.compare(scenario)


def headline_table(comparison: Comparison) -> str:
    """Every headline figure before and after, and the difference, as an HTML table."""
    from planning.analysis.scenarios import headlines

    rows = []
    for label, kind in headlines(comparison.before.standards).values():
        row = comparison.headline.loc[label]
        fmt = share if kind == "share" else ratio if kind == "ratio" else count
        rows.append(
            {
                "Figure": label,
                "Before": fmt(row["before"]),
                "After": fmt(row["after"]),
                "Change": signed(row["change"], kind),
            }
        )
    rows.append(
        {
            "Figure": "Verdict",
            "Before": comparison.before.figures["rag"],
            "After": comparison.after.figures["rag"],
            "Change": "same"
            if comparison.before.figures["rag"] == comparison.after.figures["rag"]
            else "changed",
        }
    )
    return _table(pd.DataFrame(rows).set_index("Figure"))


def bands_table(comparison: Comparison) -> str:
    """Under-5s and IDACI children within reach by national deprivation band, before/after."""
    b = comparison.bands
    frame = pd.DataFrame(
        {
            "Under-5s": b["under5"].map(count),
            "Within reach before": b["within_reach_before"].map(count),
            "Within reach after": b["within_reach_after"].map(count),
            "Change": b["change"].map(lambda v: signed(v, "count")),
            "IDACI children within reach before": b["idaci_within_reach_before"].map(count),
            "IDACI children within reach after": b["idaci_within_reach_after"].map(count),
        }
    )
    frame.index.name = "Deprivation band (national)"
    return _table(frame)


#: The engine's reasons an area crossed the reach standard, as the pack words them.
_CHANGE_WORDS = {
    "loses reach": "loses reach (further from a centre)",
    "gains reach": "gains reach (nearer a centre)",
    "outside new standard": "outside the changed standard (no further from a centre)",
    "inside new standard": "within the changed standard (no nearer a centre)",
}


def areas_changed_table(comparison: Comparison) -> str:
    """Small areas that gain or lose reasonable reach, with the children living there."""
    c = comparison.areas_changed
    if c.empty:
        return "<p>No small area gains or loses reasonable reach.</p>"
    frame = pd.DataFrame(
        {
            "Area": c["area_name"],
            "Ward": c["ward_name"],
            "Band": c["deprivation_band"],
            "Under-5s": c["under5"].map(count),
            IDACI_CHILDREN_HEADING: c["idaci_children"].map(count),
            "Distance before (km)": c["distance_before_m"].map(lambda v: km(v, 1, unit=False)),
            "Distance after (km)": c["distance_after_m"].map(lambda v: km(v, 1, unit=False)),
            "Change": c["change"].map(lambda v: _CHANGE_WORDS.get(v, v)),
        }
    )
    frame.index.name = "LSOA"
    return _table(frame)


def loads_table(comparison: Comparison) -> str:
    """Under-5s per centre before and after, against the standards' load range (e.g. 600-1,200)."""
    loads = comparison.loads
    frame = pd.DataFrame(
        {
            "Centre": loads["name"],
            "Under-5s before": loads["under5_before"].map(count),
            "Status before": loads["status_before"],
            "Under-5s after": loads["under5_after"].map(count),
            "Status after": loads["status_after"],
        }
    )
    frame.index.name = "Id"
    return _table(frame)


def localities_table(comparison: Comparison) -> str:
    """Each locality's verdict before and after, with the reasons."""
    loc = comparison.localities

    def reasons(value: Any) -> str:
        return "; ".join(value) if isinstance(value, list) else ""

    frame = pd.DataFrame(
        {
            "Before": loc["rag_before"],
            "After": loc["rag_after"],
            "Within reach before": loc["share_within_reach_before"].map(share),
            "Within reach after": loc["share_within_reach_after"].map(share),
            "Reasons after": loc["reasons_after"].map(reasons),
        }
    )
    frame.index.name = "Locality"
    return _table(frame)


def scenario_maps(comparison: Comparison, *, tiles: str | None = "OpenStreetMap") -> list[Any]:
    """Before, after and difference maps (offline folium maps)."""
    from planning.outputs.maps import difference_map, sufficiency_map

    before = comparison.before.to_result()
    after = comparison.after.to_result()
    s_before, s_after = before.standards, after.standards
    return [
        sufficiency_map(
            before.areas,
            before.centres,
            tiles=tiles,
            title="Before",
            reach_metres=s_before.ring_metres,
            deprived_label=s_before.deprived_label,
        ),
        sufficiency_map(
            after.areas,
            after.centres,
            tiles=tiles,
            title="After",
            reach_metres=s_after.ring_metres,
            deprived_label=s_after.deprived_label,
        ),
        difference_map(
            before.areas,
            after.areas,
            before.centres,
            after.centres,
            tiles=tiles,
            title="Difference: areas that gain or lose reasonable reach",
        ),
    ]


def scenario_section(
    run: SufficiencyRun,
    scenario: str | Path | Scenario | None,
    *,
    tiles: str | None = "OpenStreetMap",
) -> Any:
    """The whole consultation evidence section for the report (empty without a scenario):
    what changes, the plain-English effect, headline figures, deprivation bands, the areas that
    gain or lose reach, centre loads, locality verdicts and the three maps."""
    if scenario is None or scenario == "":
        return _html("")
    comparison = compare_run(run, scenario)
    tables = [
        ("Headline figures", headline_table(comparison)),
        ("By deprivation band", bands_table(comparison)),
        ("Small areas that gain or lose reasonable reach", areas_changed_table(comparison)),
        ("Centre loads", loads_table(comparison)),
        ("Locality verdicts", localities_table(comparison)),
    ]
    return _html(
        render(
            "consultation.html.j2",
            name=comparison.after.scenario.name,
            actions=comparison.after.scenario.describe(),
            effect=comparison.summary_lines(),
            # pandas escapes every cell of these tables (``to_html(escape=True)``)
            tables=[(heading, Markup(table)) for heading, table in tables],
            # folium's own page, inside an escaped <iframe srcdoc>
            maps=[Markup(m._repr_html_()) for m in scenario_maps(comparison, tiles=tiles)],
        )
    )
