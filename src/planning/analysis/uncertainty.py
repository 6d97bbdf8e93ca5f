"""How sure are we? Plausible inputs drawn from the uncertainty model, carried to the verdict.

Every figure of a sufficiency assessment is a point estimate. This module draws ``N`` plausible
sets of inputs from :class:`planning.uncertainty_model.UncertaintyModel` (``uncertainty.yaml``)
and reruns the assessment's arithmetic on each, as arrays. For every locality, the authority
and each centre the result gives the probability of each verdict, intervals for the headline
shares and loads, the rule that drives the uncertainty and a robust/fragile flag. Scenarios
reuse the same draws before and after (:func:`scenario_uncertainty`).

This module holds the assessment (:func:`assess_uncertainty`, :class:`UncertaintyResult`), its
summaries (verdict probabilities, drivers, intervals, :func:`verdict_text`) and
:func:`scenario_uncertainty`; the draws are :mod:`planning.analysis.uncertainty_draws`, and the
structure every draw shares and the array core that carries a draw to the verdict
:mod:`planning.analysis.uncertainty_propagation`. Their public names are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planning._format import whole_share
from planning.analysis.sufficiency import SufficiencyResult
from planning.analysis.uncertainty_draws import (
    DEFAULT_DRAWS,
    Draws,
    draw_inputs,
    idaci_intervals,
)
from planning.analysis.uncertainty_propagation import (
    RULES,
    Network,
    Propagated,
    network_from_result,
    propagate,
)
from planning.uncertainty_model import UncertaintyModel

__all__ = [
    "COLOURS",
    "DEFAULT_DRAWS",
    "FIGURES",
    "RULES",
    "Draws",
    "Network",
    "Propagated",
    "UncertaintyResult",
    "assess_uncertainty",
    "draw_inputs",
    "drivers",
    "idaci_intervals",
    "network_from_result",
    "propagate",
    "scenario_uncertainty",
    "verdict_probabilities",
    "verdict_text",
]

COLOURS = ("Green", "Amber", "Red")
#: Figures given with an interval, and what each is.
FIGURES: dict[str, str] = {
    "under5": "under-5s (residents)",
    "share_within_reach": "share of under-5s within reach",
    "share_deprived_within_reach": "share of under-5s in the most deprived areas within reach",
    "share_within_walk": "share of under-5s within the walking standard",
    "share_idaci_within_reach": "share of IDACI children within reach",
    "idaci_children": "IDACI children (0-15 in income-deprived families)",
    "under5_per_centre": "under-5s per centre (centre equivalents)",
    "largest_centre_load": "largest centre load (under-5s, all authorities)",
}
#: Columns of the centre rows only.
_CENTRE_ONLY = ("centre_id", "load_status", "p_above_range")


@dataclass(frozen=True)
class UncertaintyResult:
    """How sure the verdicts are (:func:`assess_uncertainty`).

    Attributes
    ----------
    table : DataFrame
        One row per ``level`` (authority, locality, centre) and ``name``: the point verdict,
        ``likely`` (the most likely verdict), ``p_green``, ``p_amber``, ``p_red``,
        ``robust``, ``driver`` (the rule behind most changes of verdict, or ``none``) and, for
        each figure of :data:`FIGURES`, the point value, ``_low``, ``_median`` and ``_high``.
    model : UncertaintyModel
    draws : int
    seed : int
    """

    table: pd.DataFrame
    model: UncertaintyModel
    draws: int
    seed: int
    propagated: Propagated = field(repr=False, compare=False)

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures for ``summary.json``."""

        def plain(row: pd.Series) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in row.items():
                if key in ("level", "name", *_CENTRE_ONLY):
                    continue
                if isinstance(value, (np.floating, float)):
                    out[str(key)] = None if np.isnan(value) else round(float(value), 6)
                elif isinstance(value, np.bool_):
                    out[str(key)] = bool(value)
                else:
                    out[str(key)] = value
            return out

        table = self.table
        authority = table[table["level"] == "authority"].iloc[0]
        return {
            "draws": self.draws,
            "seed": self.seed,
            "model": self.model.describe(),
            "verdict": verdict_text(authority),
            "authority": plain(authority),
            "localities": {
                str(row["name"]): plain(row) | {"text": verdict_text(row)}
                for _, row in table[table["level"] == "locality"].iterrows()
            },
        }


