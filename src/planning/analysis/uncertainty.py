"""How sure are we? Plausible inputs drawn from the uncertainty model, carried to the verdict.

Every figure of a sufficiency assessment is a point estimate. This module draws ``N`` plausible
sets of inputs from :class:`planning.uncertainty_model.UncertaintyModel` (``uncertainty.yaml``)
and reruns the assessment's arithmetic on each, as arrays:

* **one distance computation.** Population draws do not move anyone's nearest centre, so the
  assignment and the distances of the assessment (:class:`SufficiencyResult`) are reused for
  every draw. Circuity only stretches walking minutes (``distance x circuity / speed``), so a
  draw of it is a per-draw distance threshold for the walking standard; a drawn reach standard
  (optional) is one for the reach flags.
* **what each source moves.** Population error and apportionment move under-5s, hence every
  share, load and verdict rule; IDACI rounding and suppression move only the IDACI figures;
  circuity moves only the walking-time share; the standards' ranges move the rule they set.
* **the cross-boundary model.** Loads include neighbouring authorities' residents (their
  under-5s are drawn too), shares and verdicts are for the authority's own residents only, and
  centre equivalents are ``r_c / L_c`` per draw, as in
  :func:`planning.analysis.sufficiency_verdicts.resident_shares`.

For every locality, the authority and each centre the result gives the probability of each
verdict, intervals for the headline shares and loads, the rule that drives the uncertainty and
a robust/fragile flag. Scenarios reuse the same draws before and after
(:func:`scenario_uncertainty`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from planning._errors import ValidationError
from planning._format import whole_share
from planning.analysis.sufficiency import SufficiencyResult
from planning.standards import Standards
from planning.uncertainty_model import AGE_BANDS, UncertaintyModel

#: The verdict rules, in the order :func:`planning.analysis.sufficiency_verdicts.verdict` checks them.
RULES: dict[str, str] = {
    "deprived_within_reach": "share of under-5s in the most deprived areas within reach",
    "all_within_reach": "share of all under-5s within reach",
    "under5_per_centre": "under-5s per centre against the load range",
    "centre_load": "a centre's own load above the maximum",
}
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
DEFAULT_DRAWS = 1_000
#: Columns of the centre rows only.
_CENTRE_ONLY = ("centre_id", "load_status", "p_above_range")


@dataclass(frozen=True)
class Network:
    """The fixed structure of one assessment that every draw shares (no distance recomputed).

    Built by :func:`network_from_result`. Areas are the assessed ones: the authority's residents
    first (``residents`` of them), then its neighbouring areas.
    """

    area_index: pd.Index
    residents: int
    area_centre: np.ndarray  # position of each assessed area's centre in ``centres`` (-1: none)
    distance_m: np.ndarray  # residents
    reach_m: np.ndarray  # residents: the reach standard of each area
    rural_own_standard: np.ndarray  # residents: rural with a rural reach standard of its own
    within_reach: np.ndarray  # residents, at the point standards
    deprived: np.ndarray  # residents
    centres: pd.Index
    centre_names: np.ndarray
    centre_neighbour: np.ndarray
    locality_codes: np.ndarray  # per centre
    localities: pd.Index
    standards: Standards
    point_rag: dict[str, str] = field(default_factory=dict)
    #: Along a street network, the circuity of its distances (1: the streets are the walk), used
    #: for every draw; ``None`` for straight lines, where the standards' factor or the model's
    #: drawn range applies.
    street_circuity: float | None = None


@dataclass(frozen=True)
class Draws:
    """Plausible inputs: one row per draw.

    ``under5`` for every assessed area, ``idaci_children`` for residents, ``circuity``,
    ``reach_km`` and ``load_max`` per draw (``None``: the standards' point value).
    """

    area_index: pd.Index
    under5: np.ndarray
    idaci_children: np.ndarray
    circuity: np.ndarray | None
    reach_km: np.ndarray | None
    load_max: np.ndarray | None
    seed: int

    @property
    def n(self) -> int:
        return int(self.under5.shape[0])


@dataclass(frozen=True)
class Propagated:
    """Per-draw figures and rule colours for every group (localities, then the authority)."""

    groups: pd.Index
    figures: dict[str, np.ndarray]  # name -> (draws, groups)
    rules: np.ndarray  # (rules, draws, groups) colour codes 0 green, 1 amber, 2 red
    verdict: np.ndarray  # (draws, groups)
    centre_load: np.ndarray  # (draws, centres)


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
# The fixed structure


def network_from_result(result: SufficiencyResult) -> Network:
    """The structure every draw of ``result`` shares: assignment, distances, reach flags."""
    areas = result.areas
    neighbours = result.neighbour_areas
    assessed = (
        pd.concat([areas[["centre_id", "under5"]], neighbours[["centre_id", "under5"]]])
        if neighbours is not None and len(neighbours)
        else areas[["centre_id", "under5"]]
    )
    centres = result.centres
    area_centre = centres.index.get_indexer(assessed["centre_id"])
    n = len(areas)
    if (area_centre[:n] < 0).any():
        raise ValidationError("result: a resident area's centre is not in the centre table")
    standards = result.standards
    rural = (
        areas["rural"].astype("boolean").fillna(False).to_numpy(bool)
        if "rural" in areas
        else np.zeros(n, dtype=bool)
    )
    localities = centres["locality"].astype(str)
    codes, labels = pd.factorize(localities, sort=True)
    point = {str(k): str(v) for k, v in result.localities["rag"].items()}
    point["authority"] = str(result.authority["rag"])
    names = centres["name"] if "name" in centres else centres.index.to_series()
    return Network(
        area_index=assessed.index,
        residents=n,
        area_centre=area_centre.astype(np.int64),
        distance_m=areas["distance_m"].to_numpy(float),
        reach_m=areas["reach_standard_m"].to_numpy(float),
        rural_own_standard=rural & (standards.rural_reach_km is not None),
        within_reach=areas["within_reach"].to_numpy(bool),
        deprived=areas["most_deprived_30"].to_numpy(bool),
        centres=centres.index,
        centre_names=names.astype(str).to_numpy(),
        centre_neighbour=(
            centres["neighbour"].astype(bool).to_numpy()
            if "neighbour" in centres
            else np.zeros(len(centres), dtype=bool)
        ),
        locality_codes=codes.astype(np.int64),
        localities=pd.Index(labels, name="locality"),
        standards=standards,
        point_rag=point,
        street_circuity=(
            float(result.distances.circuity) if result.distances is not None else None
        ),
    )


def _assessed_frame(result: SufficiencyResult) -> pd.DataFrame:
    neighbours = result.neighbour_areas
    if neighbours is None or len(neighbours) == 0:
        return pd.DataFrame(result.areas)
    columns = list(result.areas.columns)
    return pd.concat([pd.DataFrame(result.areas), neighbours.reindex(columns=columns)])


# --------------------------------------------------------------------------------------------
# Plausible inputs


def _lognormal_factors(rng: np.random.Generator, cv: float, shape: tuple[int, int]) -> np.ndarray:
    """Multiplicative errors with mean 1 and coefficient of variation ``cv``:
    ``exp(sigma z - sigma^2 / 2)``, ``sigma^2 = log(1 + cv^2)`` (exactly 1 when ``cv`` is 0)."""
    if cv <= 0:
        return np.ones(shape)
    sigma = np.sqrt(np.log1p(cv * cv))
    return np.exp(sigma * rng.standard_normal(shape) - sigma * sigma / 2)


def _bands(frame: pd.DataFrame) -> np.ndarray:
    """Each area's under-5s by :data:`AGE_BANDS`, scaled to sum to ``under5``; without single
    years of age, a fifth of the under-5s count as babies."""
    under5 = frame["under5"].to_numpy(float)
    columns = [c for cols in AGE_BANDS.values() for c in cols]
    if set(columns) <= set(frame.columns):
        bands = np.column_stack(
            [frame[list(cols)].to_numpy(float).sum(axis=1) for cols in AGE_BANDS.values()]
        )
        total = bands.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(total > 0, under5 / np.where(total > 0, total, 1), 0.0)
        missing = total <= 0
        bands = bands * scale[:, None]
        bands[missing, 0] = under5[missing] / 5
        bands[missing, 1] = under5[missing] * 4 / 5
        return np.asarray(bands, dtype=float)
    return np.column_stack([under5 / 5, under5 * 4 / 5])


def idaci_intervals(frame: pd.DataFrame, model: UncertaintyModel) -> tuple[np.ndarray, np.ndarray]:
    """The exact interval of whole numbers each area's IDACI count may be (low, high).

    A published count ``x``, rounded to the nearest ``b`` (half up), is a whole number in
    ``[x - (b - 1) // 2, x + b // 2]``, and no less than the suppression limit ``s`` (a smaller
    count would have been suppressed); a suppressed count (``idaci_estimated``) is in
    ``[0, s - 1]``. Areas with no published count (a toy town) are exact.

    Examples
    --------
    >>> frame = pd.DataFrame({"idaci_children": [230.0, 10.0, 4.0, 7.0],
    ...                       "idaci_children_published": [230.0, 10.0, None, None],
    ...                       "idaci_estimated": [False, False, True, False]})
    >>> low, high = idaci_intervals(frame, UncertaintyModel())
    >>> low.tolist(), high.tolist()
    ([228.0, 10.0, 0.0, 7.0], [232.0, 12.0, 9.0, 7.0])
    """
    point = frame["idaci_children"].to_numpy(float)
    low, high = point.copy(), point.copy()
    base, below = model.idaci_rounding_base, model.idaci_suppressed_below
    if base is None or below is None:
        return low, high
    estimated = (
        frame["idaci_estimated"].astype("boolean").fillna(False).to_numpy(bool)
        if "idaci_estimated" in frame
        else np.zeros(len(frame), dtype=bool)
    )
    if "idaci_children_published" in frame:
        published = pd.to_numeric(frame["idaci_children_published"], errors="coerce").to_numpy(
            float
        )
        known = np.isfinite(published) & ~estimated
        low[known] = np.maximum(published[known] - (base - 1) // 2, below)
        high[known] = published[known] + base // 2
    low[estimated] = 0.0
    high[estimated] = max(below - 1, 0)
    return low, high


def _split_units(
    index: pd.Index, split_groups: pd.Series | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each area's error unit (areas apportioned from one 2011 area share its error) and the
    members of every split group with two or more assessed areas."""
    units = np.arange(len(index))
    groups: list[np.ndarray] = []
    if split_groups is None or len(split_groups) == 0:
        return units, groups
    group = pd.Series(index.map(split_groups), index=range(len(index))).dropna()
    for _, members in group.groupby(group, sort=True):
        positions = members.index.to_numpy(np.int64)
        if len(positions) > 1:
            units[positions] = positions[0]
            groups.append(positions)
    _, units = np.unique(units, return_inverse=True)
    return units, groups


def draw_inputs(
    result: SufficiencyResult,
    model: UncertaintyModel,
    *,
    draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    split_groups: pd.Series | None = None,
) -> Draws:
    """``draws`` plausible sets of inputs for ``result``'s assessed areas.

    Population (per error unit and age band ``b``): ``u_b * exp(sigma_b z - sigma_b^2 / 2)``
    with ``sigma_b^2 = log(1 + cv_b^2)``, times a factor shared by each authority when
    ``authority_cv`` is set. Apportionment: each split group's drawn total is divided among its
    areas by Dirichlet shares with mean the point shares and concentration ``k``
    (``split_groups`` maps area code to group, :func:`planning.inputs.splits.split_groups`).
    IDACI: a whole number uniform in :func:`idaci_intervals`. Circuity and the standards'
    ranges: uniform per draw. ``seed`` defaults to :data:`planning.settings.RANDOM_SEED`.
    """
    from planning import settings

    if draws < 1:
        raise ValidationError(f"draws must be at least 1, not {draws}")
    seed = settings.RANDOM_SEED if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    frame = _assessed_frame(result)
    n_all, n = len(frame), len(result.areas)
    bands = _bands(frame)
    units, groups = _split_units(frame.index, split_groups)
    n_units = int(units.max()) + 1 if n_all else 0
    under5 = np.zeros((draws, n_all))
    for column, band in enumerate(AGE_BANDS):
        factor = _lognormal_factors(rng, model.population_cv.get(band, 0.0), (draws, n_units))
        under5 += bands[:, column] * factor[:, units]
    if model.authority_cv > 0 and "utla_code" in frame:
        codes, _ = pd.factorize(frame["utla_code"].astype(str))
        shared = _lognormal_factors(rng, model.authority_cv, (draws, int(codes.max()) + 1))
        under5 *= shared[:, codes]
    kappa = model.apportionment_concentration
    if kappa is not None:
        point = frame["under5"].to_numpy(float)
        for members in groups:
            weights = point[members]
            live = members[weights > 0]
            if len(live) < 2:
                continue
            shares = rng.gamma(kappa * point[live] / point[live].sum(), size=(draws, len(live)))
            total = under5[:, members].sum(axis=1, keepdims=True)
            under5[:, members] = 0.0
            under5[:, live] = total * shares / shares.sum(axis=1, keepdims=True)
    low, high = idaci_intervals(frame.iloc[:n], model)
    width = (high - low + 1).astype(np.int64)
    idaci = low + np.floor(rng.random((draws, n)) * width) if (width > 1).any() else None
    if idaci is None:
        idaci = np.broadcast_to(low, (draws, n)).copy()

    def uniform(bounds: tuple[float, float] | None) -> np.ndarray | None:
        if bounds is None:
            return None
        return rng.uniform(bounds[0], bounds[1], draws)

    return Draws(
        area_index=frame.index,
        under5=under5,
        idaci_children=idaci,
        circuity=uniform(model.circuity),
        reach_km=uniform(model.reach_km),
        load_max=uniform(model.max_under5_per_centre),
        seed=seed,
    )


# --------------------------------------------------------------------------------------------
# The array core


def _rate_colour(share: np.ndarray, green: float, amber: float) -> np.ndarray:
    return np.where(share >= green, 0, np.where(share >= amber, 1, 2)).astype(np.int8)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def propagate(network: Network, draws: Draws, *, standards: Standards | None = None) -> Propagated:
    """Figures and verdict rules for every draw, localities then the authority.

    The assessment's arithmetic (:func:`planning.analysis.sufficiency_verdicts.verdict`) on arrays:
    sums by locality are one sparse product per quantity; a centre's load ``L_c`` sums every
    assessed area nearest to it, ``r_c`` its residents; centre equivalents ``sum r_c / L_c``
    (an idle centre counts 1 if the council's, 0 if a neighbour's); under-5s per centre =
    residents' under-5s / equivalents.
    """
    s = standards or network.standards
    if not draws.area_index.equals(network.area_index):
        raise ValidationError(
            "draws: the assessed areas differ from the network's; draw them from the same "
            "assessment (same areas and neighbours, same order)"
        )
    n, k = network.residents, draws.n
    n_loc = len(network.localities)
    n_centres = len(network.centres)
    groups = n_loc + 1
    resident_centre = network.area_centre[:n]
    rows = np.arange(n)
    # residents -> locality and authority (last column)
    to_group = sparse.csr_matrix(
        (
            np.ones(2 * n),
            (
                np.concatenate([rows, rows]),
                np.concatenate([network.locality_codes[resident_centre], np.full(n, n_loc)]),
            ),
        ),
        shape=(n, groups),
    )
    listed = network.area_centre >= 0
    all_rows = np.flatnonzero(listed)
    to_centre = sparse.csr_matrix(
        (np.ones(len(all_rows)), (all_rows, network.area_centre[listed])),
        shape=(len(network.area_index), n_centres),
    )

    def by_group(values: np.ndarray) -> np.ndarray:
        return np.asarray((to_group.T @ values.T).T)

    u_all = draws.under5
    u = u_all[:, :n]
    reach = network.within_reach[None, :]
    if draws.reach_km is not None:
        drawn = draws.reach_km[:, None] * 1_000.0
        reach_m = np.where(network.rural_own_standard[None, :], network.reach_m[None, :], drawn)
        reach = network.distance_m[None, :] <= reach_m
    walk_metres = s.walk_minutes * s.walk_speed_kmh * 1_000.0 / 60.0
    # Along a street network the distance is the walk itself: the model's circuity range (a
    # stand-in for unknown streets) does not apply, and walking minutes use no factor.
    if network.street_circuity is not None:
        circuity = np.full(k, network.street_circuity)
    else:
        circuity = draws.circuity if draws.circuity is not None else np.full(k, s.walk_circuity)
    # distance x circuity / speed <= minutes  <=>  distance <= minutes x speed / circuity
    walk = network.distance_m[None, :] <= (walk_metres / circuity)[:, None]
    deprived = network.deprived[None, :]
    under5 = by_group(u)
    within = by_group(u * reach)
    deprived_u5 = by_group(u * deprived)
    deprived_within = by_group(u * (deprived & reach))
    within_walk = by_group(u * walk)
    idaci = by_group(draws.idaci_children)
    idaci_within = by_group(draws.idaci_children * reach)

    load = np.asarray((to_centre.T @ u_all.T).T)  # (draws, centres): all authorities
    resident_load = np.asarray((to_centre[:n].T @ u.T).T)
    own_idle = (~network.centre_neighbour).astype(float)
    share = np.where(load > 0, resident_load / np.where(load > 0, load, 1.0), own_idle[None, :])
    served = np.zeros(n_centres, dtype=bool)
    served[resident_centre] = True
    authority_share = np.where(load > 0, share, 1.0)[:, served].sum(axis=1)
    locality_share = np.zeros((k, n_loc))
    for code in range(n_loc):
        locality_share[:, code] = share[:, network.locality_codes == code].sum(axis=1)
    equivalents = np.column_stack([locality_share, authority_share])
    per_centre = _ratio(under5, equivalents)
    largest = np.zeros((k, groups))
    for code in range(n_loc):
        members = network.locality_codes == code
        largest[:, code] = load[:, members].max(axis=1) if members.any() else 0.0
    largest[:, n_loc] = load[:, served].max(axis=1) if served.any() else 0.0

    load_max = draws.load_max[:, None] if draws.load_max is not None else s.load_max
    share_deprived = _ratio(deprived_within, deprived_u5)
    share_all = _ratio(within, under5)
    rules = np.zeros((len(RULES), k, groups), dtype=np.int8)
    rules[0] = np.where(
        deprived_u5 > 0,
        _rate_colour(np.nan_to_num(share_deprived, nan=1.0), s.deprived_green, s.deprived_amber),
        0,
    )
    rules[1] = _rate_colour(np.where(under5 > 0, share_all, 1.0), s.all_green, s.all_amber)
    per = np.nan_to_num(per_centre, nan=0.0)
    rules[2] = np.where(
        equivalents > 0,
        np.where(per > s.red_load_factor * load_max, 2, np.where(per > load_max, 1, 0)),
        0,
    )
    rules[3] = np.where(largest > load_max, 1, 0)
    figures = {
        "under5": under5,
        "share_within_reach": share_all,
        "share_deprived_within_reach": share_deprived,
        "share_within_walk": _ratio(within_walk, under5),
        "share_idaci_within_reach": _ratio(idaci_within, idaci),
        "idaci_children": idaci,
        "under5_per_centre": per_centre,
        "largest_centre_load": largest,
    }
    return Propagated(
        groups=pd.Index([*network.localities, "authority"]),
        figures=figures,
        rules=rules,
        verdict=rules.max(axis=0),
        centre_load=load,
    )


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
