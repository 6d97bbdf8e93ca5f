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
from planning._format import count, whole_share
from planning._validate import Problems, require_columns
from planning.analysis.need import BAND_LABELS, IDACI_CHILDREN_LABEL, income_deprived_note
from planning.analysis.scenarios import Comparison, Scenario, ScenarioEngine, load_scenario
from planning.analysis.sufficiency import SufficiencyResult, need_measures
from planning.inputs.areas import load_areas
from planning.inputs.illustrative import resolve_centres
from planning.outputs.maps import OfflineMap, difference_map
from planning.runs.sufficiency import SufficiencyRun, run_sufficiency
from planning.standards import Standards, load_standards

__all__ = [
    "assess",
    "comparison_map",
    "comparison_summary",
    "example_scenario",
    "gap_areas",
    "load_need",
    "need_headline",
    "need_summary",
    "scenario_engine",
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
        Postcode of a new branch centre; default the point of the area with the most under-5s
        in income-deprived families that is beyond the reach standard once ``close`` has
        closed (beyond 1 mile if every area is within reach; the farthest area if every area
        is within a mile).
    scenario : path, optional
        A scenario YAML file (:func:`planning.analysis.scenarios.load_scenario`); when given, ``close``
        and ``open_postcode`` are ignored.

    Raises
    ------
    ValidationError
        An unknown centre id (the valid ids listed) or a postcode not in the ONS Postcode
        Directory (when the scenario is evaluated).
    """
    if scenario is not None:
        return load_scenario(Path(scenario))
    loads = engine.baseline.centres["under5"]
    if close is None:
        close = str(loads.idxmin()) if len(loads) > 1 else None
    elif close not in loads.index:
        raise ValidationError(
            f"close: no centre '{close}' in the network; valid ids: {', '.join(map(str, loads.index))}"
        )
    built = Scenario("") if close is None else Scenario("").close(close)
    if open_postcode is not None:
        site: dict[str, Any] = {"postcode": str(open_postcode).strip().upper()}
        label = f"New centre at {site['postcode']}"
    else:
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
    built = built.open("NEW1", name=label, kind="branch", **site)
    closing = f"Close {close}, " if close is not None else ""
    return dataclasses.replace(
        built,
        name=f"{closing}open {label[0].lower()}{label[1:]}",
        description="Example: " + "; ".join(built.describe()),
    )


def comparison_summary(comparison: Comparison) -> Any:
    """The plain-English summary of a comparison (most important first), as Markdown."""
    scenario = comparison.after.scenario
    lines = [f"**{scenario.name}**", ""] + [f"- {line}" for line in comparison.summary_lines()]
    return _markdown("\n".join(lines))


def comparison_map(
    comparison: Comparison,
    *,
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
    note: str | None = None,
) -> OfflineMap:
    """The difference map of a comparison: areas gaining or losing reach, centres opened,
    closed and kept (:func:`planning.outputs.maps.difference_map`), offline-safe."""
    before = comparison.before.to_result()
    after = comparison.after.to_result()
    return difference_map(
        before.areas,
        after.areas,
        before.centres,
        after.centres,
        tiles=tiles,
        title=title or comparison.after.scenario.name,
        note=note,
    )
