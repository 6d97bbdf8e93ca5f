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
so the whole what-if API is imported from here. The engine's searches beyond the reach along a
street network are :mod:`planning.analysis.scenario_search`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning._errors import ValidationError
from planning._validate import require_same_crs
from planning.analysis.distance import _TIE_METRES, area_points, metres_between
from planning.analysis.distance import nearest as nearest_centre
from planning.analysis.need import BAND_LABELS
from planning.analysis.scenario_actions import (
    ACTIONS,
    CENTRE_FIELDS,
    LOCATION_KEYS,
    STANDARD_KEYS,
    Action,
    Scenario,
    ScenarioFile,
    apply_scenario,
    centre_table,
    load_scenario,
    parse_capacity,
    scenario_from_dict,
    scenario_json_schema,
    table_to_centres,
)
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
from planning.analysis.sufficiency_verdicts import (
    authority_figures,
    cross_boundary_reasons,
    load_status,
    locality_table,
    resident_shares,
    verdict,
)
from planning.inputs.areas import authority_boundary, within_authority
from planning.inputs.locations import MAX_SITE_DISTANCE_M, locate_point
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


@dataclass
class _Sites:
    """A scenario's open sites as arrays, in the order of its centre table: the current
    centres kept (in their order), then the new sites (in the order opened)."""

    ids: np.ndarray
    names: np.ndarray
    #: Each site's column in the engine's distance matrix.
    columns: np.ndarray
    neighbour: np.ndarray
    inside: np.ndarray
    standards: Standards
    #: Position among the current centres of a site still where it was, -1 for one opened or
    #: moved; ``None`` when :func:`apply_scenario` built the table (``table``).
    origin: np.ndarray | None = None
    table: pd.DataFrame | None = None
    #: The current centres kept, the columns changed on them (by position) and the new sites'
    #: rows: for :meth:`ScenarioEngine._fields`.
    kept: np.ndarray | None = None
    edits: dict[int, dict[str, Any]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)


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
        self._fast: dict[str, Any] = {}
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
            return {
                name: metres[:, mask].min(axis=1) if mask.any() else np.full(len(residents), np.inf)
                for name, mask in masks.items()
            }
        columns = np.array([self.column(x, y) for x, y in sites_xy], dtype=np.int64)
        out = {}
        for name, mask in masks.items():
            key = frozenset(columns[mask].tolist())
            if key not in self._group_nearest:
                if len(self._group_nearest) >= _GROUPS_KEPT:
                    del self._group_nearest[next(iter(self._group_nearest))]  # the oldest
                members = self.site_xy[sorted(key)]
                self._group_nearest[key] = self.distances.nearest_in_groups(
                    residents, members, {"group": np.ones(len(members), dtype=bool)}
                )["group"]
            out[name] = self._group_nearest[key]
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
        fields = self._fields(sites)
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
        return self._headline_figures(
            scenario,
            sites.standards,
            sites.ids,
            sites.names,
            sites.neighbour,
            sites.inside,
            nearest,
            metres,
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

    def _sites_after(self, scenario: Scenario) -> _Sites:
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
        return _Sites(
            ids=table.index.to_numpy(dtype=object),
            names=table["name"].to_numpy(dtype=object),
            columns=columns,
            neighbour=table["neighbour"].to_numpy(bool),
            inside=inside.astype(bool),
            standards=standards,
            table=table,
        )

    def _nearest_for(self, sites: _Sites) -> tuple[np.ndarray, np.ndarray]:
        """Each assessed area's nearest open site and the metres to it (the assessment's rule:
        :func:`planning.analysis.distance.nearest`), exact along a street network too."""
        if sites.origin is None:
            nearest, metres = nearest_centre(
                self.area_xy, self.site_xy[sites.columns], distances=self.distance[:, sites.columns]
            )
        else:
            nearest, metres = self._nearest_after(sites.columns, sites.origin)
        if self._streets is not None:
            searched = self._streets.settle_far_areas(
                self.distance, self.site_xy, sites.columns, nearest, metres
            )
            base = self._fast.get("base")
            if base is not None and len(searched):
                # The current network's nearest, for :meth:`_nearest_after`, from the same
                # distances (a tie beyond the reach may now be seen).
                current = self._fast["columns"]
                base[0][searched], base[1][searched] = nearest_centre(
                    self.area_xy[searched],
                    self.site_xy[current],
                    distances=self.distance[np.ix_(searched, current)],
                )
        return nearest, metres

    def _reach_for(self, standards: Standards) -> np.ndarray:
        """Each assessed area's reach standard in metres under ``standards`` (cached)."""
        fast = self._fast_state()
        key = (standards.reach_m, standards.rural_reach_m)
        if key not in fast["reach"]:
            fast["reach"][key] = area_reach_standard(self.assessed, standards)
        reach: np.ndarray = fast["reach"][key]
        return reach

    def _fields(self, sites: _Sites) -> dict[str, np.ndarray]:
        """The scenario's centre table as one array per column (``in_authority`` known)."""
        if sites.table is not None:
            fields = {
                column: sites.table[column].to_numpy(dtype=object)
                for column in self.current.columns
            }
            for column in ("capacity", "easting", "northing"):
                fields[column] = sites.table[column].to_numpy(float)
        else:
            assert sites.kept is not None
            fast = self._fast_state()
            rows = np.flatnonzero(sites.kept)
            fields = {column: values[rows] for column, values in fast["fields"].items()}
            for at, changes in sites.edits.items():
                if sites.kept[at]:
                    row = int(np.searchsorted(rows, at))
                    for column, value in changes.items():
                        fields[column][row] = value
            if sites.added:
                for column in fields:
                    values = [site[column] for site in sites.added]
                    fields[column] = np.concatenate(
                        [fields[column], np.array(values, dtype=fields[column].dtype)]
                    )
        fields["neighbour"] = sites.neighbour
        fields["in_authority"] = sites.inside
        fields["centre_id"] = sites.ids
        return fields

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

    def _nearest_after(
        self, columns: np.ndarray, origin: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each area's nearest open site (:func:`planning.analysis.distance.nearest`), updated
        from the current network's instead of recomputed over every site.

        ``origin`` gives, for each site of the scenario (``columns``), its position among the
        current centres when it is one of them, still where it was, and -1 for a site opened or
        moved (the list keeps the current centres' order, as :func:`apply_scenario`). An area
        keeps its current nearest centre when that centre is unchanged and no opened or moved
        site is within a millimetre of it or nearer: removing other sites or adding farther
        ones cannot change the rule's answer (its nearest, first listed on a tie). Every other
        area is compared with all open sites. So the answer is exact, and an England-sized
        network costs a few columns, not a copy of the whole matrix.
        """
        fast = self._fast_state()
        if "base" not in fast:
            base = fast["columns"]
            fast["base"] = nearest_centre(
                self.area_xy, self.site_xy[base], distances=self.distance[:, base]
            )
        base_nearest, base_metres = fast["base"]
        # Where each current centre sits in the scenario's list (-1: closed or moved).
        unchanged = origin >= 0
        position = np.full(len(fast["columns"]), -1)
        position[origin[unchanged]] = np.flatnonzero(unchanged)
        nearest = position[base_nearest]
        metres = base_metres.copy()
        redo = nearest < 0
        added = columns[~unchanged]
        if len(added):
            redo |= (self.distance[:, added] <= base_metres[:, None] + _TIE_METRES).any(axis=1)
        rows = np.flatnonzero(redo)
        if len(rows):
            nearest[rows], metres[rows] = nearest_centre(
                self.area_xy[rows],
                self.site_xy[columns],
                distances=self.distance[np.ix_(rows, columns)],
            )
        return nearest, metres

    def _fast_state(self) -> dict[str, Any]:
        """Arrays of the current network for the array path, made on first use."""
        if not self._fast:
            current = self.current
            own = ~current["neighbour"].to_numpy(bool)
            self._fast = {
                "ids": current.index.to_numpy(dtype=object),
                "position": {cid: i for i, cid in enumerate(current.index)},
                "names": current["name"].to_numpy(dtype=object),
                "columns": np.array(
                    [self.column(x, y) for x, y in zip(current["easting"], current["northing"])]
                ),
                "neighbour": current["neighbour"].to_numpy(bool),
                "inside": current["in_authority"].to_numpy(dtype=bool, na_value=False),
                # The table's other columns, edited by copying (text as Python objects).
                "fields": {
                    column: current[column].to_numpy(
                        dtype=float if column in ("capacity", "easting", "northing") else object
                    )
                    for column in current.columns
                    if column not in ("neighbour", "in_authority")
                },
                # For a new site's locality (:func:`_nearest_locality`): the council's centres.
                "own_xy": current.loc[own, ["easting", "northing"]].to_numpy(float),
                "own_locality": current["locality"].to_numpy(dtype=object)[own],
                "inside_by_key": {},
                "standards": {},
                "reach": {},
                "need": {},
            }
        return self._fast

    def _apply_to_arrays(self, scenario: Scenario) -> _Sites | None:
        """The scenario's network as arrays, or ``None`` when :func:`apply_scenario` must decide
        (an action it would refuse, or one whose effect on the table order is not a plain
        close/open/move). Each change to a column is noted, for :meth:`_fields`, as
        :func:`apply_scenario` would make it."""
        fast = self._fast_state()
        position = fast["position"]
        kept = np.ones(len(fast["ids"]), dtype=bool)
        moved = np.zeros(len(fast["ids"]), dtype=bool)
        columns = fast["columns"].copy()
        inside = fast["inside"].copy()
        edits: dict[int, dict[str, Any]] = {}  # position of a current centre -> changed columns
        new: dict[str, dict[str, Any]] = {}  # id -> the new site's row, in opening order
        changes: dict[str, Any] = {}
        for number, action in enumerate(scenario.actions, start=1):
            cid = str(action.centre_id)  # every action but 'standard' names a centre
            what = f"action {number} ({action.kind} {action.centre_id})"
            current = cid in position and kept[position[cid]]
            if action.kind == "standard":
                changes.update({STANDARD_KEYS[k]: v for k, v in action.values})
                continue
            if action.kind == "open":
                if cid in position or cid in new:
                    return None
                site = self._fast_site(action, what)
                kind = str(action.get("kind", "") or "").lower()
                if site is None or kind not in ("", "hub", "branch"):
                    return None
                try:
                    capacity = parse_capacity(action.get("capacity"), what)
                except ValidationError:
                    return None
                column, flag, x, y = site
                new[cid] = {
                    "name": str(action.get("name", cid)),
                    "locality": str(action.get("locality", "") or self._new_locality(x, y)),
                    "kind": kind,
                    "capacity": capacity,
                    "services": str(action.get("services", "") or ""),
                    "source": "scenario",
                    "easting": x,
                    "northing": y,
                    "column": column,
                    "inside": flag,
                }
                continue
            if not current and cid not in new:
                return None  # unknown or already closed: apply_scenario says which
            row = edits.setdefault(position[cid], {}) if current else new[cid]
            if action.kind == "close":
                if current:
                    kept[position[cid]] = False
                else:
                    del new[cid]
            elif action.kind == "move":
                site = self._fast_site(action, what)
                if site is None:
                    return None
                column, flag, x, y = site
                row.update(easting=x, northing=y)
                if current:
                    columns[position[cid]], inside[position[cid]] = column, flag
                    moved[position[cid]] = True
                else:
                    row.update(column=column, inside=flag)
            elif action.kind == "capacity":
                try:
                    row["capacity"] = parse_capacity(action.get("capacity"), what)
                except ValidationError:
                    return None
            elif action.kind == "services":
                kind = action.get("kind")
                if kind is not None:
                    if str(kind).lower() not in ("hub", "branch", ""):
                        return None
                    row["kind"] = str(kind).lower()
                if action.get("services") is not None:
                    row["services"] = str(action.get("services"))
        if not kept.any() and not new:
            return None
        standards = self._fast_standards(changes)
        if standards is None:
            return None
        added = list(new.values())
        origin = np.where(moved, -1, np.arange(len(kept)))[kept]
        return _Sites(
            ids=np.concatenate([fast["ids"][kept], np.array(list(new), dtype=object)]),
            names=np.concatenate(
                [fast["names"][kept], np.array([a["name"] for a in added], dtype=object)]
            ),
            columns=np.concatenate(
                [columns[kept], np.array([a["column"] for a in added], dtype=int)]
            ),
            neighbour=np.concatenate([fast["neighbour"][kept], np.zeros(len(added), bool)]),
            inside=np.concatenate(
                [inside[kept], np.array([a["inside"] for a in added], dtype=bool)]
            ),
            standards=standards,
            origin=np.concatenate([origin, np.full(len(added), -1)]),
            kept=kept,
            edits=edits,
            added=added,
        )

    def _new_locality(self, x: float, y: float) -> str:
        """:func:`_nearest_locality` of the current table, from the engine's arrays."""
        fast = self._fast
        if not len(fast["own_locality"]):
            return "New sites"
        gap = np.hypot(fast["own_xy"][:, 0] - x, fast["own_xy"][:, 1] - y)
        return str(fast["own_locality"][int(gap.argmin())])

    def _fast_site(self, action: Action, what: str) -> tuple[int, bool, float, float] | None:
        """A site's column, whether it is inside the authority and its easting and northing,
        or ``None`` when :func:`apply_scenario` would refuse the location."""
        try:
            x, y = locate_point(**{k: action.get(k) for k in LOCATION_KEYS}, what=what)
        except ValidationError:
            return None
        column = self.column(x, y)
        fast = self._fast
        if "point_gap" not in fast:
            # How far each area's point is from its own polygon (0 when inside): the distance
            # from a site to the authority is at most distance to a point + that gap.
            points = shapely.points(self.area_xy[: self.residents])
            fast["point_gap"] = shapely.distance(self.areas.geometry.to_numpy(), points)
        bound = self.distance[: self.residents, column] + fast["point_gap"]
        if not bound.min() <= MAX_SITE_DISTANCE_M:
            return None  # perhaps far: the exact rule (and its message) in apply_scenario
        key = (round(x, 1), round(y, 1))
        if key not in fast["inside_by_key"]:
            fast["inside_by_key"][key] = bool(self._inside([x], [y])[0])
        return column, fast["inside_by_key"][key], x, y

    def _fast_standards(self, changes: dict[str, Any]) -> Standards | None:
        """The standards after the scenario's changes (cached), or ``None`` if refused."""
        if not changes:
            return self.standards
        key = tuple(sorted(changes.items()))
        cache = self._fast["standards"]
        if key not in cache:
            try:
                cache[key] = self.standards.replace(**changes)
            except ValidationError:
                return None
        standards: Standards = cache[key]
        return standards

    def _headline_figures(
        self,
        scenario: Scenario,
        standards: Standards,
        ids: np.ndarray,
        names: np.ndarray,
        neighbour: np.ndarray,
        inside: np.ndarray,
        nearest: np.ndarray,
        metres: np.ndarray,
    ) -> Headline:
        """The sums of :meth:`evaluate` and :func:`authority_figures`, on arrays only."""
        fast = self._fast_state()
        need_key = self._need_key(standards)
        if need_key not in fast["need"]:
            need = self.need_for(standards)
            fast["need"][need_key] = (
                need["most_deprived_30"].to_numpy(bool),
                float(need["under5_income_deprived"].to_numpy(float)[: self.residents].sum()),
            )
        n = self.residents
        under5 = self._static["under5"]
        resident_u5 = under5[:n]
        deprived = fast["need"][need_key][0][:n]
        within = (metres <= self._reach_for(standards))[:n]
        reached = resident_u5 * within
        total, total_within = float(resident_u5.sum()), float(reached.sum())
        deprived_u5 = float(resident_u5[deprived].sum())
        other_u5 = total - deprived_u5

        def share(numerator: float, denominator: float) -> float:
            return numerator / denominator if denominator > 0 else float("nan")

        deprived_within = float(reached[deprived].sum())
        bands = self._static["band"][:n]
        by_band = np.bincount(bands, weights=resident_u5, minlength=len(BAND_LABELS))
        within_band = np.bincount(bands, weights=reached, minlength=len(BAND_LABELS))
        with np.errstate(divide="ignore", invalid="ignore"):
            band_share = np.where(
                by_band > 0, within_band / np.where(by_band > 0, by_band, 1), np.nan
            )
        k = len(ids)
        loads_all = np.bincount(nearest, weights=under5, minlength=k)
        resident = np.bincount(nearest[:n], weights=resident_u5, minlength=k)
        served_areas = np.bincount(nearest[:n], minlength=k)
        listed = ~neighbour | (served_areas > 0)
        load, resident, served = loads_all[listed], resident[listed], served_areas[listed] > 0
        inside_listed = inside[listed]
        equivalents = float(resident_shares(resident[served], load[served]).sum())
        figures: dict[str, Any] = {
            "under5": total,
            "deprived_under5": deprived_u5,
            "share_within_reach": share(total_within, total),
            "share_deprived_within_reach": share(deprived_within, deprived_u5),
            "centres": int(served.sum()),
            "centre_equivalents": equivalents,
            "centres_outside_serving": int((~inside_listed & served).sum()),
            "under5_nearest_outside": float(resident[~inside_listed].sum()),
        }
        rag, why = verdict(
            figures, standards, centre_loads=load[served], centre_names=names[listed][served]
        )
        reasons = why + cross_boundary_reasons(figures, load, inside_listed)
        return Headline(
            scenario=scenario,
            standards=standards,
            share_within_reach=figures["share_within_reach"],
            share_deprived_within_reach=figures["share_deprived_within_reach"],
            share_other_within_reach=share(total_within - deprived_within, other_u5),
            under5=total,
            under5_within_reach=total_within,
            deprived_under5=deprived_u5,
            deprived_under5_within_reach=deprived_within,
            under5_income_deprived=fast["need"][need_key][1],
            band_share_within_reach=band_share,
            centre_ids=ids[listed].astype(str),
            centre_under5=load,
            centre_under5_residents=resident,
            centre_equivalents=equivalents,
            under5_per_centre=total / equivalents if equivalents > 0 else float("nan"),
            rag=rag,
            reasons=reasons,
        )

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
