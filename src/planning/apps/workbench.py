"""The planner's workbench: the views the numbered notebooks in ``notebooks/`` show.

Each function is one step a planner takes, from where need is to a scenario comparison, so the
notebooks stay thin (parameters, calls, narrative) and every view is tested here. Any authority
works: ``centres=None`` means the illustrative sites for it
(:func:`planning.inputs.illustrative.resolve_centres`).

Examples
--------
>>> from planning.apps import workbench
>>> need = workbench.load_need("Derby")                           # doctest: +SKIP
>>> workbench.need_summary(need)                                  # doctest: +SKIP
>>> engine = workbench.scenario_engine("Derby")                   # doctest: +SKIP
>>> comparison = engine.compare(workbench.example_scenario(engine))  # doctest: +SKIP
>>> workbench.comparison_map(comparison)                          # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._format import count, ratio, share, signed, whole_share
from planning._html import render
from planning._validate import Problems, require_columns
from planning.analysis.need import (
    BAND_LABELS,
    IDACI_CHILDREN_HEADING,
    IDACI_CHILDREN_LABEL,
    UNDER5_INCOME_DEPRIVED_LABEL,
    income_deprived_note,
)
from planning.analysis.scenarios import (
    Comparison,
    Scenario,
    ScenarioEngine,
    headlines,
    load_scenario,
    single_closures,
)
from planning.analysis.sufficiency import SufficiencyResult, need_measures
from planning.inputs.areas import load_areas
from planning.inputs.illustrative import resolve_centres
from planning.outputs.maps import difference_map
from planning.outputs.notebook import table, view
from planning.outputs.offline_map import OfflineMap
from planning.runs.sufficiency import SufficiencyRun, run_sufficiency
from planning.standards import Standards, load_standards

__all__ = [
    "assess",
    "change_list",
    "closure_table",
    "comparison_areas",
    "comparison_bands",
    "comparison_headline",
    "comparison_loads",
    "comparison_localities",
    "comparison_map",
    "comparison_notes",
    "comparison_summary",
    "example_scenario",
    "gap_areas",
    "gaps_table",
    "highest_need",
    "load_need",
    "need_headline",
    "need_summary",
    "need_table",
    "need_weights_table",
    "scenario_engine",
    "table",
    "view",
]

PathLike = str | Path


def _standards(standards: PathLike | Standards | None) -> Standards:
    return standards if isinstance(standards, Standards) else load_standards(standards)


def _markdown(text: str) -> Any:
    from IPython.display import Markdown

    return Markdown(text)


# ------------------------------------------------------------------------------ need


def load_need(authority: str, *, standards: PathLike | Standards | None = None) -> gpd.GeoDataFrame:
    """An authority's small areas with their need measures.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`planning.load_areas` joined with :func:`planning.analysis.need.assess_need` under the
        standards' weights: ``need_index`` (0-100), ``deprivation_band``, ``most_deprived_30``,
        ``under5_income_deprived`` and ``high_need``.
    """
    areas = load_areas(authority)
    applied = _standards(standards)
    need = areas.join(need_measures(areas, applied))
    # need_headline words "most deprived" from the standards these measures were made with.
    need.attrs["standards"] = applied
    return need


_NEED_COUNTS = ("under5", "idaci_children", "under5_income_deprived")


def _check_need(areas: object, extra: tuple[str, ...] = ()) -> None:
    if not isinstance(areas, pd.DataFrame):
        raise ValidationError(f"areas: expected a DataFrame, found {type(areas).__name__}")
    problems = Problems("areas")
    require_columns(areas, [*_NEED_COUNTS, "deprivation_band", "high_need", *extra], problems)
    problems.raise_if_any()


def need_summary(areas: pd.DataFrame, by: str = "deprivation_band") -> pd.DataFrame:
    """Counts of children by group of areas, with a total row.

    Counts are summed, never averaged; the share is the group's under-5s over all under-5s.

    Parameters
    ----------
    areas : DataFrame
        As :func:`load_need` returns.
    by : str
        Column to group on: ``deprivation_band`` (national bands 0-30% ... 70-100%, all shown
        even when empty), ``ward_name`` or any other.

    Returns
    -------
    DataFrame
        Indexed by group plus ``All areas``: ``areas``, ``under5``, ``idaci_children`` and
        ``under5_income_deprived`` (whole numbers), ``high_need_areas`` and
        ``share_of_under5_pct`` (one decimal).

    Examples
    --------
    >>> from planning import toy_town
    >>> from planning.analysis.need import assess_need
    >>> town = toy_town(rows=1, columns=3, under5=[100, 200, 700], imd_decile=[1, 5, 9])
    >>> need_summary(town.join(assess_need(town)))["under5"].tolist()
    [100, 200, 0, 700, 1000]
    """
    _check_need(areas, (by,))
    counts = (
        areas[list(_NEED_COUNTS)]
        .astype(float)
        .assign(areas=1, high_need_areas=areas["high_need"].astype(bool).astype(int))
    )
    groups = areas[by].astype(str) if by != "deprivation_band" else areas[by]
    table = counts.groupby(groups, observed=False, sort=True).sum()
    if by == "deprivation_band":
        table = table.reindex(list(BAND_LABELS), fill_value=0)
    table.loc["All areas"] = counts.sum()
    total = table.loc["All areas", "under5"]
    table["share_of_under5_pct"] = (100 * table["under5"] / total).round(1) if total else np.nan
    columns = ["areas", *_NEED_COUNTS, "high_need_areas"]
    table[columns] = table[columns].round().astype("int64")
    table.index.name = by
    return table[[*columns[:4], "high_need_areas", "share_of_under5_pct"]]


def need_headline(areas: pd.DataFrame, *, standards: Standards | None = None) -> Any:
    """A few sentences on where need is, as Markdown for a notebook.

    The figures: under-5s and small areas, the under-5s (and the share of them) in the most
    deprived areas nationally (worded from ``standards``: those :func:`load_need` used, else the
    packaged ones), the estimated under-5s in income-deprived families with the note on the
    rate behind them, the children aged 0-15 in income-deprived families (IDACI; not a subset of
    the under-5s, so stated apart), and the wards holding the most high-need areas.
    """
    _check_need(areas, ("most_deprived_30",))
    applied = standards or areas.attrs.get("standards") or Standards()
    deciles = ", ".join(map(str, sorted(applied.most_deprived_deciles)))
    under5 = float(areas["under5"].sum())
    deprived = float(areas.loc[areas["most_deprived_30"].astype(bool), "under5"].sum())
    share = deprived / under5 if under5 else float("nan")
    lines = [
        f"- **{count(under5)}** children under 5 live in **{len(areas)}** small areas (LSOAs).",
        f"- **{count(deprived)}** of them ({whole_share(share)}) live in the "
        f"{applied.deprived_label} areas of England (IMD deciles {deciles}).",
        f"- An estimated **{count(areas['under5_income_deprived'].sum())}** under-5s live in "
        "income-deprived families (the area's IDACI rate applied to its under-5s).",
        f"- Separately, not a subset of the under-5s: "
        f"**{count(areas['idaci_children'].sum())}** {IDACI_CHILDREN_LABEL}.",
    ]
    if "ward_name" in areas:
        high = areas.loc[areas["high_need"].astype(bool), "ward_name"].value_counts().head(3)
        if len(high):
            wards = ", ".join(f"{ward} ({n})" for ward, n in high.items())
            lines.append(f"- Wards with the most high-need areas: {wards}.")
    if {"children_0_15", "idaci_children"} <= set(areas.columns):
        lines.append(f"\nNote: {income_deprived_note(areas)}")
    return _markdown("\n".join(lines))


#: Headings of the columns the notebook views show.
LABELS = {
    "area_name": "Small area",
    "ward_name": "Ward",
    "areas": "Small areas",
    "under5": "Under-5s",
    "idaci_children": IDACI_CHILDREN_HEADING,
    "under5_income_deprived": UNDER5_INCOME_DEPRIVED_LABEL[:1].upper()
    + UNDER5_INCOME_DEPRIVED_LABEL[1:],
    "high_need_areas": "High-need areas",
    "share_of_under5_pct": "Share of the under-5s",
    "need_index": "Need index (0-100)",
    "imd_decile": "IMD decile (1 = most deprived)",
    "imd_score": "IMD score",
    "centre_name": "Nearest centre",
    "distance_km": "Distance (km)",
    "walk_minutes": "Walk (minutes)",
    "deprivation_band": "National deprivation band",
}
_GROUPS = {"deprivation_band": "National deprivation band (IMD)", "ward_name": "Ward"}


def need_table(areas: pd.DataFrame, by: str = "deprivation_band") -> Any:
    """:func:`need_summary` as a table for people: counts with thousands separators, the share
    of the under-5s in per cent; groups other than the deprivation bands (wards) ordered by
    the estimated under-5s in income-deprived families, most first, the total last."""
    summary = need_summary(areas, by)
    if by != "deprivation_band":
        groups = summary.drop(index="All areas")
        groups = groups.sort_values("under5_income_deprived", ascending=False, kind="stable")
        summary = pd.concat([groups, summary.loc[["All areas"]]])
    return view(
        table(
            summary,
            {"share_of_under5_pct": "percent"},
            labels=LABELS,
            index=_GROUPS.get(by, by.replace("_", " ").capitalize()),
        )
    )


def need_weights_table(standards: PathLike | Standards | None = None) -> Any:
    """The need index's indicators and their weights (as shares of all the weights), with the
    way each indicator is normalised, under ``standards`` (default the packaged ones)."""
    applied = _standards(standards)
    weights = pd.Series(applied.need_weights, dtype=float)
    frame = pd.DataFrame({"weight": weights / weights.sum()}, index=weights.index)
    frame.index = [LABELS.get(name, name.replace("_", " ").capitalize()) for name in frame.index]
    normaliser = {
        "rank": "ranked within the authority (0 least need, 1 most)",
        "minmax": "rescaled to 0-1 within the authority (min-max)",
        "zscore": "standardised within the authority (z-scores)",
    }.get(applied.need_normaliser, applied.need_normaliser)
    return view(
        table(
            frame,
            {"weight": "share"},
            labels={"weight": "Weight"},
            index="Indicator",
            caption=f"Each indicator is {normaliser}, then weighted:",
        )
    )


def highest_need(areas: pd.DataFrame, n: int = 10) -> Any:
    """The ``n`` small areas with the highest need index, as a table for people."""
    _check_need(areas, ("need_index", "area_name", "ward_name", "imd_decile"))
    columns = ["area_name", "ward_name", "need_index", "under5", "under5_income_deprived"]
    top = areas.nlargest(n, "need_index")[[*columns, "imd_decile"]]
    return view(
        table(
            top,
            {"need_index": "number", "under5": "count", "under5_income_deprived": "count"},
            labels=LABELS,
            index="Code",
        )
    )


# ------------------------------------------------------------------------------ sufficiency


def assess(
    authority: str,
    *,
    centres: PathLike | None = None,
    standards: PathLike | Standards | None = None,
) -> SufficiencyRun:
    """:func:`planning.runs.sufficiency.run_sufficiency` for any authority.

    ``centres=None`` means the authority's illustrative sites
    (:func:`planning.inputs.illustrative.resolve_centres`), not Derby's.
    """
    return run_sufficiency(
        authority, centres=resolve_centres(authority, centres), standards=standards
    )


def gap_areas(result: SufficiencyResult) -> pd.DataFrame:
    """The gaps: areas in the most deprived deciles of the standards (e.g. the 30% most deprived)
    and beyond the reach standard, most under-5s first.

    Returns
    -------
    DataFrame
        Indexed by area code: ``area_name``, ``ward_name``, ``under5``, ``idaci_children``,
        ``centre_name`` (the nearest centre), ``distance_km`` and ``walk_minutes``; empty when
        every deprived area is within reach.
    """
    areas = result.areas
    gaps = areas[areas["most_deprived_30"].astype(bool) & ~areas["within_reach"].astype(bool)]
    table = pd.DataFrame(
        {
            "area_name": gaps["area_name"],
            "ward_name": gaps["ward_name"],
            "under5": gaps["under5"].round().astype("int64"),
            "idaci_children": gaps["idaci_children"].round().astype("int64"),
            "centre_name": gaps["centre_name"],
            "distance_km": (gaps["distance_m"] / 1000).round(2),
            "walk_minutes": gaps["walk_minutes"].round().astype("int64"),
        },
        index=gaps.index,
    )
    return table.sort_values(["under5", "distance_km"], ascending=False)


def gaps_table(result: SufficiencyResult) -> Any:
    """:func:`gap_areas` as a table for people, or a sentence when there is no gap."""
    s = result.standards
    return view(
        table(
            gap_areas(result),
            {"distance_km": "number2", "walk_minutes": "count"},
            labels=LABELS,
            index="Code",
            empty=f"No gap: every small area in the {s.deprived_label} areas is within "
            f"{s.reach_label()} of a centre.",
        )
    )


# ------------------------------------------------------------------------------ scenarios


def scenario_engine(
    authority: str,
    *,
    centres: PathLike | None = None,
    standards: PathLike | Standards | None = None,
) -> ScenarioEngine:
    """A :class:`planning.analysis.scenarios.ScenarioEngine` for an authority's current network.

    ``centres=None`` means the authority's illustrative sites, as in :func:`assess`.
    """
    # The assessment's run, so that neighbouring demand and supply are in the engine too.
    run = assess(authority, centres=centres, standards=_standards(standards))
    return ScenarioEngine.from_result(run.result)


def example_scenario(
    engine: ScenarioEngine,
    *,
    close: str | None = None,
    open_postcode: str | None = None,
    scenario: PathLike | None = None,
    open_at_gap: bool = True,
) -> Scenario:
    """A scenario to compare with the current network: a file, or close one centre and open one.

    Parameters
    ----------
    engine : ScenarioEngine
        The current network.
    close : str, optional
        Id of the centre to close; default the centre with the fewest under-5s in its
        catchment (the least-used).
    open_postcode : str, optional
        Postcode of a new branch centre. Without one, ``open_at_gap`` decides.
    scenario : path, optional
        A scenario YAML file (:func:`planning.analysis.scenarios.load_scenario`); when given, ``close``
        and ``open_postcode`` are ignored.
    open_at_gap : bool
        Without ``open_postcode``: True opens a new branch centre at the point of the area with
        the most under-5s in income-deprived families that is beyond the reach standard once
        ``close`` has closed (beyond 1 mile if every area is within reach; the farthest area if
        every area is within a mile); False opens none, so the scenario is the closure alone.

    Raises
    ------
    ValidationError
        An unknown centre id (the valid ids listed) or a postcode not in the ONS Postcode
        Directory (when the scenario is evaluated).
    """
    if scenario is not None:
        return load_scenario(Path(scenario))
    centres = engine.baseline.centres
    # The council's own centres: another authority's are not its to close.
    loads = centres.loc[~centres["neighbour"].astype(bool), "under5"]
    if close is None:
        close = str(loads.idxmin()) if len(loads) > 1 else None
    elif close not in loads.index:
        raise ValidationError(
            f"close: no centre '{close}' in the network; valid ids: {', '.join(map(str, loads.index))}"
        )
    built = Scenario("") if close is None else Scenario("").close(close)
    parts = [] if close is None else [f"Close {close}"]
    site: dict[str, Any] | None = None
    if open_postcode is not None:
        site = {"postcode": str(open_postcode).strip().upper()}
        label = f"New centre at {site['postcode']}"
    elif open_at_gap:
        areas = engine.evaluate(built).areas
        need = engine.need_for(engine.standards)["under5_income_deprived"]
        beyond = ~areas["within_reach"]
        if not beyond.any():
            beyond = ~areas["within_short"]
        if beyond.any():
            code = need[beyond].idxmax()
        else:
            code = areas["distance_m"].idxmax()
        position = engine.areas.index.get_loc(code)
        x, y = engine.area_xy[position]
        site = {"easting": float(x), "northing": float(y)}
        label = f"New centre near {engine.areas['area_name'].get(code, code)}"
    if site is not None:
        built = built.open("NEW1", name=label, kind="branch", **site)
        parts.append(f"open {label[0].lower()}{label[1:]}")
    name = ", ".join(parts) or "No change"
    return dataclasses.replace(
        built,
        name=name[0].upper() + name[1:],
        description="Example: " + "; ".join(built.describe()),
    )


def change_list(scenario: Scenario) -> Any:
    """The changes a scenario makes, one per line, as Markdown."""
    lines = [f"- {line[0].upper()}{line[1:]}" for line in scenario.describe()]
    return _markdown("\n".join(["The change tested:", "", *lines]))


def comparison_summary(comparison: Comparison) -> Any:
    """The plain-English summary of a comparison (most important first), as Markdown."""
    scenario = comparison.after.scenario
    lines = [f"**{scenario.name}**", ""] + [f"- {line}" for line in comparison.summary_lines()]
    return _markdown("\n".join(lines))


def comparison_notes(comparison: Comparison) -> Any:
    """The caveats every figure of the comparison carries (illustrative centres first), as the
    report's notices."""
    notes = comparison.before.to_result().notes
    return view(render("report_notes.html.j2", notes=notes))