# --------------------------------------------------------------------------------------------
# Summaries


def verdict_probabilities(verdicts: np.ndarray) -> np.ndarray:
    """``(groups, 3)`` share of draws with each verdict (Green, Amber, Red)."""
    return np.stack([(verdicts == c).mean(axis=0) for c in range(len(COLOURS))], axis=1)


def drivers(rules: np.ndarray, verdicts: np.ndarray, likely: np.ndarray) -> list[str]:
    """The rule behind most changes of verdict, per group (``none`` when it never changes).

    For each rule ``r``: the share of draws whose verdict differs from the most likely one and
    would not, had rule ``r`` kept its own most likely colour. When no single rule explains a
    change (two moved at once), the rule whose colour changes most often is named.
    """
    k = verdicts.shape[0]
    changed = verdicts != likely[None, :]
    out: list[str] = []
    names = list(RULES)
    typical = np.stack(
        [
            np.argmax(np.stack([(rules[r] == c).sum(axis=0) for c in range(3)]), axis=0)
            for r in range(len(names))
        ]
    )  # (rules, groups)
    explained = np.zeros((len(names), verdicts.shape[1]))
    unstable = np.zeros_like(explained)
    for r in range(len(names)):
        held = rules.copy()
        held[r] = typical[r][None, :]
        explained[r] = (changed & (held.max(axis=0) == likely[None, :])).sum(axis=0) / k
        unstable[r] = (rules[r] != typical[r][None, :]).mean(axis=0)
    for g in range(verdicts.shape[1]):
        if not changed[:, g].any():
            out.append("none")
        elif explained[:, g].max() > 0:
            out.append(names[int(np.argmax(explained[:, g]))])
        else:
            out.append(names[int(np.argmax(unstable[:, g]))])
    return out


def assess_uncertainty(
    result: SufficiencyResult,
    model: UncertaintyModel | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    split_groups: pd.Series | None = None,
) -> UncertaintyResult:
    """Probability of each verdict, intervals and drivers for a sufficiency result.

    Parameters
    ----------
    result : SufficiencyResult
        The assessment (its assignment and distances are reused for every draw).
    model : UncertaintyModel, optional
        Default: the packaged ``uncertainty.yaml``.
    draws : int
        Number of plausible sets of inputs (default 1,000).
    seed : int, optional
        Default :data:`planning.settings.RANDOM_SEED`: the same seed gives the same answer.
    split_groups : Series, optional
        Area code -> split group (:func:`planning.inputs.splits.split_groups`); without it no
        area is treated as apportioned.

    Returns
    -------
    UncertaintyResult

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from planning import toy_town
    >>> from planning.analysis.sufficiency import assess_sufficiency
    >>> town = toy_town(rows=2, columns=2, under5=200)
    >>> centres = gpd.GeoDataFrame({"name": ["Hub"]}, index=pd.Index(["A"], name="centre_id"),
    ...     geometry=[shapely.Point(431_000, 336_000)], crs="EPSG:27700")
    >>> sure = assess_uncertainty(assess_sufficiency(town, centres), draws=200)
    >>> verdict_text(sure.table.set_index("level").loc["authority"])
    'Green, 100% likely'
    """
    if model is None:
        from planning.uncertainty_model import load_uncertainty

        model = load_uncertainty()
    model = _for_distances(model, result)
    network = network_from_result(result)
    sample = draw_inputs(result, model, draws=draws, seed=seed, split_groups=split_groups)
    propagated = propagate(network, sample)
    table = _table(network, propagated, model, result)
    return UncertaintyResult(
        table=table, model=model, draws=sample.n, seed=sample.seed, propagated=propagated
    )


