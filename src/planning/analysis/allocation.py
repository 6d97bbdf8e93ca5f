"""Location-allocation: which network of sites would serve need best.

Three classic models on a candidate set (existing centres, every small area's point, and an
optional candidates file such as schools or libraries), solved exactly as mixed-integer
programmes by HiGHS through :func:`scipy.optimize.milp`, built directly as sparse matrices
(:mod:`planning.analysis.allocation_program`, which also says how the models are kept small):

* ``coverage`` -- maximal covering location (Church and ReVelle, 1974): with ``p`` sites, cover
  the most weighted under-5s within the reach standard;
* ``median`` -- p-median (Hakimi, 1964; ReVelle and Swain, 1970): with ``p`` sites, least
  weighted distance from each area to its assigned site;
* ``cover-all`` -- location set covering (Toregas et al., 1971): fewest sites so that every area
  is within the reach standard.

Options: lock the existing centres open, limit closures of existing centres, require a share of
the under-5s in the 30% most deprived areas to be within reach (equity), and keep every site's
assigned under-5s inside the 600-1,200 load band. A request that cannot be met raises
:class:`planning.InfeasibleError` saying which constraint fails and by how much.

This module is the optimiser's API: the solver (:class:`LocationAllocation`), the candidate sites
and :func:`optimise` on frames.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._errors import InfeasibleError, ValidationError
from planning._validate import require_same_crs
from planning.analysis.allocation_program import _Program
from planning.analysis.distance import area_points
from planning.analysis.scenarios import Comparison, Scenario, ScenarioEngine, centre_table
from planning.analysis.sufficiency import area_reach_standard, assessed_areas, assessed_need
from planning.standards import Standards

__all__ = [
    "OBJECTIVES",
    "WEIGHTS",
    "LocationAllocation",
    "OptimisationResult",
    "candidate_sites",
    "optimise",
]

OBJECTIVES = ("coverage", "median", "cover-all")


def _need_weighted(areas: pd.DataFrame, need: pd.DataFrame) -> np.ndarray:
    return (areas["under5"] + need["under5_income_deprived"]).to_numpy(float)


#: Demand weights: name -> function of (areas, need measures). ``need_weighted`` counts every
#: under-5 once and those in income-deprived families twice (under5 + under5_income_deprived),
#: so the model favours the families in greatest need without ignoring the rest.
WEIGHTS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]] = {
    "need_weighted": _need_weighted,
    "under5": lambda areas, need: areas["under5"].to_numpy(float),
    "under5_income_deprived": lambda areas, need: need["under5_income_deprived"].to_numpy(float),
}


class LocationAllocation:
    """Solve a location-allocation model on a dense cost matrix (scikit-learn conventions).

    Parameters
    ----------
    objective : {'coverage', 'median', 'cover-all'}
    p : int, optional
        Number of sites (required for coverage and median; an upper limit for cover-all).
    service_metres : float or array of float
        The reach standard: an area is covered by a site no further than this; one radius, or
        one per area (:func:`planning.analysis.sufficiency.area_reach_standard`: rural areas
        may have a looser standard), the same as the assessment's reach flags.
    lock : array of bool, optional
        Sites that must be open (e.g. the existing centres).
    existing : array of bool, optional
        Which sites are existing centres (for ``max_closures``).
    max_closures : int, optional
        At most this many existing centres may close.
    min_deprived_share : float, optional
        At least this share of the under-5s in the 30% most deprived areas must be covered.
    load_band : (float, float), optional
        Every open site's assigned under-5s must lie in this band (capacitated assignment: areas
        are then assigned to meet the band, not necessarily to their nearest site). Fixed sites
        (other authorities' centres) are not held to it.
    fixed : array of bool, optional
        Sites that are open whatever the model chooses and are not the authority's to choose:
        other authorities' centres across the boundary. They serve demand, and do not count
        towards ``p``, locks or closures.
    must_cover : array of bool, optional
        The areas ``cover-all`` must cover and ``min_deprived_share`` counts (the authority's
        own residents); default every area. Neighbouring areas still count as demand for
        coverage, the median and the load band.
    time_limit : float
        Seconds the solver may take. If it runs out with a network in hand, that network is
        kept with a warning and ``gap_`` says how far from proven optimal it may be.
    nearest_sites : int, optional
        p-median only: the ``k`` nearest sites each area starts with (default
        ``max(16, 2 * sites / p)``). The answer is exact whatever ``k``: areas that would be
        served beyond their ``k`` nearest get ``k`` doubled and the model is solved again.

    Attributes
    ----------
    selected_ : ndarray of int
        Indices of the chosen sites.
    objective_value_ : float
        Covered weight (coverage), weighted metres (median) or number of sites (cover-all).
    assignment_ : ndarray of int
        Site index serving each area: the nearest chosen site by the workbench's one rule
        (:func:`planning.analysis.distance.nearest`: ties go to the site listed first), or the
        capacitated assignment as solved (so its loads are the ones the band was held to).
    covered_share_ : float
        Share of the total weight within ``service_metres`` of a chosen site.
    solve_seconds_ : float
    gap_ : float
        Relative gap between the network found and the solver's proven bound (0 when optimal).
    loads_ : ndarray of float
        Under-5s served by each site (all sites, 0 when closed) as the programme solved them:
        with the load band these are the loads it held to the band (an area can be shared
        between two sites at the band's edge); without assignment, by ``assignment_``.
    split_areas_ : int
        Areas the solved assignment shares between sites (0 unless the load band binds).
    rounds_ : int
        Programmes solved (more than 1 when the p-median had to widen ``k``).
    nearest_sites_ : int
        The largest ``k`` used (the number of sites for models that are not pruned by ``k``).
    """

    def __init__(
        self,
        objective: str = "coverage",
        *,
        p: int | None = None,
        service_metres: float | np.ndarray = 2_500.0,
        lock: np.ndarray | None = None,
        existing: np.ndarray | None = None,
        max_closures: int | None = None,
        min_deprived_share: float | None = None,
        load_band: tuple[float, float] | None = None,
        fixed: np.ndarray | None = None,
        must_cover: np.ndarray | None = None,
        time_limit: float = 120.0,
        nearest_sites: int | None = None,
    ) -> None:
        self.objective = objective
        self.p = p
        self.service_metres = service_metres
        self.lock = lock
        self.existing = existing
        self.max_closures = max_closures
        self.min_deprived_share = min_deprived_share
        self.load_band = load_band
        self.fixed = fixed
        self.must_cover = must_cover
        self.time_limit = time_limit
        self.nearest_sites = nearest_sites

    # -- checks that need no solver ----------------------------------------------------------
    def _precheck(self, cost: np.ndarray, weights: np.ndarray, under5: np.ndarray) -> None:
        n_sites = cost.shape[1] - self._n_fixed
        if self.objective not in OBJECTIVES:
            raise ValidationError(
                f"unknown objective '{self.objective}'; valid: {', '.join(OBJECTIVES)}"
            )
        if self.objective != "cover-all" and self.p is None:
            raise ValidationError(f"objective '{self.objective}' needs the number of sites p")
        if self.p is not None and not 1 <= self.p <= n_sites:
            raise InfeasibleError(
                f"p = {self.p}: must be between 1 and the {n_sites} candidate sites"
            )
        if np.any(weights < 0) or np.any(under5 < 0):
            raise ValidationError("demand weights and under-5 counts must not be negative")
        if self.min_deprived_share is not None and not 0 <= self.min_deprived_share <= 1:
            raise ValidationError(
                f"min_deprived_share must be a share between 0 and 1, found {self.min_deprived_share}"
            )
        locked = int(np.sum(self.lock)) if self.lock is not None else 0
        if self.p is not None and locked > self.p:
            raise InfeasibleError(
                f"locking the {locked} existing centres needs p >= {locked}; p = {self.p} is "
                f"short by {locked - self.p}"
            )
        if self.max_closures is not None and self.existing is not None and self.p is not None:
            must_keep = int(np.sum(self.existing)) - self.max_closures
            if must_keep > self.p:
                raise InfeasibleError(
                    f"closing at most {self.max_closures} of {int(np.sum(self.existing))} existing "
                    f"centres keeps {must_keep} open, more than p = {self.p} (short by "
                    f"{must_keep - self.p})"
                )
        if self.load_band is not None and self.p is not None and not self._n_fixed:
            low, high = self.load_band
            total = float(under5.sum())
            if self.p * high < total:
                raise InfeasibleError(
                    f"load band: {self.p} sites x {high:,.0f} under-5s = {self.p * high:,.0f}, fewer "
                    f"than the {total:,.0f} under-5s to serve; need p >= {math.ceil(total / high)}"
                )
            if self.objective != "cover-all" and self.p * low > total:
                raise InfeasibleError(
                    f"load band: {self.p} sites x {low:,.0f} under-5s = {self.p * low:,.0f}, more "
                    f"than the {total:,.0f} under-5s; need p <= {math.floor(total / low)}"
                )
        if self.objective == "cover-all":
            reachable = self._cover(cost).any(axis=1) | ~self._must_cover(cost.shape[0])
            if not reachable.all():
                worst = np.flatnonzero(~reachable)
                gap = cost[worst].min(axis=1)
                raise InfeasibleError(
                    f"cover-all: {len(worst)} area(s) are beyond {self._radius_label(worst)} "
                    f"of every candidate site (the nearest is {gap.max() / 1000:.1f} km away); add "
                    "candidate sites there or loosen the reach standard"
                )

    @property
    def _n_fixed(self) -> int:
        return int(np.sum(self.fixed)) if self.fixed is not None else 0

    def _must_cover(self, n_areas: int) -> np.ndarray:
        if self.must_cover is None:
            return np.ones(n_areas, dtype=bool)
        return np.asarray(self.must_cover, dtype=bool)

    def _cover(self, cost: np.ndarray) -> np.ndarray:
        """Areas x sites: whether the site is within the area's reach standard (``<=``, as in
        :func:`planning.analysis.sufficiency.reach_flags`)."""
        radius = np.asarray(self.service_metres, dtype=float)
        if radius.ndim == 1:
            if len(radius) != cost.shape[0]:
                raise ValidationError(
                    f"service_metres gives {len(radius)} radii for {cost.shape[0]} areas; give "
                    "one per area (in the cost matrix's row order) or a single number"
                )
            radius = radius[:, None]
        return cost <= radius

    def _radius_label(self, areas: np.ndarray | None = None) -> str:
        """The reach standard in words: '2.5 km', or '2.5-4 km' when it differs by area."""
        radius = np.atleast_1d(np.asarray(self.service_metres, dtype=float))
        if areas is not None and radius.size > 1:
            radius = radius[areas]
        low, high = float(radius.min()) / 1000, float(radius.max()) / 1000
        return f"{low:g} km" if low == high else f"{low:g}-{high:g} km (each area's standard)"

    def solve(
        self,
        cost: np.ndarray,
        weights: np.ndarray,
        *,
        under5: np.ndarray | None = None,
        deprived: np.ndarray | None = None,
    ) -> LocationAllocation:
        """Solve the model. ``cost`` is areas x sites in metres; ``weights`` the demand weight
        of each area; ``under5`` and ``deprived`` feed the load band and equity constraints."""
        cost = np.asarray(cost, dtype=float)
        weights = np.asarray(weights, dtype=float)
        under5 = weights if under5 is None else np.asarray(under5, dtype=float)
        self._precheck(cost, weights, under5)
        start = time.perf_counter()
        status, chosen, assignment = self._solve_milp(cost, weights, under5, deprived)
        self.solve_seconds_ = time.perf_counter() - start
        if status == "Time limit":
            warnings.warn(
                f"the solver stopped at its time limit of {self.time_limit:g} s; the network "
                f"found is within {100 * self.gap_:.2f}% of the best possible, not proven "
                "optimal; raise time_limit for a proven optimum",
                stacklevel=2,
            )
        elif status != "Optimal":
            raise self._diagnose(cost, weights, under5, deprived, status)
        self.selected_ = chosen
        self.assignment_ = assignment
        covered = self._cover(cost)[:, chosen].any(axis=1)
        self.covered_share_ = float(weights[covered].sum() / max(weights.sum(), 1e-12))
        if self.fixed is not None:
            # The authority's choice: the sites it may open or close, not its neighbours'.
            self.selected_ = chosen[~np.asarray(self.fixed, bool)[chosen]]
        if self.objective == "coverage":
            self.objective_value_ = float(weights[covered].sum())
        elif self.objective == "median":
            self.objective_value_ = float(
                (weights * cost[np.arange(len(weights)), assignment]).sum()
            )
        else:
            self.objective_value_ = float(len(self.selected_))
        return self

    def _solve_milp(
        self,
        cost: np.ndarray,
        weights: np.ndarray,
        under5: np.ndarray,
        deprived: np.ndarray | None,
    ) -> tuple[str, np.ndarray, np.ndarray]:
        """Build and solve the programme: its status, the chosen sites and each area's site.

        The p-median is solved on each area's ``k`` nearest sites with an exact check (see
        :meth:`_pairs`): while any area would rather be served beyond its ``k`` nearest, those
        areas' ``k`` is doubled and the programme solved again.
        """
        n_areas, n_sites = cost.shape
        k = np.full(n_areas, self._initial_k(n_sites), dtype=int)
        self.rounds_ = 0
        while True:
            self.rounds_ += 1
            program = _Program.build(self, cost, weights, under5, deprived, k=k)
            status, solution = program.solve(self.time_limit)
            if solution is None:
                return status, np.array([], dtype=int), np.array([], dtype=int)
            beyond = program.beyond(solution)
            if not beyond.size:
                break
            k[beyond] = np.minimum(2 * k[beyond], n_sites)
        self.status_ = status
        self.gap_ = program.gap
        self.nearest_sites_ = int(k.max())
        if self.existing is not None and np.any(self.existing) and self.lock is None:
            # Many networks are often equally good (e.g. full coverage). Among them, keep as
            # many current centres as possible: a second solve with the first objective held at
            # its optimum (lexicographic optimisation), so the primary optimum is unchanged. A
            # relative slack well inside the solver's tolerance keeps the held objective
            # feasible after rounding; a worse network differs by at least one area's weight.
            held = program.objective_value(solution)
            second = program.hold(held + 1e-6 * max(abs(held), 1.0), prefer=self.existing)
            status2, preferred = second.solve(self.time_limit)
            if preferred is not None and status2 == "Optimal":
                program, solution = second, preferred
        chosen, assignment = program.read(solution, cost)
        # The loads as solved: with the load band an area may be split between two sites at
        # the band's edge (the assignment is continuous), so the band holds for these shares,
        # while ``assignment_`` gives each area's larger share.
        self.loads_ = program.loads(solution, under5, assignment)
        self.split_areas_ = program.split_areas(solution)
        return status, chosen, assignment

    def _initial_k(self, n_sites: int) -> int:
        """How many nearest sites each area starts with in the p-median (all of them otherwise)."""
        if self.objective != "median" or self.load_band is not None:
            return n_sites
        if self.nearest_sites is not None:
            return max(1, min(int(self.nearest_sites), n_sites))
        # With p sites spread over the candidates, an area's nearest open site is typically
        # among its n_sites / p nearest candidates; twice that rarely needs a second round and
        # keeps the programme small (Derby, p = 10: k = 34 solves in one round, 6x faster than
        # all 162 sites; k = 16 needs 4 rounds).
        p = max(int(self.p or 1) + self._n_fixed, 1)
        return min(n_sites, max(16, 2 * math.ceil(n_sites / p)))

    @property
    def _needs_assignment(self) -> bool:
        """Whether areas are assigned to sites: only the median and the load band need it."""
        # Areas x sites variables are the bulk of the programme; leave them out when unused.
        return self.objective == "median" or self.load_band is not None

    def _diagnose(
        self,
        cost: np.ndarray,
        weights: np.ndarray,
        under5: np.ndarray,
        deprived: np.ndarray | None,
        status: str,
    ) -> InfeasibleError:
        """Explain an infeasible request: which constraint, and by how much."""
        if status == "Not Solved":
            # Out of time before any network was found: not infeasible, and the checks below
            # would only run out of time again.
            return InfeasibleError(
                f"the solver found no network within its time limit of {self.time_limit:g} s "
                f"({cost.shape[0]:,} areas x {cost.shape[1]:,} sites); raise time_limit"
            )
        if self.objective == "cover-all" and self.p is not None:
            relaxed = LocationAllocation(
                "cover-all",
                service_metres=self.service_metres,
                lock=self.lock,
                fixed=self.fixed,
                must_cover=self.must_cover,
                time_limit=self.time_limit,
            )
            try:
                needed = len(relaxed.solve(cost, weights, under5=under5).selected_)
            except InfeasibleError:
                needed = None
            if needed is not None and needed > self.p:
                return InfeasibleError(
                    f"covering every area within {self._radius_label()} needs at least "
                    f"{needed} sites; p = {self.p} is short by {needed - self.p}"
                )
        if self.min_deprived_share is not None and deprived is not None and self.p is not None:
            best = LocationAllocation(
                "coverage",
                p=self.p,
                service_metres=self.service_metres,
                lock=self.lock,
                existing=self.existing,
                max_closures=self.max_closures,
                fixed=self.fixed,
                time_limit=self.time_limit,
            )
            counted = np.asarray(deprived, bool) & self._must_cover(len(under5))
            deprived_weight = np.where(counted, under5, 0.0)
            try:
                best.solve(cost, deprived_weight, under5=under5)
                reachable = best.objective_value_ / max(deprived_weight.sum(), 1e-12)
            except InfeasibleError:
                reachable = None
            if reachable is not None and reachable < self.min_deprived_share:
                return InfeasibleError(
                    f"equity: with {self.p} sites at most {100 * reachable:.1f}% of under-5s in the "
                    f"30% most deprived areas can be within {self._radius_label()}; "
                    f"{100 * self.min_deprived_share:.1f}% was asked for (short by "
                    f"{100 * (self.min_deprived_share - reachable):.1f} points)"
                )
        if self.load_band is not None:
            return InfeasibleError(
                f"no network of {self.p} sites keeps every site's under-5s within "
                f"{self.load_band[0]:,.0f}-{self.load_band[1]:,.0f} together with the other "
                "constraints; widen the band or change p"
            )
        return InfeasibleError(
            f"the solver found no solution ({status}) for the constraints given; relax "
            "lock/closure/equity options"
        )


@dataclass(frozen=True)
class OptimisationResult:
    """The chosen network, the model that chose it, and its comparison with the current one."""

    chosen: gpd.GeoDataFrame
    model: LocationAllocation
    sites: gpd.GeoDataFrame
    comparison: Comparison
    #: The site id serving each assessed area (the authority's, then its neighbours') as the
    #: model solved it: with load bands, the capacitated assignment the band was held to, which
    #: can differ from the comparison's nearest-centre evaluation.
    assignment: pd.Series | None = None


def candidate_sites(
    areas: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    candidates: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The candidate set: existing centres, then any candidates file, then every area's point.

    Returns a GeoDataFrame indexed by ``site_id`` with ``name``, ``existing``, ``neighbour``
    (another authority's centre: always open, not the authority's to choose) and ``source``.
    """
    current = centre_table(centres)
    parts = [
        pd.DataFrame(
            {
                "name": current["name"],
                "existing": True,
                "neighbour": current["neighbour"].to_numpy(bool),
                "source": "existing",
                "x": current["easting"],
                "y": current["northing"],
            },
            index=current.index,
        )
    ]
    if candidates is not None and len(candidates):
        names = candidates["name"] if "name" in candidates else candidates.index.to_series()
        parts.append(
            pd.DataFrame(
                {
                    "name": names.astype(str).to_numpy(),
                    "existing": False,
                    "neighbour": False,
                    "source": "candidates",
                    "x": candidates.geometry.x.to_numpy(),
                    "y": candidates.geometry.y.to_numpy(),
                },
                index=candidates.index.astype(str),
            )
        )
    xy = area_points(areas)
    labels = areas["area_name"] if "area_name" in areas else areas.index.to_series()
    parts.append(
        pd.DataFrame(
            {
                "name": [f"Site near {label}" for label in labels],
                "existing": False,
                "neighbour": False,
                "source": "area point",
                "x": xy[:, 0],
                "y": xy[:, 1],
            },
            index=pd.Index([f"LSOA:{code}" for code in areas.index]),
        )
    )
    sites = pd.concat(parts)
    if sites.index.duplicated().any():
        dup = sites.index[sites.index.duplicated()][0]
        raise ValidationError(f"candidate site id '{dup}' is used twice; ids must be unique")
    sites.index.name = "site_id"
    return gpd.GeoDataFrame(
        sites.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(sites.x, sites.y),
        crs=centres.crs,
    )