def comparison_headline(comparison: Comparison) -> Any:
    """Every headline figure before and after, with the change, and the verdict: counts with
    thousands separators, shares in per cent, changes of shares in percentage points."""
    rows = []
    for label, kind in headlines(comparison.before.standards).values():
        row = comparison.headline.loc[label]
        write = {"share": share, "ratio": ratio}.get(kind, count)
        rows.append(
            {
                "figure": label,
                "before": write(row["before"]),
                "after": write(row["after"]),
                "change": signed(row["change"], kind),
            }
        )
    b, a = comparison.before.figures["rag"], comparison.after.figures["rag"]
    rows.append(
        {"figure": "Verdict", "before": b, "after": a, "change": "same" if a == b else "changed"}
    )
    frame = pd.DataFrame(rows).set_index("figure")
    return view(
        table(
            frame,
            dict.fromkeys(["before", "after", "change"], "figure"),
            labels={"before": "Before", "after": "After", "change": "Change"},
            index="Figure",
        )
    )


def comparison_areas(comparison: Comparison) -> Any:
    """The small areas that gain or lose reasonable reach, with their children and distances."""
    c = comparison.areas_changed
    frame = c[["area_name", "ward_name", "deprivation_band", "under5", "idaci_children"]].assign(
        under5_income_deprived=c["under5_income_deprived"],
        distance_before_m=c["distance_before_m"],
        distance_after_m=c["distance_after_m"],
        change=c["change"],
    )
    return view(
        table(
            frame,
            {
                "under5": "count",
                "idaci_children": "count",
                "under5_income_deprived": "count",
                "distance_before_m": "km",
                "distance_after_m": "km",
            },
            labels=LABELS
            | {
                "deprivation_band": "Band",
                "distance_before_m": "Distance before",
                "distance_after_m": "Distance after",
                "change": "Change",
            },
            index="Code",
            empty="No small area gains or loses reasonable reach.",
        )
    )


