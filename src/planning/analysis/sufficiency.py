"""Sufficiency of children's centre provision (Childcare Act 2006 s.5A).

Applies the standards (``standards.yaml``) to every small area, centre, locality, ward and the
authority as a whole, and gives a red/amber/green verdict with plain-English reasons.

This module holds the assessment (:func:`assess_sufficiency`, :func:`build_result`,
:class:`SufficiencyResult`), the reach flags and the notes every output carries; the count
matrix and its shares are :mod:`planning.analysis.sufficiency_counts`, and the verdicts and
authority and locality figures :mod:`planning.analysis.sufficiency_verdicts`. Their public names
are re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._format import count
from planning._validate import (
    Problems,
    require_non_empty,
    require_projected,
    require_same_crs,
    require_unique_index,
)
from planning.analysis.catchments import assign_catchments, centre_localities
from planning.analysis.distance import (
    area_points,
    centre_points,
    pairs_within,
    two_step_fca,
    walking_minutes,
)
from planning.analysis.need import assess_need, income_deprived_note, rural_flags, rural_note
from planning.analysis.sufficiency_counts import (
    COUNT_COLUMNS,
    _frame_counts,
    count_matrix,
    group_sums,
    share_columns,
    shares_frame,
    summarise,
)
from planning.analysis.sufficiency_verdicts import (
    RAG_ORDER,
    authority_figures,
    cross_boundary_reasons,
    load_status,
    locality_table,
    resident_shares,
    verdict,
)
from planning.inputs.areas import in_authority as centres_in_authority
from planning.standards import Standards

__all__ = [
    "COUNT_COLUMNS",
    "ILLUSTRATIVE_NOTE",
    "NEIGHBOUR_ILLUSTRATIVE_NOTE",
    "RAG_ORDER",
    "SufficiencyResult",
    "area_reach_standard",
    "assess_sufficiency",
    "assessed_areas",
    "assessed_need",
    "authority_figures",
    "build_result",
    "count_matrix",
    "cross_boundary_reasons",
    "group_sums",
    "load_status",
    "locality_table",
    "need_measures",
    "network_columns",
    "network_notes",
    "reach_flags",
    "resident_shares",
    "result_notes",
    "share_columns",
    "shares_frame",
    "summarise",
    "verdict",
]


@dataclass(frozen=True)
class SufficiencyResult:
    """Everything a sufficiency assessment produces.

    Attributes
    ----------
    areas : GeoDataFrame
        One row per small area (input index and columns kept) with need, centre, distance and
        reach flags.
    centres : GeoDataFrame
        One row per centre serving the authority (its own list, and other authorities' centres
        that serve its residents): ``under5`` (the load: everyone nearest to it, from any
        authority), ``under5_residents`` and ``under5_other_authorities`` (the split),
        ``neighbour`` and the load status.
    localities, wards : DataFrame
        Aggregates over the authority's own residents with shares within reach; localities
        also carry ``rag`` and ``reasons``.
    authority : dict
        Authority-wide figures for its own residents, ``rag`` and ``reasons``.
    standards : Standards
        The standards applied.
    notes : list of str
        Caveats every output must carry (illustrative centres, estimated IDACI counts, the
        cross-boundary model).
    neighbour_areas : GeoDataFrame or None
        The other authorities' small areas assessed alongside (their residents count towards
        centre loads and the 2SFCA), with their centre and distance; not in any figure.
    distances : object or None
        The distance provider used instead of the straight line (for example
        :class:`planning.analysis.network_distance.NetworkDistances`), which the scenario
        engine and the optimiser re-use; None for straight-line distances.
    """

    areas: gpd.GeoDataFrame
    centres: gpd.GeoDataFrame
    localities: pd.DataFrame
    wards: pd.DataFrame
    authority: dict[str, Any]
    standards: Standards
    notes: list[str] = field(default_factory=list)
    neighbour_areas: gpd.GeoDataFrame | None = None
    supply: gpd.GeoDataFrame | None = None
    distances: Any = None

    def to_frame(self) -> gpd.GeoDataFrame:
        """The per-area table (the main result), aligned to the input areas."""
        return self.areas


def _validate_centres(centres: gpd.GeoDataFrame) -> None:
    require_non_empty(centres, "centres", "centre")
    require_projected(centres, "centres")
    problems = Problems("centres")
    require_unique_index(centres, "centre id", problems)
    if not (centres.geometry.geom_type == "Point").all():
        problems.add("every centre must be a point geometry")
    problems.raise_if_any()


def reach_flags(
    distance_m: np.ndarray,
    reach_m: np.ndarray,
    standards: Standards,
    *,
    circuity: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walking minutes and the three reach flags for distances to the nearest centre.

    ``within_reach``: distance <= the area's reach standard (the rural standard for rural areas
    when one is set); ``within_short``: <= the short distance (1 mile); ``within_walk``: walking
    minutes (:func:`planning.analysis.distance.walking_minutes`) <= the walking standard.
    ``circuity`` overrides the standards' factor: 1 for distances along a street network.
    """
    minutes = walking_minutes(
        distance_m,
        speed_kmh=standards.walk_speed_kmh,
        circuity=standards.walk_circuity if circuity is None else circuity,
    )
    return (
        minutes,
        distance_m <= reach_m,
        distance_m <= standards.short_reach_m,
        minutes <= standards.walk_minutes,
    )


