"""Demand and supply beyond an authority's boundary: no authority is assessed as an island.

Families near a boundary use the nearest centre, whichever council runs it, and centres outside
an authority count when they serve its residents (Childcare Act 2006 s.5A(3)). An assessment
therefore takes, besides the authority's own small areas and centres:

* **Neighbouring demand** (:func:`neighbour_areas`): every small area of another authority
  whose point lies within the *buffer* of the authority's boundary. The buffer is the largest
  reach standard in force (urban or rural) plus :data:`NEIGHBOUR_MARGIN_M`. Those residents
  count towards the loads of the centres they are nearest to, the 2SFCA supply ratios and the
  optimiser's demand; headline figures and verdicts stay the authority's own residents'.
* **Neighbouring supply** (:func:`neighbour_centres`): centres of other authorities within
  twice the buffer of the boundary, from a neighbours file (any centres format, or a GIAS
  extract, national or not) or, by default, the shipped *illustrative national network*
  (:func:`read_national_network`: the same illustrative sites every authority gets by default,
  for all 153 authorities).

Why the margin is 5 km
----------------------
The buffer exists to find every neighbouring resident who shares a centre with the authority's
own residents, so that those centres' loads are complete. A catchment reaches beyond the reach
standard wherever centres are sparse, so the reach standard alone is too tight. On the
illustrative national network, for all 153 authorities (``benchmarks/bench_neighbours.py``
compares each authority's loads with the national run, which is exact by construction), the
share of the centres serving an authority's residents whose load comes out exactly was:

=========  ===========  =====================  =============================
margin     buffer only  with the completion     neighbouring areas (median)
=========  ===========  =====================  =============================
0 km       82.2%        94.6%                  146
2.5 km     93.5%        98.7%                  304
5 km       97.7%        99.6% (145 of 153)     459
10 km      99.5%        99.9% (152 of 153)     865
=========  ===========  =====================  =============================

"The completion" (:func:`planning.runs.sufficiency.complete_catchments`) then adds any area
beyond the buffer whose nearest centre serves the authority's residents. 5 km with the
completion leaves 0.4% of such centres inexact, at half the areas of 10 km; a wider margin
buys 0.3 points for twice the work.

Neighbouring centres are taken within twice the buffer of the boundary: every neighbouring area
in the buffer then finds its true nearest centre whenever that centre is within the buffer's
width of it.
"""

from __future__ import annotations

import functools
import logging
import os
from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planning import settings
from planning._errors import ValidationError
from planning.inputs.areas import VINTAGE_FILES, authority_boundary, within_authority
from planning.inputs.centres import CENTRES_CSV_COLUMNS
from planning.standards import Standards

logger = logging.getLogger(__name__)

__all__ = [
    "DUPLICATE_SITE_METRES",
    "NATIONAL_NETWORK_COLUMNS",
    "NEIGHBOUR_MARGIN_M",
    "areas_by_code",
    "buffer_metres",
    "national_network_path",
    "national_points",
    "neighbour_areas",
    "neighbour_centres",
    "neighbour_sites",
    "read_national_network",
    "supply_ring_metres",
]

#: Metres added to the largest reach standard to make the buffer of neighbouring demand (see the
#: module docstring for why 5 km).
NEIGHBOUR_MARGIN_M = 5_000.0
#: A neighbouring centre this close to one of the council's own listed centres is the same site
#: listed twice (the council's row wins).
DUPLICATE_SITE_METRES = 50.0
#: Columns of the illustrative national network CSV, in order: a centres CSV
#: (:func:`planning.inputs.centres.write_centres`) with each site's authority.
NATIONAL_NETWORK_COLUMNS: tuple[str, ...] = (
    *CENTRES_CSV_COLUMNS,
    "authority_code",
    "authority_name",
)


def buffer_metres(standards: Standards) -> float:
    """The buffer of neighbouring demand: ``max(reach, rural reach) + NEIGHBOUR_MARGIN_M``.

    Examples
    --------
    >>> buffer_metres(Standards())
    7500.0
    """
    return max(standards.reach_m, standards.rural_reach_m) + NEIGHBOUR_MARGIN_M


def supply_ring_metres(standards: Standards) -> float:
    """How far beyond the boundary neighbouring centres are taken: twice the buffer."""
    return 2.0 * buffer_metres(standards)


def national_network_path() -> Path:
    """The shipped illustrative national network: ``data/centres/england_illustrative.csv``."""
    return settings.DATA_DIR / "centres" / "england_illustrative.csv"


@cache
def _national_network() -> gpd.GeoDataFrame:
    path = national_network_path()
    if not path.is_file():
        raise ValidationError(
            f"{path.name}: the illustrative national network is missing from {path.parent}; "
            "reinstall the package or run scripts/make_national_network.py"
        )
    table = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("centre_id")
    easting = table.pop("easting").astype(float)
    northing = table.pop("northing").astype(float)
    table["capacity"] = pd.to_numeric(table["capacity"], errors="coerce")
    table["location_from"] = "easting_northing"
    return gpd.GeoDataFrame(
        table,
        geometry=gpd.points_from_xy(easting, northing),
        crs=settings.WORKING_CRS,
    )