def _for_distances(model: UncertaintyModel, result: SufficiencyResult) -> UncertaintyModel:
    """The model as it applies to the result's distances: along a street network the walk is
    measured, so the circuity range (a stand-in for streets not known) is not drawn, and the
    model's description no longer lists it among the uncertain inputs."""
    if result.distances is None or model.circuity is None:
        return model
    return model.replace(circuity=None)


def _point_figures(result: SufficiencyResult, network: Network) -> pd.DataFrame:
    """The point estimates of :data:`FIGURES` per group, from the result."""
    rows = []
    for name in network.localities:
        row = result.localities.loc[name]
        rows.append(
            {
                "under5": row["under5"],
                "share_within_reach": row["share_within_reach"],
                "share_deprived_within_reach": row["share_deprived_within_reach"],
                "share_within_walk": row["share_within_walk"],
                "share_idaci_within_reach": row["share_idaci_within_reach"],
                "idaci_children": row["idaci_children"],
                "under5_per_centre": row["under5_per_centre"],
            }
        )
    a = result.authority
    rows.append({key: a.get(key, np.nan) for key in FIGURES if key != "largest_centre_load"})
    frame = pd.DataFrame(rows, index=[*network.localities, "authority"])
    loads = result.centres["under5"].to_numpy(float)
    largest = []
    for code in range(len(network.localities)):
        members = network.locality_codes == code
        largest.append(loads[members].max() if members.any() else 0.0)
    served = np.zeros(len(loads), dtype=bool)
    served[network.area_centre[: network.residents]] = True
    largest.append(loads[served].max() if served.any() else 0.0)
    frame["largest_centre_load"] = largest
    return frame


def _quantiles(values: np.ndarray, q: tuple[float, float, float]) -> np.ndarray:
    """``(3, groups)`` quantiles over draws, ignoring NaN (a share with no one to share)."""
    if not np.isnan(values).any():
        return np.quantile(values, q, axis=0)
    out = np.full((3, values.shape[1]), np.nan)
    for g in range(values.shape[1]):
        column = values[:, g]
        column = column[~np.isnan(column)]
        if len(column):
            out[:, g] = np.quantile(column, q)
    return out


def _table(
    network: Network, propagated: Propagated, model: UncertaintyModel, result: SufficiencyResult
) -> pd.DataFrame:
    low, high = model.interval
    q = (low, 0.5, high)
    probabilities = verdict_probabilities(propagated.verdict)
    likely = probabilities.argmax(axis=1)
    driver = drivers(propagated.rules, propagated.verdict, likely)
    groups = propagated.groups
    n_loc = len(network.localities)
    table = pd.DataFrame(
        {
            "level": ["locality"] * n_loc + ["authority"],
            "name": [str(g) for g in groups],
            "verdict": [network.point_rag.get(str(g), "") for g in groups],
            "likely": [COLOURS[i] for i in likely],
            "p_green": probabilities[:, 0],
            "p_amber": probabilities[:, 1],
            "p_red": probabilities[:, 2],
        }
    )
    table["p_likely"] = probabilities.max(axis=1)
    table["robust"] = table["p_likely"] >= model.fragile_below
    table["driver"] = driver
    points = _point_figures(result, network)
    for name, values in propagated.figures.items():
        spread = _quantiles(values, q)
        table[name] = points[name].to_numpy(float)
        table[f"{name}_low"] = spread[0]
        table[f"{name}_median"] = spread[1]
        table[f"{name}_high"] = spread[2]
    # Centres: the load (all authorities) and how often it is above the range.
    load = propagated.centre_load
    s = network.standards
    spread = np.quantile(load, q, axis=0)
    above = (load > s.load_max).mean(axis=0)
    centres = pd.DataFrame(
        {
            "level": "centre",
            "name": network.centre_names,
            "centre_id": network.centres.astype(str),
            "load_status": result.centres["load_status"].astype(str).to_numpy()
            if "load_status" in result.centres
            else "",
            "p_above_range": above,
            "largest_centre_load": result.centres["under5"].to_numpy(float),
            "largest_centre_load_low": spread[0],
            "largest_centre_load_median": spread[1],
            "largest_centre_load_high": spread[2],
        }
    )
    table = pd.concat([table.iloc[[-1]], table.iloc[:-1], centres], ignore_index=True)
    return table