def area_reach_standard(areas: pd.DataFrame, standards: Standards) -> np.ndarray:
    """The reach standard in metres for each area (rural areas may have their own)."""
    rural = rural_flags(areas)  # an empty flag is not rural (noted by result_notes)
    return np.where(rural, standards.rural_reach_m, standards.reach_m)


def need_measures(areas: pd.DataFrame, standards: Standards) -> pd.DataFrame:
    """:func:`planning.analysis.need.assess_need` with the weights and deciles of ``standards``."""
    return assess_need(
        areas,
        weights=standards.need_weights,
        normaliser=standards.need_normaliser,
        most_deprived_deciles=standards.most_deprived_deciles,
    )


def _capacity(centres: pd.DataFrame) -> pd.Series | None:
    """Each centre's capacity (NaN where unknown), or ``None`` when no centre has one.

    A capacity known for only some centres still gives those centres' places per catchment
    under-5; the two-step floating catchment, which needs every centre's places, is then skipped
    and :func:`result_notes` says so (README: "Capacity")."""
    if "capacity" not in centres:
        return None
    capacity = pd.to_numeric(centres["capacity"], errors="coerce")
    if capacity.isna().all():
        return None
    return capacity


def assess_sufficiency(
    areas: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    standards: Standards | None = None,
    neighbours: gpd.GeoDataFrame | None = None,
    distances: Any = None,
) -> SufficiencyResult:
    """Apply the sufficiency standards to an authority's areas and centres.

    Parameters
    ----------
    areas : GeoDataFrame
        The authority's small areas in EPSG:27700, indexed by area code, with ``under5``,
        ``children_0_15``, ``idaci_children``, ``imd_decile``, ``imd_score`` (see
        :func:`planning.load_areas`).
    centres : GeoDataFrame
        Centres in EPSG:27700, indexed by ``centre_id``, with ``name`` and optionally
        ``locality``, ``kind``, ``capacity`` (see :func:`planning.inputs.centres.read_centres`);
        centres of other authorities may be included, flagged ``neighbour`` (see
        :func:`planning.inputs.neighbours.neighbour_centres`).
    standards : Standards, optional
        Defaults to the packaged ``standards.yaml``.
    neighbours : GeoDataFrame, optional
        Small areas of other authorities near the boundary
        (:func:`planning.inputs.neighbours.neighbour_areas`). Their residents use the nearest
        centre too, so they count towards centre loads and the 2SFCA; every figure, table and
        verdict is for the authority's own residents (``areas``) only.
    distances : NetworkDistances, optional
        Distances along a street network
        (:class:`planning.analysis.network_distance.NetworkDistances`) instead of the straight
        line: for the catchments, the reach flags (walking minutes with no circuity factor) and
        the 2SFCA, for the neighbouring areas too. The authority's areas must snap to it
        (at least 80% within 250 m of a street).

    Returns
    -------
    SufficiencyResult
    """
    if standards is None:
        from planning.standards import load_standards

        standards = load_standards()
    require_non_empty(areas, "areas", "small area")
    require_projected(areas, "areas")
    _validate_centres(centres)
    assessed = assessed_areas(areas, neighbours)
    need = assessed_need(areas, neighbours, standards)
    if distances is not None:
        distances.check_covers(area_points(areas))
    catchment = assign_catchments(assessed, centres, distances=distances)
    return build_result(
        areas, need, catchment, centres, standards, neighbours=neighbours, distances=distances
    )