def read_national_network() -> gpd.GeoDataFrame:
    """The illustrative national network: every authority's default illustrative sites.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``<authority code>-<site id>``, with the centres columns and
        ``authority_code``/``authority_name``; points in EPSG:27700. Illustrative: these are not
        any council's real centres (``source = illustrative`` on every row).

    Examples
    --------
    >>> network = read_national_network()
    >>> network["authority_code"].nunique(), bool((network["source"] == "illustrative").all())
    (153, True)
    """
    return _national_network().copy()


def national_points() -> pd.DataFrame:
    """Every English small area's point (``point_easting``, ``point_northing``), authority
    (``utla_code``, ``utla_name``) and ``under5``, indexed by ``area_code``; no geometry, so it
    reads in a fraction of a second."""
    return _national_points().copy()


@cache
def _national_points() -> pd.DataFrame:
    import pyarrow.parquet as pq

    columns = ["area_code", "point_easting", "point_northing", "utla_code", "utla_name", "under5"]
    path = settings.DATA_DIR / VINTAGE_FILES[2021]
    table = pq.read_table(path, columns=columns).to_pandas()
    return table if table.index.name == "area_code" else table.set_index("area_code")


def _within(boundary: shapely.Geometry, xy: np.ndarray, metres: float) -> np.ndarray:
    """Whether each point lies within ``metres`` of ``boundary`` (a box test first: cheap)."""
    west, south, east, north = shapely.bounds(boundary)
    near = np.zeros(len(xy), dtype=bool)
    box = (
        (xy[:, 0] >= west - metres)
        & (xy[:, 0] <= east + metres)
        & (xy[:, 1] >= south - metres)
        & (xy[:, 1] <= north + metres)
    )
    if box.any():
        near[box] = shapely.dwithin(boundary, shapely.points(xy[box]), metres)
    return near


def neighbour_areas(
    areas: gpd.GeoDataFrame, buffer_m: float, *, boundary: shapely.Geometry | None = None
) -> gpd.GeoDataFrame:
    """The small areas of other authorities whose point lies within ``buffer_m`` of ``areas``.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        One authority's small areas (:func:`planning.load_areas`), EPSG:27700.
    buffer_m : float
        Metres from the authority's boundary (:func:`buffer_metres`).
    boundary : shapely geometry, optional
        The union of ``areas`` when the caller already holds it
        (:func:`planning.inputs.areas.authority_boundary`).

    Returns
    -------
    geopandas.GeoDataFrame
        Rows as :func:`planning.load_areas` gives them, from the same 2021 file, except that the
        geometry is each area's point (they are demand only); empty for an authority with no
        neighbouring areas within the buffer (the Isles of Scilly).
    """
    if buffer_m < 0 or not np.isfinite(buffer_m):
        raise ValidationError(f"buffer_m must be 0 or more metres, found {buffer_m!r}")
    points = _national_points()
    others = points[~points.index.isin(areas.index)]
    boundary = authority_boundary(areas) if boundary is None else boundary
    xy = others[["point_easting", "point_northing"]].to_numpy(float)
    near = _within(boundary, xy, buffer_m)
    return areas_by_code(others.index[near])


def areas_by_code(codes: pd.Index | list[str]) -> gpd.GeoDataFrame:
    """Small areas (2021) by code, in the given order, with each area's point as geometry.

    Raises
    ------
    ValidationError
        For a code that is not an English LSOA 2021.
    """
    codes = pd.Index(codes, name="area_code")
    points = _national_points()
    unknown = codes.difference(points.index)
    if len(unknown):
        raise ValidationError(
            f"unknown small area code(s) {', '.join(map(str, unknown[:5]))}: give English "
            "LSOA 2021 codes (E01...)"
        )
    authorities = sorted(set(points.loc[codes, "utla_code"]))
    if not authorities:
        frame = _authority_rows("").iloc[0:0]
    else:
        frame = pd.concat([_authority_rows(code) for code in authorities]).loc[codes]
    return gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy(frame["point_easting"], frame["point_northing"]),
        crs=settings.WORKING_CRS,
    )


@functools.lru_cache(maxsize=32)
def _authority_rows(code: str) -> pd.DataFrame:
    """One authority's rows of the 2021 file without the polygons (kept for the process: the
    buffer and the catchment completion of one run, and neighbouring runs, read the same)."""
    import pyarrow.parquet as pq

    path = settings.DATA_DIR / VINTAGE_FILES[2021]
    # The file is ordered by authority, so filtering on it skips most of the file (an area
    # code filter would read every row group). Neighbouring areas are demand only: their
    # polygons are never drawn or tested, so their point stands in for the geometry and the
    # polygons are not decoded.
    columns = [c for c in pq.ParquetFile(path).schema_arrow.names if c != "geometry"]
    frame = pq.read_table(path, columns=columns, filters=[("utla_code", "==", code)]).to_pandas()
    return frame if frame.index.name == "area_code" else frame.set_index("area_code")


