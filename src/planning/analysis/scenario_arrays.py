"""The scenario engine's array path: a scenario applied to the current network's arrays.

:class:`NetworkArrays` holds the current network as arrays, applies a plain scenario (close,
open, move, capacity, services, standards) to them as :func:`apply_scenario` would, giving its
open sites (:class:`Sites`) without building a table, and from them the scenario's centre table
as arrays (:meth:`NetworkArrays.fields`), each area's nearest open site updated from the current
network's (:meth:`NetworkArrays.nearest_after`) and the headline figures summed from arrays
alone (:meth:`NetworkArrays.headline`). The engine
(:class:`planning.analysis.scenarios.ScenarioEngine`) holds one and hands it its distance
matrix (:class:`SiteMatrix`); anything out of the ordinary goes to :func:`apply_scenario`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning._errors import ValidationError
from planning.analysis.distance import _TIE_METRES
from planning.analysis.distance import nearest as nearest_centre
from planning.analysis.need import BAND_LABELS
from planning.analysis.scenario_actions import (
    LOCATION_KEYS,
    STANDARD_KEYS,
    Action,
    Scenario,
    parse_capacity,
)
from planning.analysis.scenario_results import Headline
from planning.analysis.sufficiency_verdicts import (
    cross_boundary_reasons,
    resident_shares,
    verdict,
)
from planning.inputs.locations import MAX_SITE_DISTANCE_M, locate_point
from planning.standards import Standards

__all__ = ["NetworkArrays", "SiteMatrix", "Sites"]


class SiteMatrix(Protocol):
    """What the array path reads of the scenario engine: the authority's areas, every
    assessed area's point (the authority's ``residents`` first) and the distance matrix, which
    gains a column the first time a site is seen (:meth:`column`)."""

    areas: gpd.GeoDataFrame
    area_xy: np.ndarray
    residents: int

    @property
    def distance(self) -> np.ndarray: ...

    @property
    def site_xy(self) -> np.ndarray: ...

    def column(self, easting: float, northing: float) -> int: ...


@dataclass
class Sites:
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
    #: rows: for :meth:`NetworkArrays.fields`.
    kept: np.ndarray | None = None
    edits: dict[int, dict[str, Any]] = field(default_factory=dict)
    added: list[dict[str, Any]] = field(default_factory=list)


class NetworkArrays:
    """The current network as arrays, and a scenario's changes applied to them.

    Parameters
    ----------
    matrix : SiteMatrix
        The engine, whose distance-matrix columns the sites are (a new site gets one on first
        use).
    current : DataFrame
        The current centre table (:func:`planning.analysis.scenario_actions.centre_table`,
        ``in_authority`` known).
    standards : Standards
        The current standards, which a scenario's standard changes replace.
    inside : callable
        ``inside(eastings, northings)``: whether points lie in the authority (the engine's
        rule).
    under5, band : ndarray
        Every assessed area's under-5s and deprivation band code, the authority's residents
        first: for :meth:`headline`.
    """

    def __init__(
        self,
        matrix: SiteMatrix,
        current: pd.DataFrame,
        *,
        standards: Standards,
        inside: Callable[[Any, Any], np.ndarray],
        under5: np.ndarray,
        band: np.ndarray,
    ) -> None:
        self.matrix = matrix
        self.standards = standards
        self.inside_rule = inside
        self.under5 = under5
        self.band = band
        own = ~current["neighbour"].to_numpy(bool)
        self.table_columns = current.columns
        self.ids = current.index.to_numpy(dtype=object)
        self.position = {cid: i for i, cid in enumerate(current.index)}
        self.names = current["name"].to_numpy(dtype=object)
        self.columns = np.array(
            [matrix.column(x, y) for x, y in zip(current["easting"], current["northing"])]
        )
        self.neighbour = current["neighbour"].to_numpy(bool)
        self.inside = current["in_authority"].to_numpy(dtype=bool, na_value=False)
        # The table's other columns, edited by copying (text as Python objects).
        self.table_fields = {
            column: current[column].to_numpy(
                dtype=float if column in ("capacity", "easting", "northing") else object
            )
            for column in current.columns
            if column not in ("neighbour", "in_authority")
        }
        # For a new site's locality (:func:`scenario_actions._nearest_locality`): the
        # council's centres.
        self.own_xy = current.loc[own, ["easting", "northing"]].to_numpy(float)
        self.own_locality = current["locality"].to_numpy(dtype=object)[own]
        # Made on first use: whether a site is inside (by its rounded point), the standards
        # after a set of changes, how far each resident area's point is from its polygon, and
        # the current network's nearest centre of every area (:meth:`nearest_after`).
        self._inside_by_key: dict[tuple[float, float], bool] = {}
        self._standards: dict[tuple[Any, ...], Standards] = {}
        self._point_gap: np.ndarray | None = None
        self._base: tuple[np.ndarray, np.ndarray] | None = None

    def apply(self, scenario: Scenario) -> Sites | None:
        """The scenario's network as arrays, or ``None`` when :func:`apply_scenario` must decide
        (an action it would refuse, or one whose effect on the table order is not a plain
        close/open/move). Each change to a column is noted, for :meth:`fields`, as
        :func:`apply_scenario` would make it."""
        position = self.position
        kept = np.ones(len(self.ids), dtype=bool)
        moved = np.zeros(len(self.ids), dtype=bool)
        columns = self.columns.copy()
        inside = self.inside.copy()
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
                site = self._site(action, what)
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
                site = self._site(action, what)
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
        standards = self._standards_after(changes)
        if standards is None:
            return None
        added = list(new.values())
        origin = np.where(moved, -1, np.arange(len(kept)))[kept]
        return Sites(
            ids=np.concatenate([self.ids[kept], np.array(list(new), dtype=object)]),
            names=np.concatenate(
                [self.names[kept], np.array([a["name"] for a in added], dtype=object)]
            ),
            columns=np.concatenate(
                [columns[kept], np.array([a["column"] for a in added], dtype=int)]
            ),
            neighbour=np.concatenate([self.neighbour[kept], np.zeros(len(added), bool)]),
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
        """:func:`scenario_actions._nearest_locality` of the current table, from the arrays."""
        if not len(self.own_locality):
            return "New sites"
        gap = np.hypot(self.own_xy[:, 0] - x, self.own_xy[:, 1] - y)
        return str(self.own_locality[int(gap.argmin())])

    def _site(self, action: Action, what: str) -> tuple[int, bool, float, float] | None:
        """A site's column, whether it is inside the authority and its easting and northing,
        or ``None`` when :func:`apply_scenario` would refuse the location."""
        try:
            x, y = locate_point(**{k: action.get(k) for k in LOCATION_KEYS}, what=what)
        except ValidationError:
            return None
        matrix = self.matrix
        column = matrix.column(x, y)
        if self._point_gap is None:
            # How far each area's point is from its own polygon (0 when inside): the distance
            # from a site to the authority is at most distance to a point + that gap.
            points = shapely.points(matrix.area_xy[: matrix.residents])
            self._point_gap = shapely.distance(matrix.areas.geometry.to_numpy(), points)
        bound = matrix.distance[: matrix.residents, column] + self._point_gap
        if not bound.min() <= MAX_SITE_DISTANCE_M:
            return None  # perhaps far: the exact rule (and its message) in apply_scenario
        key = (round(x, 1), round(y, 1))
        if key not in self._inside_by_key:
            self._inside_by_key[key] = bool(self.inside_rule([x], [y])[0])
        return column, self._inside_by_key[key], x, y

    def _standards_after(self, changes: dict[str, Any]) -> Standards | None:
        """The standards after the scenario's changes (cached), or ``None`` if refused."""
        if not changes:
            return self.standards
        key = tuple(sorted(changes.items()))
        cache = self._standards
        if key not in cache:
            try:
                cache[key] = self.standards.replace(**changes)
            except ValidationError:
                return None
        return cache[key]

    def fields(self, sites: Sites) -> dict[str, np.ndarray]:
        """The scenario's centre table as one array per column (``in_authority`` known)."""
        if sites.table is not None:
            fields = {
                column: sites.table[column].to_numpy(dtype=object) for column in self.table_columns
            }
            for column in ("capacity", "easting", "northing"):
                fields[column] = sites.table[column].to_numpy(float)
        else:
            assert sites.kept is not None
            rows = np.flatnonzero(sites.kept)
            fields = {column: values[rows] for column, values in self.table_fields.items()}
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

    def nearest_after(
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
        matrix = self.matrix
        if self._base is None:
            base = self.columns
            self._base = nearest_centre(
                matrix.area_xy, matrix.site_xy[base], distances=matrix.distance[:, base]
            )
        base_nearest, base_metres = self._base
        # Where each current centre sits in the scenario's list (-1: closed or moved).
        unchanged = origin >= 0
        position = np.full(len(self.columns), -1)
        position[origin[unchanged]] = np.flatnonzero(unchanged)
        nearest = position[base_nearest]
        metres = base_metres.copy()
        redo = nearest < 0
        added = columns[~unchanged]
        if len(added):
            redo |= (matrix.distance[:, added] <= base_metres[:, None] + _TIE_METRES).any(axis=1)
        rows = np.flatnonzero(redo)
        if len(rows):
            nearest[rows], metres[rows] = nearest_centre(
                matrix.area_xy[rows],
                matrix.site_xy[columns],
                distances=matrix.distance[np.ix_(rows, columns)],
            )
        return nearest, metres

    def renew_nearest(self, rows: np.ndarray) -> None:
        """Choose again the current network's nearest centre of the areas ``rows``, for
        :meth:`nearest_after`, from their distances searched further along the streets
        (:meth:`planning.analysis.scenario_search.StreetSearch.settle_far_areas`): a tie beyond
        the reach may now be seen."""
        if self._base is None or not len(rows):
            return
        matrix, current = self.matrix, self.columns
        self._base[0][rows], self._base[1][rows] = nearest_centre(
            matrix.area_xy[rows],
            matrix.site_xy[current],
            distances=matrix.distance[np.ix_(rows, current)],
        )

    def headline(
        self,
        scenario: Scenario,
        sites: Sites,
        nearest: np.ndarray,
        metres: np.ndarray,
        *,
        reach: np.ndarray,
        deprived: np.ndarray,
        under5_income_deprived: float,
    ) -> Headline:
        """The sums of :meth:`ScenarioEngine.evaluate` and :func:`authority_figures`, on arrays
        only.

        ``nearest`` and ``metres`` are each assessed area's nearest open site (a position in
        ``sites``) and the metres to it; ``reach`` each area's reach standard in metres and
        ``deprived`` whether it is among the most deprived, under the scenario's standards;
        ``under5_income_deprived`` the authority's under-5s in income-deprived families.
        """
        standards, ids, names = sites.standards, sites.ids, sites.names
        neighbour, inside = sites.neighbour, sites.inside
        n = self.matrix.residents
        under5 = self.under5
        resident_u5 = under5[:n]
        deprived = deprived[:n]
        within = (metres <= reach)[:n]
        reached = resident_u5 * within
        total, total_within = float(resident_u5.sum()), float(reached.sum())
        deprived_u5 = float(resident_u5[deprived].sum())
        other_u5 = total - deprived_u5

        def share(numerator: float, denominator: float) -> float:
            return numerator / denominator if denominator > 0 else float("nan")

        deprived_within = float(reached[deprived].sum())
        bands = self.band[:n]
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
            under5_income_deprived=under5_income_deprived,
            band_share_within_reach=band_share,
            centre_ids=ids[listed].astype(str),
            centre_under5=load,
            centre_under5_residents=resident,
            centre_equivalents=equivalents,
            under5_per_centre=total / equivalents if equivalents > 0 else float("nan"),
            rag=rag,
            reasons=reasons,
        )
