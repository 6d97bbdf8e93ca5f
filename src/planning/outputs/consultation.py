"""The consultation evidence pack: a scenario's effect, as HTML a council can attach to a
consultation paper (Childcare Act 2006 s.5D; DfE 2013 presumption against closure).

Each function returns an ``IPython.display.HTML`` block for the report notebook's scenario mode;
every text from input files is escaped. With no scenario, :func:`scenario_section` returns an
empty block, so the notebook needs no logic of its own.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from planning.analysis.scenarios import Comparison, Scenario, ScenarioEngine, load_scenario
from planning.runs.sufficiency import SufficiencyRun


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


def _pct(value: float) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{100 * value:.1f}%"


def _num(value: float) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:,.0f}"


def _signed(value: float, kind: str) -> str:
    if value is None or pd.isna(value):
        return "n/a"
    if kind == "share":
        return f"{100 * value:+.1f} points"
    return f"{value:+,.0f}" if abs(value) >= 1 or value == 0 else f"{value:+.2f}"


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(classes="planning", border=0, escape=True, na_rep="n/a")


def compare_run(run: SufficiencyRun, scenario: str | Path | Scenario) -> Comparison:
    """Evaluate a scenario (file or object) against a sufficiency run's current network."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    engine = ScenarioEngine(
        run.result.areas, run.result.centres, standards=run.result.standards,
        area_candidates=False,
    )
    return engine.compare(scenario)


def headline_table(comparison: Comparison) -> str:
    """Every headline figure before and after, and the difference, as an HTML table."""
    from planning.analysis.scenarios import HEADLINES

    rows = []
    for key, (label, kind) in HEADLINES.items():
        row = comparison.headline.loc[label]
        fmt = _pct if kind == "share" else (lambda v: f"{v:.2f}") if kind == "ratio" else _num
        rows.append(
            {"Figure": label, "Before": fmt(row["before"]), "After": fmt(row["after"]),
             "Change": _signed(row["change"], kind)}
        )
    rows.append(
        {"Figure": "Verdict", "Before": comparison.before.figures["rag"],
         "After": comparison.after.figures["rag"],
         "Change": "same" if comparison.before.figures["rag"] == comparison.after.figures["rag"]
         else "changed"}
    )
    return _table(pd.DataFrame(rows).set_index("Figure"))


def bands_table(comparison: Comparison) -> str:
    """Under-5s and IDACI children within reach by national deprivation band, before/after."""
    b = comparison.bands
    frame = pd.DataFrame(
        {
            "Under-5s": b["under5"].map(_num),
            "Within reach before": b["within_reach_before"].map(_num),
            "Within reach after": b["within_reach_after"].map(_num),
            "Change": b["change"].map(lambda v: _signed(v, "count")),
            "IDACI children within reach before": b["idaci_within_reach_before"].map(_num),
            "IDACI children within reach after": b["idaci_within_reach_after"].map(_num),
        }
    )
    frame.index.name = "Deprivation band (national)"
    return _table(frame)


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
            "Under-5s": c["under5"].map(_num),
            "IDACI children": c["idaci_children"].map(_num),
            "Distance before (km)": (c["distance_before_m"] / 1000).map(lambda v: f"{v:.1f}"),
            "Distance after (km)": (c["distance_after_m"] / 1000).map(lambda v: f"{v:.1f}"),
            "Change": c["change"],
        }
    )
    frame.index.name = "LSOA"
    return _table(frame)


def loads_table(comparison: Comparison) -> str:
    """Under-5s per centre before and after, against the 600-1,200 band."""
    loads = comparison.loads
    frame = pd.DataFrame(
        {
            "Centre": loads["name"],
            "Under-5s before": loads["under5_before"].map(_num),
            "Status before": loads["status_before"],
            "Under-5s after": loads["under5_after"].map(_num),
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
            "Within reach before": loc["share_within_reach_before"].map(_pct),
            "Within reach after": loc["share_within_reach_after"].map(_pct),
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
        sufficiency_map(before.areas, before.centres, tiles=tiles, title="Before",
                        reach_metres=(s_before.reach_m, s_before.short_reach_m)),
        sufficiency_map(after.areas, after.centres, tiles=tiles, title="After",
                        reach_metres=(s_after.reach_m, s_after.short_reach_m)),
        difference_map(before.areas, after.areas, before.centres, after.centres, tiles=tiles,
                       title="Difference: areas that gain or lose reasonable reach"),
    ]


def scenario_section(
    run: SufficiencyRun, scenario: str | Path | Scenario | None, *, tiles: str | None = "OpenStreetMap"
) -> Any:
    """The whole consultation evidence section for the report (empty without a scenario):
    what changes, the plain-English effect, headline figures, deprivation bands, the areas that
    gain or lose reach, centre loads, locality verdicts and the three maps."""
    if scenario is None or scenario == "":
        return _html("")
    comparison = compare_run(run, scenario)
    actions = "".join(f"<li>{html.escape(a)}</li>" for a in comparison.after.scenario.describe())
    effect = "".join(f"<li>{html.escape(line)}</li>" for line in comparison.summary_lines())
    maps = "".join(
        f"<div style='margin:8px 0'>{m._repr_html_()}</div>"
        for m in scenario_maps(comparison, tiles=tiles)
    )
    name = html.escape(comparison.after.scenario.name)
    return _html(
        f"<h2>Consultation evidence: {name}</h2>"
        "<p>Effect of the proposed change on sufficiency and on the families in greatest need "
        "(Childcare Act 2006 s.5D; DfE 2013 guidance: closures should show that outcomes for the "
        "most disadvantaged would not be harmed).</p>"
        f"<h3>Proposed change</h3><ul>{actions}</ul>"
        f"<h3>Effect</h3><ul>{effect}</ul>"
        f"<h3>Headline figures</h3>{headline_table(comparison)}"
        f"<h3>By deprivation band</h3>{bands_table(comparison)}"
        f"<h3>Small areas that gain or lose reasonable reach</h3>{areas_changed_table(comparison)}"
        f"<h3>Centre loads</h3>{loads_table(comparison)}"
        f"<h3>Locality verdicts</h3>{localities_table(comparison)}"
        f"<h3>Maps: before, after and the difference</h3>{maps}"
    )