def comparison_loads(comparison: Comparison) -> Any:
    """Under-5s in each centre's catchment before and after, the change and the load status
    against the standards' range (e.g. 600-1,200)."""
    loads = comparison.loads
    frame = loads[["name", "under5_before", "status_before", "under5_after", "status_after"]]
    return view(
        table(
            frame.assign(change=loads["change"]),
            {"under5_before": "count", "under5_after": "count", "change": "signed"},
            labels={
                "name": "Centre",
                "under5_before": "Under-5s before",
                "status_before": "Load before",
                "under5_after": "Under-5s after",
                "status_after": "Load after",
                "change": "Change",
            },
            index="Id",
            missing="none",
        )
    )


def comparison_localities(comparison: Comparison) -> Any:
    """Each locality's verdict before and after (coloured), the share within reach and the
    reasons after the change, in full."""
    loc = comparison.localities
    return view(
        table(
            loc[
                ["rag_before", "rag_after", "share_within_reach_before", "share_within_reach_after"]
            ].assign(reasons_after=loc["reasons_after"]),
            {
                "rag_before": "verdict",
                "rag_after": "verdict",
                "share_within_reach_before": "share",
                "share_within_reach_after": "share",
                "reasons_after": "reasons",
            },
            labels={
                "rag_before": "Verdict before",
                "rag_after": "Verdict after",
                "share_within_reach_before": "Within reach before",
                "share_within_reach_after": "Within reach after",
                "reasons_after": "Reasons after the change",
            },
            index="Locality",
        )
    )