def _authority_of(xy: np.ndarray) -> pd.Series:
    """The authority of the nearest English small-area point to each point (name)."""
    points = _national_points()
    tree = cKDTree(points[["point_easting", "point_northing"]].to_numpy(float))
    _, index = tree.query(xy)
    return pd.Series(points["utla_name"].to_numpy()[index])


def neighbour_sites(
    source: str | os.PathLike[str] | None = None, *, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Every centre of a neighbours file (centres format or GIAS extract), or of the
    illustrative national network when ``source`` is None, before any selection."""
    if source is None:
        return read_national_network()
    from planning.inputs.centres import read_centres
    from planning.inputs.gias import import_gias, is_gias_extract

    path = Path(source)
    if path.is_file() and is_gias_extract(path):
        return import_gias(path).centres
    return read_centres(path, layer=layer)


def neighbour_centres(
    areas: gpd.GeoDataFrame,
    own: gpd.GeoDataFrame,
    *,
    standards: Standards,
    source: str | os.PathLike[str] | None = None,
    layer: str | None = None,
    boundary: shapely.Geometry | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Centres of other authorities near ``areas``, to sit beside the council's own list.

    Kept: centres outside the authority (by the one rule,
    :func:`planning.inputs.areas.within_authority`) and within :func:`supply_ring_metres` of its
    boundary, that are not one of the council's own listed centres (the same id, or within
    :data:`DUPLICATE_SITE_METRES` of one). The council's file is the truth inside its boundary,
    so a neighbours-file centre inside the authority is left out (and counted in the notes).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        The authority's own small areas.
    own : geopandas.GeoDataFrame
        The council's centres (its ``--centres`` file, which may list outside centres too).
    standards : Standards
        For the buffer.
    source : path, optional
        A neighbours file (``--neighbour-centres``): any centres format read by
        :func:`planning.inputs.centres.read_centres`, or a GIAS extract (national or not).
        Default: the illustrative national network (:func:`read_national_network`).
    layer : str, optional
        GeoPackage layer of ``source``.
    boundary : shapely geometry, optional
        The union of ``areas``, when the caller already holds it.
    sites : geopandas.GeoDataFrame, optional
        ``source`` already read with :func:`neighbour_sites`.

    Returns
    -------
    (GeoDataFrame, list of str)
        The neighbouring centres (the centres columns, ``in_authority`` False, ``neighbour``
        True, ``authority_name`` and ``locality`` "Served from <authority>" unless the file
        gives one) and plain-English notes on what was left out and why.
    """
    candidates = neighbour_sites(source, layer=layer) if sites is None else sites
    label = "the illustrative national network" if source is None else Path(source).name
    xy = np.column_stack([candidates.geometry.x, candidates.geometry.y])
    boundary = authority_boundary(areas) if boundary is None else boundary
    near = _within(boundary, xy, supply_ring_metres(standards))
    inside = np.zeros(len(xy), dtype=bool)
    inside[near] = within_authority(boundary, xy[near, 0], xy[near, 1])
    own_xy = np.column_stack([own.geometry.x, own.geometry.y]) if len(own) else np.empty((0, 2))
    same_site = np.zeros(len(candidates), dtype=bool)
    if len(own_xy):
        distance, _ = cKDTree(own_xy).query(xy)
        same_site = distance <= DUPLICATE_SITE_METRES
    same_id = candidates.index.astype(str).isin(own.index.astype(str))
    keep = near & ~inside & ~same_site
    notes = []
    if source is not None and (inside & ~same_site).any():
        notes.append(
            f"{int((inside & ~same_site).sum())} centre(s) in {label} lie inside the authority "
            "and are not in its centres file; they were left out (the council's own file is the "
            "list of its centres)."
        )
    clash = keep & same_id
    chosen = candidates[keep].copy()
    if clash.any():
        # The same id for a different place (e.g. two councils both number from CC01).
        chosen.index = pd.Index(
            [f"{i} (neighbour)" if c else str(i) for i, c in zip(chosen.index, clash[keep])],
            name="centre_id",
        )
    chosen_xy = xy[keep]
    names = (
        chosen["authority_name"].astype(str)
        if "authority_name" in chosen
        else _authority_of(chosen_xy).set_axis(chosen.index)
    )
    chosen["authority_name"] = names.to_numpy()
    # Say whose centre it is wherever its name appears (reasons, tables, maps).
    chosen["name"] = [
        name if authority in name else f"{name} ({authority})"
        for name, authority in zip(chosen["name"].astype(str), chosen["authority_name"])
    ]
    given = chosen["locality"].astype(str).str.strip() if "locality" in chosen else None
    served_from = "Served from " + chosen["authority_name"]
    if source is None or given is None:
        chosen["locality"] = served_from
    else:
        # A centre with no locality of its own in the file is named after its own authority.
        chosen["locality"] = given.where(
            (given != "") & (given != chosen["name"].astype(str)), served_from
        )
    chosen["in_authority"] = pd.array([False] * len(chosen), dtype="boolean")
    chosen["neighbour"] = True
    chosen.index.name = "centre_id"
    logger.info("%d neighbouring centre(s) taken from %s", len(chosen), label)
    return chosen, notes