def optimise(
    areas: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    objective: str = "coverage",
    p: int | None = None,
    standards: Standards | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    lock_existing: bool = False,
    max_closures: int | None = None,
    min_deprived_share: float | None = None,
    load_bands: bool = False,
    weight: str = "need_weighted",
    neighbours: gpd.GeoDataFrame | None = None,
    distances: Any = None,
) -> OptimisationResult:
    """Choose sites for an authority and compare the chosen network with the current one.

    With ``neighbours`` (other authorities' areas near the boundary, as
    :func:`planning.inputs.neighbours.neighbour_areas` gives) and other authorities' centres in
    ``centres`` (flagged ``neighbour``), border families count as demand and use the nearest
    centre whichever council runs it: other authorities' centres stay open and do not count
    towards ``p`` or ``max_closures``; ``cover-all`` and ``min_deprived_share`` are about the
    authority's own residents.

    The chosen network is returned as a centres frame (existing centres keep their ids, names
    and localities; new sites get ids ``NEW01``.. and join the locality of the nearest existing
    centre) that :func:`planning.inputs.centres.write_centres` writes and ``sufficiency``/``scenario``
    read back. With ``load_bands`` the chosen frame also has ``under5_assigned``: each site's
    under-5s (all residents it serves, either side of the boundary) under the solved assignment,
    the loads the band was held to; the comparison's tables give the nearest-centre loads.

    With ``distances`` (:class:`planning.analysis.network_distance.NetworkDistances`), the cost
    matrix is network metres instead of the straight line (searched over the whole network for
    the median objective, which weighs every area's distance; within the largest reach
    otherwise, which is all coverage needs), and the chosen network is evaluated on it too.
    """
    if standards is None:
        from planning.standards import load_standards

        standards = load_standards()
    if weight not in WEIGHTS:
        raise ValidationError(f"unknown weight '{weight}'; valid: {', '.join(WEIGHTS)}")
    require_same_crs(areas, centres)
    sites = candidate_sites(areas, centres, candidates=candidates)
    assessed = assessed_areas(areas, neighbours)
    xy = area_points(assessed)
    site_xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    if distances is not None:
        # The median weighs every distance: search the whole network. Otherwise only pairs
        # within the largest reach standard count (these standards may differ from the run's).
        reach = float(area_reach_standard(assessed, standards).max())
        limit = np.inf if objective == "median" else max(distances.max_metres, reach)
        cost = distances.matrix(xy, site_xy, max_metres=limit)
        # Coverage and cover-all compare costs with the reach only: beyond it, any large number.
        cost = np.where(np.isfinite(cost), cost, 1e9)
    else:
        cost = np.hypot(xy[:, 0, None] - site_xy[None, :, 0], xy[:, 1, None] - site_xy[None, :, 1])
    need = assessed_need(areas, neighbours, standards)
    fixed = sites["neighbour"].to_numpy(bool)
    existing = sites["existing"].to_numpy(bool) & ~fixed
    resident = np.arange(len(assessed)) < len(areas)
    model = LocationAllocation(
        objective,
        p=p,
        service_metres=area_reach_standard(assessed, standards),
        lock=existing if lock_existing else None,
        existing=existing,
        max_closures=max_closures,
        min_deprived_share=min_deprived_share,
        load_band=(standards.load_min, standards.load_max) if load_bands else None,
        fixed=fixed if fixed.any() else None,
        must_cover=resident,
    ).solve(
        cost,
        WEIGHTS[weight](assessed, need),
        under5=assessed["under5"].to_numpy(float),
        deprived=need["most_deprived_30"].to_numpy(bool),
    )
    chosen_sites = sites.iloc[model.selected_]
    scenario = Scenario(f"optimised {objective}" + (f", p = {p}" if p else ""))
    for centre_id in sites.index[existing]:
        if centre_id not in chosen_sites.index:
            scenario = scenario.close(centre_id)
    new = chosen_sites[~chosen_sites["existing"]]
    for number, (_site_id, site) in enumerate(new.iterrows(), start=1):
        scenario = scenario.open(
            f"NEW{number:02d}",
            easting=site.geometry.x,
            northing=site.geometry.y,
            name=f"Proposed: {site['name']}",
        )
    engine = ScenarioEngine(
        areas,
        centres,
        standards=standards,
        area_candidates=False,
        neighbours=neighbours,
        distances=distances,
    )
    comparison = engine.compare(scenario)
    # The council's network: other authorities' centres are not the authority's to list.
    table = comparison.after.centres
    table = table[~table["neighbour"].astype(bool)]
    loads = ["under5", "under5_residents", "under5_other_authorities", "load_status"]
    chosen = gpd.GeoDataFrame(
        table.drop(columns=["easting", "northing", *loads]).assign(
            source=np.where(table["source"] == "scenario", "optimised", table["source"])
        ),
        geometry=gpd.points_from_xy(table["easting"], table["northing"]),
        crs=centres.crs,
    )
    # Chosen sites under their ids in the chosen frame (new sites were renamed NEW01..).
    chosen_id = pd.Series(sites.index, index=sites.index)
    chosen_id[new.index] = [f"NEW{number:02d}" for number in range(1, len(new) + 1)]
    assignment = pd.Series(
        chosen_id.to_numpy()[model.assignment_], index=assessed.index, name="site_id"
    )
    if load_bands:
        solved = pd.Series(model.loads_, index=chosen_id.to_numpy())
        chosen["under5_assigned"] = solved.reindex(chosen.index).to_numpy(float)
    return OptimisationResult(
        chosen=chosen, model=model, sites=sites, comparison=comparison, assignment=assignment
    )