def closure_table(engine: ScenarioEngine) -> Any:
    """Each of the council's centres closed on its own, side by side: shares within reach
    overall and in the most deprived areas, under-5s left beyond reach, under-5s per centre and
    the verdict, least harm to the most deprived areas first. From the engine's headline path
    (:meth:`ScenarioEngine.headline_table`: arrays only, under a millisecond a closure)."""
    standards = engine.standards
    frame = engine.headline_table(single_closures(engine)).sort_values(
        ["share_deprived_within_reach", "share_within_reach"], ascending=False, kind="stable"
    )
    reach = f"{standards.reach_km:g} km"
    return view(
        table(
            frame,
            {
                "share_within_reach": "share",
                "share_deprived_within_reach": "share",
                "under5_beyond_reach": "count",
                "under5_per_centre": "count",
                "rag": "verdict",
            },
            labels={
                "share_within_reach": f"Within {reach}",
                "share_deprived_within_reach": f"Within {reach}: {standards.deprived_label} areas",
                "under5_beyond_reach": f"Under-5s beyond {reach}",
                "under5_per_centre": "Under-5s per centre",
                "rag": "Verdict",
            },
            index="Closure",
            empty="The council has one centre: closing it alone is not a scenario.",
        )
    )


def comparison_bands(comparison: Comparison) -> Any:
    """Under-5s and IDACI children within reach by national deprivation band, before and after."""
    return view(
        table(
            comparison.bands,
            dict.fromkeys(comparison.bands.columns, "count") | {"change": "signed"},
            labels={
                "under5": "Under-5s",
                "within_reach_before": "Under-5s within reach before",
                "within_reach_after": "Under-5s within reach after",
                "idaci_within_reach_before": "IDACI children within reach before",
                "idaci_within_reach_after": "IDACI children within reach after",
                "change": "Change (under-5s)",
            },
            index="National deprivation band (IMD)",
        )
    )


def comparison_map(
    comparison: Comparison,
    *,
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
    note: str | None = None,
) -> OfflineMap:
    """The difference map of a comparison: areas gaining or losing reach, centres opened,
    closed and kept (:func:`planning.outputs.maps.difference_map`), offline-safe.

    ``note`` defaults to the comparison's first caveat (the illustrative notice when the
    centres are illustrative), shown on the map as in the report."""
    before = comparison.before.to_result()
    after = comparison.after.to_result()
    return difference_map(
        before.areas,
        after.areas,
        before.centres,
        after.centres,
        tiles=tiles,
        title=title or comparison.after.scenario.name,
        note=note if note is not None else (" ".join(before.notes[:1]) or None),
    )
