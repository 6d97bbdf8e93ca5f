"""What-if scenarios: open, close, move or resize centres, change a standard, and compare.

A scenario is a small readable YAML file, or the same structure built in Python
(``Scenario("x").close("CC03").open("NEW1", postcode="DE21 4ET")``); its format, with an
example of every action, is in :mod:`planning.analysis.scenario_actions`.

:class:`ScenarioEngine` precomputes the distance from every small area to every current and
candidate site once, so a scenario is re-evaluated with array operations only (milliseconds for an
authority), using the same measures as :func:`planning.analysis.sufficiency.assess_sufficiency`.

The scenario itself (its actions, file format and effect on a centre table) is
:mod:`planning.analysis.scenario_actions`; what an evaluation gives is
:mod:`planning.analysis.scenario_results`; setting two evaluations side by side is
:mod:`planning.analysis.scenario_comparison`. This module evaluates, and re-exports the others,
so the whole what-if API is imported from here. The engine's array path (a plain scenario
applied to the current network's arrays, and its headline sums) is
:mod:`planning.analysis.scenario_arrays`; its searches beyond the reach along a street network
are :mod:`planning.analysis.scenario_search`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning._validate import require_same_crs
from planning.analysis.distance import area_points, metres_between, nearest_distance
from planning.analysis.distance import nearest as nearest_centre
from planning.analysis.need import BAND_LABELS
from planning.analysis.scenario_actions import (
    ACTIONS,
    CENTRE_FIELDS,
    Action,
    Scenario,
    ScenarioFile,
    apply_scenario,
    centre_table,
    load_scenario,
    scenario_from_dict,
    scenario_json_schema,
    table_to_centres,
)
from planning.analysis.scenario_arrays import NetworkArrays, Sites
from planning.analysis.scenario_comparison import HEADLINES, Comparison, compare, headlines
from planning.analysis.scenario_results import Evaluation, Headline
from planning.analysis.scenario_search import StreetSearch
from planning.analysis.sufficiency import (
    SufficiencyResult,
    _validate_centres,
    area_reach_standard,
    assessed_areas,
    assessed_need,
    reach_flags,
)
from planning.analysis.sufficiency_counts import count_matrix, group_sums, shares_frame
from planning.analysis.sufficiency_verdicts import authority_figures, load_status, locality_table
from planning.inputs.areas import authority_boundary, within_authority
from planning.standards import Standards

# The scenario's definition and its comparison live in their own modules; this one evaluates,
# and is the one place to import the whole what-if API from.
__all__ = [
    "ACTIONS",
    "CENTRE_FIELDS",
    "HEADLINES",
    "Action",
    "Comparison",
    "Evaluation",
    "Headline",
    "Scenario",
    "ScenarioEngine",
    "ScenarioFile",
    "apply_scenario",
    "centre_table",
    "compare",
    "headlines",
    "load_scenario",
    "scenario_from_dict",
    "scenario_json_schema",
    "single_closures",
    "table_to_centres",
]


#: Groups of sites whose residents' nearest metres the engine keeps along a street network
#: (:meth:`ScenarioEngine.resident_nearest`): a dashboard session's changes, each a few
#: kilobytes per group.
_GROUPS_KEPT = 256


class ScenarioEngine:
    """Evaluate many scenarios quickly for one authority.

    On construction, the distances from every assessed area's point (the authority's and its
    ``neighbours``') to every current centre and every candidate site (``candidates``, plus
    each of the authority's area points when ``area_candidates``) are computed once
    (EPSG:27700 metres). A scenario then costs an ``argmin`` over the open sites' columns and a
    few array sums. New points (a postcode, a click) get a column on first use.

    Parameters
    ----------
    areas : GeoDataFrame
        As for :func:`planning.analysis.sufficiency.assess_sufficiency`.
    centres : GeoDataFrame
        The current network (neighbouring authorities' centres flagged ``neighbour``).
    standards : Standards, optional
    candidates : GeoDataFrame, optional
        Extra candidate sites (points, EPSG:27700), e.g. schools or libraries.
    area_candidates : bool
        Also precompute each of the authority's area points as a candidate site: an
        ``areas x areas`` block, O(n^2) in memory (about 9 GB for England), so off by default;
        a site at an area point gets its column on first use either way.
    neighbours : GeoDataFrame, optional
        Other authorities' areas near the boundary, counted in centre loads only (as in
        :func:`planning.analysis.sufficiency.assess_sufficiency`).
    distances : NetworkDistances, optional
        Measure along a street network
        (:class:`planning.analysis.network_distance.NetworkDistances`) instead of the straight
        line: the matrix is network metres (``inf`` beyond the largest reach, except each
        area's nearest site), a new site is snapped to the network when first seen, and
        walking minutes take no circuity factor.
    """

    def __init__(
        self,
        areas: gpd.GeoDataFrame,
        centres: gpd.GeoDataFrame,
        *,
        standards: Standards | None = None,
        candidates: gpd.GeoDataFrame | None = None,
        area_candidates: bool = False,
        neighbours: gpd.GeoDataFrame | None = None,
        distances: Any = None,
    ) -> None:
        if standards is None:
            from planning.standards import load_standards

            standards = load_standards()
        _validate_centres(centres)
        require_same_crs(areas, centres)
        self.areas = areas
        self.neighbours = neighbours if neighbours is not None and len(neighbours) else None
        self.assessed = assessed_areas(areas, self.neighbours)
        self.residents = len(areas)
        self.crs = centres.crs
        self.standards = standards
        self.current = centre_table(centres)
        self._boundary: shapely.Geometry | None = None
        # The one point-in-polygon rule, whatever the input frame's column said.
        self.current["in_authority"] = pd.array(
            self._inside(self.current["easting"], self.current["northing"]), dtype="boolean"
        )
        self._need = {self._need_key(standards): assessed_need(areas, self.neighbours, standards)}
        self.area_xy = area_points(self.assessed)
        site_xy = [self.current[["easting", "northing"]].to_numpy(float)]
        if candidates is not None and len(candidates):
            site_xy.append(np.column_stack([candidates.geometry.x, candidates.geometry.y]))
        if area_candidates:
            site_xy.append(self.area_xy[: self.residents])
        xy = np.vstack(site_xy)
        self._columns: dict[tuple[float, float], int] = {}
        for position, (x, y) in enumerate(xy):
            self._columns.setdefault((round(float(x), 1), round(float(y), 1)), position)
        self.distances = distances
        # Distances live in a buffer with room to grow (doubling), so a new site costs one
        # column, not a copy of the whole matrix; ``distance`` and ``site_xy`` are views.
        self._sites = len(xy)
        self._site_buffer = np.empty((len(xy) + 32, 2))
        self._site_buffer[: len(xy)] = xy
        self._distance_buffer = np.empty((len(self.area_xy), len(self._site_buffer)))
        if distances is not None:
            self._distance_buffer[:, : len(xy)] = distances.matrix(self.area_xy, xy)
        else:
            self._distance_buffer[:, : len(xy)] = np.hypot(
                self.area_xy[:, 0, None] - xy[None, :, 0],
                self.area_xy[:, 1, None] - xy[None, :, 1],
            )
        self._static = self._static_arrays(self.assessed)
        # The current network as arrays, which plain scenarios are applied to (the array path).
        self._arrays = NetworkArrays(
            self,
            self.current,
            standards=standards,
            inside=self._inside,
            under5=self._static["under5"],
            band=self._static["band"],
        )
        # Each area's reach standard, and its need flags for headlines, by standards.
        self._reach: dict[tuple[float, float], np.ndarray] = {}
        self._headline_need: dict[tuple[Any, ...], tuple[np.ndarray, float]] = {}
        self._band_index = pd.Index(list(BAND_LABELS), name="deprivation_band")
        # Along a street network: how far each area was searched beyond the reach.
        self._streets = StreetSearch(distances, self.area_xy) if distances is not None else None
        # Residents' metres to the nearest of a group of sites at any distance, by the group's
        # site columns (:meth:`resident_nearest`).
        self._group_nearest: dict[frozenset[int], np.ndarray] = {}
        if self._streets is not None:
            self._streets.past_one_closure(self.distance, self.site_xy, current=len(self.current))
        self.baseline = self.evaluate(Scenario())

    @classmethod
    def from_result(cls, result: SufficiencyResult, **options: Any) -> ScenarioEngine:
        """An engine for a sufficiency result's network, with its neighbouring demand and supply.

        ``options`` are passed on (``candidates``, ``area_candidates``); the standards are the
        result's, and so are its distances (a street network, if it was measured on one).
        """
        supply = result.supply if result.supply is not None else result.centres
        options.setdefault("distances", result.distances)
        return cls(
            result.areas,
            supply,
            standards=result.standards,
            neighbours=result.neighbour_areas,
            **options,
        )

    @staticmethod
    def _need_key(standards: Standards) -> tuple[Any, ...]:
        return (
            standards.need_normaliser,
            tuple(sorted(standards.need_weights.items())),
            tuple(standards.most_deprived_deciles),
        )

    def need_for(self, standards: Standards) -> pd.DataFrame:
        """Need measures of every assessed area under ``standards`` (cached)."""
        key = self._need_key(standards)
        if key not in self._need:
            self._need[key] = assessed_need(self.areas, self.neighbours, standards)
        return self._need[key]

    def _static_arrays(self, areas: pd.DataFrame) -> dict[str, np.ndarray]:
        estimated = areas["idaci_estimated"] if "idaci_estimated" in areas else False
        need = self.need_for(self.standards)
        return {
            "under5": areas["under5"].to_numpy(float),
            "idaci_children": areas["idaci_children"].to_numpy(float),
            "idaci_estimated": np.broadcast_to(np.asarray(estimated, bool), (len(areas),)),
            "band": need["deprivation_band"].cat.codes.to_numpy(),
        }

    def _inside(self, x: Any, y: Any) -> np.ndarray:
        """Whether points lie in the authority (the union of its areas, boundary included):
        :func:`planning.inputs.areas.within_authority`, the assessment's rule."""
        if self._boundary is None:
            self._boundary = authority_boundary(self.areas)
        return within_authority(
            self._boundary, np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        )

    @property
    def distance(self) -> np.ndarray:
        """Metres from every assessed area (rows) to every site seen so far (columns)."""
        return self._distance_buffer[:, : self._sites]

    @property
    def site_xy(self) -> np.ndarray:
        """The sites' easting/northing, one row per column of :attr:`distance`."""
        return self._site_buffer[: self._sites]

    def column(self, easting: float, northing: float) -> int:
        """The distance-matrix column of a site, computing it on first use."""
        key = (round(float(easting), 1), round(float(northing), 1))
        if key not in self._columns:
            if self._sites == self._site_buffer.shape[0]:
                # Full: double the room (amortised O(1) copies per new site).
                size = 2 * self._sites
                sites, distance = self._site_buffer, self._distance_buffer
                self._site_buffer = np.empty((size, 2))
                self._site_buffer[: self._sites] = sites
                self._distance_buffer = np.empty((len(self.area_xy), size))
                self._distance_buffer[:, : self._sites] = distance
            at = self._sites
            if self.distances is not None:
                # Snapped to the network; paths searched only as far as the largest reach.
                self._distance_buffer[:, at] = self.distances.matrix(
                    self.area_xy, [[easting, northing]], complete=False
                )[:, 0]
            else:
                self._distance_buffer[:, at] = np.hypot(
                    self.area_xy[:, 0] - easting, self.area_xy[:, 1] - northing
                )
            self._site_buffer[at] = (easting, northing)
            self._sites += 1
            self._columns[key] = at
        return self._columns[key]

    def resident_nearest(
        self, sites_xy: np.ndarray, groups: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Per group of sites (a boolean mask over ``sites_xy``, ``(m, 2)`` points), each
        resident area's metres to the group's nearest site, at any distance (``inf`` for an
        empty group).

        Straight lines; or along the street network, one search per group of sites
        (:meth:`NetworkDistances.nearest_in_groups`), kept by which sites are in the group, so
        that a change re-searches only the groups it changed (the service figures ask for the
        sites offering each service, near or far). At most :data:`_GROUPS_KEPT` are kept.
        """
        sites_xy = np.asarray(sites_xy, dtype=float).reshape(-1, 2)
        residents = self.area_xy[: self.residents]
        masks = {name: np.asarray(mask, dtype=bool) for name, mask in groups.items()}
        if self.distances is None:
            metres = metres_between(residents, sites_xy)
            return {name: nearest_distance(metres, mask) for name, mask in masks.items()}
        columns = np.array([self.column(x, y) for x, y in sites_xy], dtype=np.int64)
        keys = {name: frozenset(columns[mask].tolist()) for name, mask in masks.items()}
        missing = {key: masks[name] for name, key in keys.items() if key not in self._group_nearest}
        if missing:  # one call: the residents are snapped once for all the new groups
            found = self.distances.nearest_in_groups(
                residents, sites_xy, {str(i): mask for i, mask in enumerate(missing.values())}
            )
            self._group_nearest.update(zip(missing, found.values()))
        out = {name: self._group_nearest[key] for name, key in keys.items()}
        while len(self._group_nearest) > _GROUPS_KEPT:
            del self._group_nearest[next(iter(self._group_nearest))]  # the oldest
        return out

    def evaluate(self, scenario: Scenario) -> Evaluation:
        """Figures for the network after ``scenario`` (the current network if empty).

        The scenario is applied to arrays (as :meth:`headline`; :func:`apply_scenario` decides
        anything out of the ordinary), every figure is summed from arrays, and each table is
        built once from them: about 1 ms of frames, whatever the authority's size.
        """
        sites = self._sites_after(scenario)
        nearest, metres = self._nearest_for(sites)
        standards = sites.standards
        need = self.need_for(standards)
        _, within_reach, within_short, within_walk = reach_flags(
            metres,
            self._reach_for(standards),
            standards,
            circuity=self.distances.circuity if self.distances is not None else None,
        )
        s = self._static
        counts = count_matrix(
            under5=s["under5"],
            idaci_children=s["idaci_children"],
            under5_income_deprived=need["under5_income_deprived"].to_numpy(float),
            deprived=need["most_deprived_30"].to_numpy(bool),
            idaci_estimated=s["idaci_estimated"],
            distance_m=metres,
            within_reach=within_reach,
            within_short=within_short,
            within_walk=within_walk,
        )
        n, k = self.residents, len(sites.ids)
        # Loads from every assessed area; every other figure from the authority's residents.
        loads_all = np.bincount(nearest, weights=s["under5"], minlength=k)
        by_resident = group_sums(counts[:n], nearest[:n], k)
        listed = ~sites.neighbour | (by_resident[:, 12] > 0)
        kept = np.flatnonzero(listed)
        position = np.full(k, -1)
        position[kept] = np.arange(len(kept))
        fields = self._arrays.fields(sites)
        loads = loads_all[kept]
        resident_loads = by_resident[kept, 0]
        names = sites.names[kept]
        localities = locality_table(
            counts[:n],
            position[nearest[:n]],
            fields["locality"][kept],
            loads,
            standards,
            centre_names=names,
            resident_under5=resident_loads,
            neighbour=sites.neighbour[kept],
        )
        figures = authority_figures(
            counts[:n],
            loads,
            standards,
            centre_names=names,
            areas_served=by_resident[kept, 12],
            in_authority=sites.inside[kept],
            resident_under5=resident_loads,
        )
        centres_after = self._centre_frame(
            fields,
            rows=kept,
            under5=loads,
            under5_residents=resident_loads,
            under5_other_authorities=loads - resident_loads,
            load_status=load_status(loads, standards).astype(object),
        )
        # Each area's centre id as text, taken from the few ids (not made from one per area).
        chosen = pd.array(sites.ids, dtype=self.current.index.dtype).take(nearest)
        catchment = pd.DataFrame(
            {"centre_id": chosen, "distance_m": metres}, index=self.assessed.index
        )
        areas = pd.DataFrame(
            {
                "centre_id": chosen[:n],
                "distance_m": metres[:n],
                "within_reach": within_reach[:n],
                "within_short": within_short[:n],
                "within_walk": within_walk[:n],
            },
            index=self.assessed.index[:n],
        )
        bands = shares_frame(
            group_sums(counts[:n], s["band"][:n], len(BAND_LABELS)), self._band_index
        )
        return Evaluation(
            scenario,
            standards,
            figures,
            localities,
            centres_after,
            areas,
            bands,
            catchment,
            fields,
            self,
        )

    # -- the headline path: arrays only ----------------------------------------------------------
    def headline(self, scenario: Scenario) -> Headline:
        """The headline figures of ``scenario`` from arrays, without building frames.

        Equal to :meth:`evaluate`'s ``figures`` (shares within reach, under-5s, centre
        equivalents, under-5s per centre, verdict and reasons), ``bands`` (share within reach by
        deprivation band) and ``centres`` loads, at a fraction of the cost. Closing, opening
        and moving sites, capacity and service changes and standard changes are applied to
        arrays; anything out of the ordinary (an invalid or contradictory action, re-opening a
        closed id) goes through :func:`apply_scenario`, which applies it or raises its usual
        error, so the answers and the errors are the same as :meth:`evaluate`'s.
        """
        sites = self._sites_after(scenario)
        nearest, metres = self._nearest_for(sites)
        deprived, under5_income_deprived = self._need_flags(sites.standards)
        return self._arrays.headline(
            scenario,
            sites,
            nearest,
            metres,
            reach=self._reach_for(sites.standards),
            deprived=deprived,
            under5_income_deprived=under5_income_deprived,
        )

    def headline_table(self, scenarios: list[Scenario]) -> pd.DataFrame:
        """The headline figures of many scenarios side by side, one row each (indexed by the
        scenario's name), from :meth:`headline` alone: a sweep of a dozen scenarios costs a few
        milliseconds and builds no table but this one.

        Columns: ``share_within_reach``, ``share_deprived_within_reach``,
        ``under5_beyond_reach`` (the authority's under-5s beyond the reach standard),
        ``under5_per_centre`` (per centre equivalent) and the verdict ``rag``.
        """
        rows = []
        for scenario in scenarios:
            figures = self.headline(scenario)
            rows.append(
                {
                    "share_within_reach": figures.share_within_reach,
                    "share_deprived_within_reach": figures.share_deprived_within_reach,
                    "under5_beyond_reach": figures.under5 - figures.under5_within_reach,
                    "under5_per_centre": figures.under5_per_centre,
                    "rag": figures.rag,
                }
            )
        index = pd.Index([scenario.name for scenario in scenarios], name="scenario")
        return pd.DataFrame(rows, index=index)

    def _apply_to_arrays(self, scenario: Scenario) -> Sites | None:
        """The scenario's network as arrays, or ``None`` when :func:`apply_scenario` must decide
        (:meth:`NetworkArrays.apply`)."""
        return self._arrays.apply(scenario)

    def _sites_after(self, scenario: Scenario) -> Sites:
        """The scenario's sites as arrays: applied to arrays when it is a plain list of changes,
        otherwise by :func:`apply_scenario` (which applies it or raises its usual error)."""
        sites = self._apply_to_arrays(scenario)
        if sites is not None:
            return sites
        table, standards = apply_scenario(self.current, self.standards, scenario, areas=self.areas)
        inside = table["in_authority"].to_numpy(dtype=object, na_value=None)
        unknown = np.array([flag is None for flag in inside], dtype=bool)
        if unknown.any():
            # Inside the authority or not, worked out for each new or moved site.
            inside[unknown] = self._inside(
                table["easting"].to_numpy(float)[unknown],
                table["northing"].to_numpy(float)[unknown],
            )
        columns = np.array([self.column(x, y) for x, y in zip(table["easting"], table["northing"])])
        return Sites(
            ids=table.index.to_numpy(dtype=object),
            names=table["name"].to_numpy(dtype=object),
            columns=columns,
            neighbour=table["neighbour"].to_numpy(bool),
            inside=inside.astype(bool),
            standards=standards,
            table=table,
        )

    def _nearest_for(self, sites: Sites) -> tuple[np.ndarray, np.ndarray]:
        """Each assessed area's nearest open site and the metres to it (the assessment's rule:
        :func:`planning.analysis.distance.nearest`), exact along a street network too."""
        if sites.origin is None:
            nearest, metres = nearest_centre(
                self.area_xy, self.site_xy[sites.columns], distances=self.distance[:, sites.columns]
            )
        else:
            nearest, metres = self._arrays.nearest_after(sites.columns, sites.origin)
        if self._streets is not None:
            searched = self._streets.settle_far_areas(
                self.distance, self.site_xy, sites.columns, nearest, metres
            )
            # Those areas' nearest current centre, which the array path starts from, too.
            self._arrays.renew_nearest(searched)
        return nearest, metres

    def _reach_for(self, standards: Standards) -> np.ndarray:
        """Each assessed area's reach standard in metres under ``standards`` (cached)."""
        key = (standards.reach_m, standards.rural_reach_m)
        if key not in self._reach:
            self._reach[key] = area_reach_standard(self.assessed, standards)
        return self._reach[key]

    def _need_flags(self, standards: Standards) -> tuple[np.ndarray, float]:
        """Each assessed area's most-deprived flag and the authority's under-5s in
        income-deprived families under ``standards``, for :meth:`headline` (cached)."""
        key = self._need_key(standards)
        if key not in self._headline_need:
            need = self.need_for(standards)
            self._headline_need[key] = (
                need["most_deprived_30"].to_numpy(bool),
                float(need["under5_income_deprived"].to_numpy(float)[: self.residents].sum()),
            )
        return self._headline_need[key]

    def _centre_frame(
        self, fields: dict[str, np.ndarray], *, rows: np.ndarray | None = None, **extra: Any
    ) -> pd.DataFrame:
        """A centre table (the columns of :attr:`current`, then ``extra``) from arrays, with
        the current table's column types, in one construction."""
        pick = slice(None) if rows is None else rows
        data: dict[str, Any] = {column: fields[column][pick] for column in self.current.columns}
        data["in_authority"] = pd.array(data["in_authority"], dtype="boolean")
        data.update(extra)
        index = pd.Index(fields["centre_id"][pick], name=self.current.index.name)
        return pd.DataFrame(data, index=index)

    def compare(self, scenario: Scenario) -> Comparison:
        """Evaluate ``scenario`` and compare it with the current network."""
        return compare(self.baseline, self.evaluate(scenario))


def single_closures(engine: ScenarioEngine) -> list[Scenario]:
    """One scenario for each of the council's centres closed on its own ("Close CC03 (name)"),
    in the order of its centres list; none when it has a single centre (it cannot close).
    Other authorities' centres are not the council's to close."""
    current = engine.current[~engine.current["neighbour"].to_numpy(bool)]
    if len(current) < 2:
        return []
    return [
        Scenario(f"Close {centre_id} ({name})").close(str(centre_id))
        for centre_id, name in current["name"].items()
    ]