def verdict_text(row: pd.Series | dict[str, Any]) -> str:
    """The verdict with its probability: ``'Amber, 83% likely; Green 17%'``.

    The most likely verdict first, then any other that came out in some draw, most likely
    first. A probability that rounds to 0% or 100% but is not is shown as ``<1%`` or ``>99%``.

    Examples
    --------
    >>> verdict_text({"p_green": 0.17, "p_amber": 0.83, "p_red": 0.0})
    'Amber, 83% likely; Green 17%'
    >>> verdict_text({"p_green": 0.998, "p_amber": 0.002, "p_red": 0.0})
    'Green, >99% likely; Amber <1%'
    """
    probabilities = [(c, float(row[f"p_{c.lower()}"])) for c in COLOURS]
    ordered = sorted(probabilities, key=lambda item: -item[1])
    first, p = ordered[0]
    text = f"{first}, {_percent(p)} likely"
    others = [f"{c} {_percent(q)}" for c, q in ordered[1:] if q > 0]
    return "; ".join([text, *others])


def _percent(p: float) -> str:
    if 0 < p < 0.005:
        return "<1%"
    if 0.995 <= p < 1:
        return ">99%"
    return whole_share(p)


# --------------------------------------------------------------------------------------------
# Scenarios


def scenario_uncertainty(
    before: SufficiencyResult,
    after: SufficiencyResult,
    model: UncertaintyModel | None = None,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    split_groups: pd.Series | None = None,
) -> pd.DataFrame:
    """How likely a scenario is to change each locality's verdict, on the same draws.

    ``after`` is the scenario's result (``ScenarioEngine.evaluate(scenario).to_result()``);
    both must assess the same areas in the same order. Each draw's inputs go through both
    networks, so a change is the scenario's, not the noise's. One row per locality of either
    network and the authority: ``p_green_before``, ``p_green_after``,
    ``p_green_to_amber_or_red`` (Green before and Amber or Red after, in the same draw),
    ``p_worse`` and ``p_better`` (the verdict gets worse or better in the same draw), and the
    point verdicts. A locality that no longer exists after the scenario (its only centre
    closed) has no after figures.
    """
    if model is None:
        from planning.uncertainty_model import load_uncertainty

        model = load_uncertainty()
    model = _for_distances(model, before)
    first, second = network_from_result(before), network_from_result(after)
    sample = draw_inputs(before, model, draws=draws, seed=seed, split_groups=split_groups)
    one = propagate(first, sample)
    two = propagate(second, sample, standards=after.standards)
    names = list(dict.fromkeys(["authority", *map(str, one.groups), *map(str, two.groups)]))
    rows = []
    for name in names:
        v1 = _column(one, name)
        v2 = _column(two, name)
        row: dict[str, Any] = {
            "name": name,
            "level": "authority" if name == "authority" else "locality",
            "verdict_before": first.point_rag.get(name, ""),
            "verdict_after": second.point_rag.get(name, ""),
        }
        row["p_green_before"] = float((v1 == 0).mean()) if v1 is not None else np.nan
        row["p_green_after"] = float((v2 == 0).mean()) if v2 is not None else np.nan
        if v1 is not None and v2 is not None:
            row["p_green_to_amber_or_red"] = float(((v1 == 0) & (v2 > 0)).mean())
            row["p_worse"] = float((v2 > v1).mean())
            row["p_better"] = float((v2 < v1).mean())
        else:
            row["p_green_to_amber_or_red"] = row["p_worse"] = row["p_better"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _column(propagated: Propagated, name: str) -> np.ndarray | None:
    position = [str(g) for g in propagated.groups]
    if name not in position:
        return None
    return np.asarray(propagated.verdict[:, position.index(name)])