def assessed_need(
    areas: pd.DataFrame, neighbours: pd.DataFrame | None, standards: Standards
) -> pd.DataFrame:
    """Need measures of the authority's areas, then of its neighbouring areas, each on its own.

    The need index ranks areas within a set; the authority's ranking must not move because its
    neighbours were assessed alongside, so each set is measured apart (the neighbours' counts,
    such as under-5s in income-deprived families, do not depend on it).
    """
    own = need_measures(areas, standards)
    if neighbours is None or len(neighbours) == 0:
        return own
    return pd.concat([own, need_measures(neighbours, standards)])


def assessed_areas(
    areas: gpd.GeoDataFrame, neighbours: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """The authority's areas followed by its neighbouring areas (demand that shares centres).

    Raises
    ------
    ValidationError
        If a neighbouring area is also one of the authority's, or the CRSs differ.
    """
    if neighbours is None or len(neighbours) == 0:
        return areas
    require_same_crs(areas, neighbours)
    both = areas.index.intersection(neighbours.index)
    if len(both):
        raise ValidationError(
            f"neighbours: {len(both)} area(s) are also the authority's own, e.g. {both[0]}; "
            "neighbouring areas must be other authorities' (planning.inputs.neighbours."
            "neighbour_areas gives them)"
        )
    combined = pd.concat([areas, neighbours.reindex(columns=areas.columns)])
    return gpd.GeoDataFrame(combined, geometry=areas.geometry.name, crs=areas.crs)


_AREA_RESULT_COLUMNS = (
    "centre_name",
    "locality",
    "walk_minutes",
    "reach_standard_m",
    "within_reach",
    "within_short",
    "within_walk",
    "places_per_under5_2sfca",
)


def _neighbour_flags(centres: pd.DataFrame) -> np.ndarray:
    """Whether each centre is a neighbouring authority's (not on the council's own list)."""
    if "neighbour" not in centres:
        return np.zeros(len(centres), dtype=bool)
    return centres["neighbour"].astype("boolean").fillna(False).to_numpy(dtype=bool)


def build_result(
    areas: gpd.GeoDataFrame,
    need: pd.DataFrame,
    catchment: pd.DataFrame,
    centres: gpd.GeoDataFrame,
    standards: Standards,
    *,
    neighbours: gpd.GeoDataFrame | None = None,
    distances: Any = None,
) -> SufficiencyResult:
    """Assemble a :class:`SufficiencyResult` from need measures and a catchment assignment.

    ``catchment`` has ``centre_id`` and ``distance_m`` per assessed area (the authority's, then
    its ``neighbours``, as :func:`assessed_areas` orders them; as from
    :func:`planning.analysis.catchments.assign_catchments`); the scenario engine passes its own.
    Loads and the 2SFCA use every assessed area; the area, locality, ward and authority figures
    only the authority's own. Neighbouring centres that serve none of its residents are left
    out of the centre table. With ``distances`` (a street network), the catchment's distances
    are network metres, walking minutes take no circuity factor, the 2SFCA pairs are measured
    along the network, and each area gets its snap distance and network/straight-line ratio
    (:func:`network_columns`).
    """
    assessed = assessed_areas(areas, neighbours)
    require_same_crs(assessed, centres)
    resident = np.zeros(len(assessed), dtype=bool)
    resident[: len(areas)] = True
    distance = catchment["distance_m"].to_numpy(float)
    reach_m = area_reach_standard(assessed, standards)
    circuity = distances.circuity if distances is not None else None
    minutes, within_reach, within_short, within_walk = reach_flags(
        distance, reach_m, standards, circuity=circuity
    )
    localities = centre_localities(centres)
    names = centres["name"].astype(str) if "name" in centres else centres.index.to_series()
    # A result table passed back in as areas (e.g. a scenario on a previous result) keeps only
    # its inputs: every column computed here is computed afresh.
    computed = [
        *need.columns,
        *catchment.columns,
        *_AREA_RESULT_COLUMNS,
        *_NETWORK_COLUMNS,
        "resident",
    ]
    area_table = (
        assessed.drop(columns=[c for c in computed if c in assessed]).join(need).join(catchment)
    )
    area_table["centre_name"] = area_table["centre_id"].map(names)
    area_table["locality"] = area_table["centre_id"].map(localities)
    area_table["walk_minutes"] = minutes
    area_table["reach_standard_m"] = reach_m
    area_table["within_reach"] = within_reach
    area_table["within_short"] = within_short
    area_table["within_walk"] = within_walk
    if distances is not None:
        area_table = area_table.join(
            network_columns(distances, assessed, centres, catchment, index=assessed.index)
        )
    counts = _frame_counts(area_table)

    area_centre = centres.index.get_indexer(catchment["centre_id"])
    by_centre = shares_frame(group_sums(counts, area_centre, len(centres)), centres.index)
    by_resident = shares_frame(
        group_sums(counts[resident], area_centre[resident], len(centres)), centres.index
    )
    neighbour = _neighbour_flags(centres)
    # The council's own centres always; another authority's only when it serves residents here.
    listed = ~neighbour | (by_resident["areas"].to_numpy() > 0)
    centre_table = centres.copy()
    # Where a centre is is worked out here, by the one rule, whatever the input frame said.
    centre_table["in_authority"] = centres_in_authority(centres, areas)
    centre_table["neighbour"] = neighbour
    centre_table["locality"] = localities
    centre_table["under5"] = by_centre["under5"]
    centre_table["under5_residents"] = by_resident["under5"]
    centre_table["under5_other_authorities"] = by_centre["under5"] - by_resident["under5"]
    centre_table["idaci_children"] = by_centre["idaci_children"]
    centre_table["under5_income_deprived"] = by_centre["under5_income_deprived"]
    centre_table["areas_served"] = by_centre["areas"].astype(int)
    centre_table["share_within_reach"] = by_centre["share_within_reach"]
    centre_table["load_ratio"] = centre_table["under5"] / standards.load_target
    centre_table["load_status"] = load_status(centre_table["under5"].to_numpy(float), standards)
    capacity = _capacity(centres)
    if capacity is not None and capacity[~neighbour].notna().all():
        # Another authority's centre whose places are not known offers none here (its
        # residents still count as demand): access near the boundary is then understated,
        # and result_notes says so.
        capacity = capacity.where(~neighbour | capacity.notna(), 0.0)
        # Each area's own reach standard (rural areas may have a looser one) is its catchment
        # radius, as in the reach flags, the scenario engine and the optimiser. Neighbouring
        # residents within reach count as demand on a centre's places too.
        within = distances.pairs_within if distances is not None else pairs_within
        origin, destination, metres = within(
            area_points(assessed), centre_points(centres), float(reach_m.max())
        )
        access, ratio = two_step_fca(
            assessed["under5"].to_numpy(dtype=float),
            capacity.to_numpy(dtype=float),
            origin,
            destination,
            metres,
            max_metres=reach_m,
        )
        area_table["places_per_under5_2sfca"] = access
        centre_table["places_per_under5_in_reach"] = ratio
    if capacity is not None:
        centre_table["places_per_catchment_under5"] = capacity / centre_table["under5"].where(
            centre_table["under5"] > 0
        )

    # From here on: the authority's own residents, and the centres listed for them.
    kept = np.flatnonzero(listed)
    position = np.full(len(centres), -1)
    position[kept] = np.arange(len(kept))
    resident_centre = position[area_centre[resident]]
    centre_table = centre_table.iloc[kept]
    resident_counts = counts[resident]
    resident_table = area_table.iloc[: len(areas)]
    loads = centre_table["under5"]
    resident_loads = centre_table["under5_residents"].to_numpy(float)
    locality_frame = locality_table(
        resident_counts,
        resident_centre,
        localities.iloc[kept],
        loads,
        standards,
        centre_names=names.iloc[kept],
        resident_under5=resident_loads,
        neighbour=neighbour[kept],
    )
    wards = (
        summarise(resident_table, by="ward_name")
        if "ward_name" in resident_table
        else pd.DataFrame()
    )
    figures = authority_figures(
        resident_counts,
        loads,
        standards,
        centre_names=names.iloc[kept],
        areas_served=by_resident["areas"].to_numpy()[kept],
        in_authority=centre_table["in_authority"],
        resident_under5=resident_loads,
    )
    figures["neighbour_areas"] = int((~resident).sum())
    figures["neighbour_under5_served"] = float(
        centre_table.loc[~centre_table["neighbour"], "under5_other_authorities"].sum()
    )
    if "utla_code" in areas and areas["utla_code"].nunique() == 1:
        figures["authority_code"] = str(areas["utla_code"].iloc[0])
        figures["authority_name"] = str(areas["utla_name"].iloc[0])
    neighbour_table = area_table.iloc[len(areas) :]
    return SufficiencyResult(
        areas=gpd.GeoDataFrame(resident_table, geometry=areas.geometry.name, crs=areas.crs),
        centres=gpd.GeoDataFrame(centre_table, geometry=centres.geometry.name, crs=centres.crs),
        localities=locality_frame,
        wards=wards,
        authority=figures,
        standards=standards,
        notes=result_notes(resident_table, centre_table, neighbours=neighbour_table)
        + (network_notes(distances, resident_table) if distances is not None else []),
        neighbour_areas=gpd.GeoDataFrame(
            neighbour_table, geometry=areas.geometry.name, crs=areas.crs
        ),
        supply=centres,
        distances=distances,
    )


#: Per-area columns added when distances are measured along a street network.
_NETWORK_COLUMNS = ("snap_m", "far_snap", "straight_m", "network_ratio", "barrier")


def network_columns(
    distances: Any,
    assessed: pd.DataFrame,
    centres: pd.DataFrame,
    catchment: pd.DataFrame,
    *,
    index: pd.Index,
) -> pd.DataFrame:
    """Snap distance, straight line and network/straight-line ratio to each area's centre.

    ``snap_m``: metres from the area's point to the nearest street node; ``far_snap``: more
    than 250 m; ``straight_m``: straight line to the area's centre; ``network_ratio`` =
    ``distance_m / straight_m``; ``barrier``: ratio above 1.6
    (:func:`planning.analysis.network_distance.barrier_flags`).
    """
    from planning.analysis.network_distance import FAR_SNAP_METRES, barrier_flags

    xy = area_points(assessed)
    centre_xy = centre_points(centres)[centres.index.get_indexer(catchment["centre_id"])]
    straight = np.hypot(*(xy - centre_xy).T)
    network = catchment["distance_m"].to_numpy(float)
    ratio, barrier = barrier_flags(network, straight)
    snap = distances.snap(xy).metres
    return pd.DataFrame(
        {
            "snap_m": snap,
            "far_snap": snap > FAR_SNAP_METRES,
            "straight_m": straight,
            "network_ratio": ratio,
            "barrier": barrier,
        },
        index=index,
    )


def network_notes(distances: Any, areas: pd.DataFrame) -> list[str]:
    """What a reader must know when distances are measured along a street network."""
    notes = [
        f"Distances are measured {distances.describe()}: each area's point and each centre are "
        "snapped to the nearest street node; walking minutes are network metres at the walking "
        "speed, with no circuity factor."
    ]
    far = int(areas["far_snap"].sum()) if "far_snap" in areas else 0
    if far:
        notes.append(
            f"{far} small area(s) snap more than 250 m from a street in the network file; their "
            "distances are less certain (see snap_m)."
        )
    barriers = int(areas["barrier"].sum()) if "barrier" in areas else 0
    if barriers:
        notes.append(
            f"{barriers} small area(s) lie behind a barrier: the walk to their centre is more "
            "than 1.6 times the straight line (a river, railway, major road or estate without "
            "through routes; see network_ratio)."
        )
    return notes


ILLUSTRATIVE_NOTE = (
    "The centres used are ILLUSTRATIVE sites, not the council's real centres: they were placed by "
    "under-5-weighted k-means over real small-area demand (planning/data/centres/README.md). "
    "Supply the council's own centres file with --centres FILE (format in "
    "planning/data/centres/README.md) before relying on any figure."
)


NEIGHBOUR_ILLUSTRATIVE_NOTE = (
    "Other authorities' centres near the boundary are ILLUSTRATIVE sites from the illustrative "
    "national network (planning/data/centres/README.md), not the neighbouring councils' real "
    "centres; give their real list with --neighbour-centres FILE (a centres file or a DfE GIAS "
    "extract) before relying on figures for border areas."
)


def result_notes(
    areas: pd.DataFrame, centres: pd.DataFrame, *, neighbours: pd.DataFrame | None = None
) -> list[str]:
    """Caveats that every output of this result must carry."""
    notes = []
    illustrative = (
        centres["source"].astype(str) == "illustrative"
        if "source" in centres
        else pd.Series(False, index=centres.index)
    )
    neighbour = _neighbour_flags(centres)
    if (illustrative & ~neighbour).any():
        notes.append(ILLUSTRATIVE_NOTE)
    if (illustrative & neighbour).any():
        notes.append(NEIGHBOUR_ILLUSTRATIVE_NOTE)
    if neighbours is not None and len(neighbours):
        notes.append(
            f"No authority is an island: {len(neighbours):,} small areas of other authorities "
            f"near the boundary ({count(neighbours['under5'].sum())} under-5s) were assessed "
            "alongside, because families use the nearest centre whichever council runs it "
            "(Childcare Act 2006 s.5A(3)). They count towards centre loads and the places per "
            "child; every figure, table and verdict here is for this authority's own residents."
        )
    if "idaci_estimated" in areas and areas["idaci_estimated"].astype(bool).any():
        n = int(areas["idaci_estimated"].astype(bool).sum())
        notes.append(
            f"{n} small area(s) have an IDACI count suppressed in the published indicators "
            "(fewer than 10 children); their count is estimated within 0-9 and flagged "
            "'idaci_estimated' (method in planning/data/README.md)."
        )
    if {"under5", "idaci_children", "children_0_15"} <= set(areas.columns):
        notes.append(income_deprived_note(areas))
    rural = rural_note(areas)
    if rural:
        notes.append(rural)
    capacity = _capacity(centres) if "capacity" in centres else None
    own = capacity[~neighbour] if capacity is not None else None
    if own is not None and own.isna().any():
        notes.append(
            f"Capacity is known for {int(own.notna().sum())} of {len(own)} centres; "
            "places per under-5 are shown for those centres only, and the two-step floating "
            "catchment (which needs every centre's places) is not computed. Give every centre a "
            "capacity to compute it."
        )
    elif own is not None and capacity is not None and capacity[neighbour].isna().any():
        notes.append(
            f"Places are not known for {int(capacity[neighbour].isna().sum())} other "
            "authorities' centre(s) that serve families here; the places per under-5 (two-step "
            "floating catchment) count none for them, so access near the boundary is "
            "understated. Give their capacity in --neighbour-centres FILE."
        )
    return notes
