"""Illustrative centre sites for authorities whose real centres are not to hand.

No national, machine-readable list of children's centres or family hub sites exists, so the
workbench can place **illustrative** sites where an authority's under-5s live. They let a planner
try every notebook and command on any authority; they are not the council's centres, every row
says ``source = illustrative``, and every output built on them carries the caveat
(:data:`planning.analysis.sufficiency.ILLUSTRATIVE_NOTE`).

The rule (the one used for Derby's shipped file, ``planning/data/centres/README.md``):

1. **How many.** One site per :data:`UNDER5_PER_SITE` under-5s (Derby's ten centres for its
   15,795 under-5s), rounded, at least one.
2. **Where.** scikit-learn ``KMeans`` over the areas' points weighted by under-5s
   (``sample_weight=under5``, seed ``settings.RANDOM_SEED``); each cluster centre is snapped to
   the nearest area point, so a site sits where people live. Sites are numbered ``CC01``...
   from north to south and named "Illustrative site N (near WARD)".
3. **Known sites** (``anchors``, e.g. a documented locality base) each replace the illustrative
   site nearest to them, keeping its id.
4. **Localities.** ``KMeans`` on the site points (three localities per ten sites), each named by
   the compass bearing of its mean from the authority's under-5-weighted mean ("Central" within
   1 km).
5. **Hubs.** With every area served by its nearest site, the sites whose catchments hold the
   most under-5s in the 30% most deprived areas (IMD deciles 1-3) are hubs (six per ten sites,
   Derby's 2024 mix); the rest are branches.

Examples
--------
>>> from planning import toy_town
>>> town = toy_town(rows=4, columns=4, under5=400)
>>> sites = illustrative_centres(town)
>>> len(sites), sites["source"].unique().tolist()
(4, ['illustrative'])
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planning import settings
from planning._errors import ValidationError
from planning._format import slug
from planning._validate import (
    Problems,
    check_counts,
    require_columns,
    require_file,
    require_non_empty,
)
from planning.inputs.areas import area_points

logger = logging.getLogger(__name__)

__all__ = [
    "UNDER5_PER_SITE",
    "illustrative_centres",
    "illustrative_centres_path",
    "locality_names",
    "resolve_centres",
]

#: Under-5s per illustrative site: Derby's 15,795 under-5s (ONS mid-2020) over its ten centres.
UNDER5_PER_SITE = 1_580
#: Localities and hubs per site, from Derby (three localities, six hubs, ten sites).
LOCALITIES_PER_SITE = 0.3
HUBS_PER_SITE = 0.6
#: Group means closer than this to the authority's under-5 mean are called "Central".
CENTRAL_METRES = 1_000.0
HUB_SERVICES = "family hub core offer"
COMPASS_4 = ("North", "East", "South", "West")
COMPASS_8 = (
    "North", "North East", "East", "South East", "South", "South West", "West", "North West"
)  # fmt: skip


def _compass(dx: float, dy: float, names: tuple[str, ...]) -> str:
    """The compass point nearest to the bearing (clockwise from grid north) of (dx, dy)."""
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0
    sector = 360.0 / len(names)
    return names[int(((bearing + sector / 2) % 360.0) // sector)]


def locality_names(offsets: np.ndarray) -> list[str]:
    """Unique names for groups whose means lie at ``offsets`` (dx, dy metres) from the centre.

    "Central" within :data:`CENTRAL_METRES`; otherwise the 4-point compass name, or the 8-point
    one for every group when two 4-point names clash; a number is added as a last resort.

    Examples
    --------
    >>> locality_names(np.array([[0.0, 5000.0], [4000.0, -200.0], [100.0, 100.0]]))
    ['North', 'East', 'Central']
    """
    distance = np.hypot(offsets[:, 0], offsets[:, 1])
    names: list[str] = []
    for compass in (COMPASS_4, COMPASS_8):
        names = [
            "Central" if d < CENTRAL_METRES else _compass(dx, dy, compass)
            for (dx, dy), d in zip(offsets, distance)
        ]
        if len(set(names)) == len(names):
            return names
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if names.count(name) == 1 else f"{name} {seen[name]}")
    return unique


def _validate(areas: object, anchors: object) -> None:
    if not isinstance(areas, gpd.GeoDataFrame):
        raise ValidationError(f"areas: expected a GeoDataFrame, found {type(areas).__name__}")
    require_non_empty(areas, "areas", "small area")
    problems = Problems("areas")
    require_columns(areas, ["under5", "imd_decile", "ward_name"], problems)
    if "under5" in areas:
        check_counts(areas, ["under5"], problems)
    problems.raise_if_any()
    if float(areas["under5"].sum()) <= 0:
        raise ValidationError("areas: no under-5s to place illustrative sites by; check the data")
    if anchors is not None:
        if not isinstance(anchors, gpd.GeoDataFrame) or "name" not in anchors:
            raise ValidationError(
                "anchors: expected a GeoDataFrame of points with a 'name' column (and optionally "
                "'postcode'), in the same CRS as the areas"
            )
        if set(anchors.geom_type.dropna()) - {"Point"} or anchors.geometry.isna().any():
            raise ValidationError("anchors: every anchor must be a Point")
        if anchors.crs != areas.crs:
            raise ValidationError(
                f"anchors: CRS {anchors.crs} differs from the areas' {areas.crs}; reproject "
                "the anchors with .to_crs(areas.crs)"
            )


def _site_counts(
    n: int | None,
    localities: int | None,
    hubs: int | None,
    *,
    under5_total: float,
    n_areas: int,
    n_anchors: int,
) -> tuple[int, int, int]:
    """The numbers of sites, localities and hubs: as given, or by the rule (step 1), checked."""
    if n is None:
        n = max(1, round(under5_total / UNDER5_PER_SITE))
    n = int(n)
    if not 1 <= n <= n_areas:
        raise ValidationError(f"n must be between 1 and the number of areas ({n_areas}), not {n}")
    localities = max(1, round(LOCALITIES_PER_SITE * n)) if localities is None else int(localities)
    hubs = round(HUBS_PER_SITE * n) if hubs is None else int(hubs)
    if not 1 <= localities <= n or not 0 <= hubs <= n:
        raise ValidationError(
            f"localities must be 1 to n ({n}) and hubs 0 to n; found {localities} and {hubs}"
        )
    if n_anchors > n:
        raise ValidationError(f"{n_anchors} anchors cannot replace only {n} sites; raise n")
    return n, localities, hubs


def _snap_to_points(centres: np.ndarray, points: np.ndarray) -> list[int]:
    """Each cluster centre's nearest area point, or the next nearest if already taken."""
    # Snapping puts every site where people live, and no two sites on the same area point.
    tree = cKDTree(points)
    snapped: list[int] = []
    for centre in centres:
        _, order = tree.query(centre, k=len(points))
        snapped.append(next(int(i) for i in np.atleast_1d(order) if int(i) not in snapped))
    return snapped


def _place_sites(
    points: np.ndarray, under5: np.ndarray, ward_names: np.ndarray, n: int
) -> pd.DataFrame:
    """``n`` sites by weighted k-means (step 2), numbered and named from north to south.

    Returns ``ward_name``, ``x``, ``y``, ``name`` and ``postcode`` (blank), indexed by
    ``centre_id``.
    """
    from sklearn.cluster import KMeans

    kmeans = KMeans(n_clusters=n, random_state=settings.RANDOM_SEED, n_init=10)
    kmeans.fit(points, sample_weight=under5)
    snapped = _snap_to_points(kmeans.cluster_centers_, points)
    sites = pd.DataFrame(
        {"ward_name": ward_names[snapped], "x": points[snapped, 0], "y": points[snapped, 1]}
    )
    sites = sites.sort_values(["y", "x"], ascending=[False, True], kind="stable")
    width = max(2, len(str(n)))
    sites.index = pd.Index([f"CC{i:0{width}d}" for i in range(1, n + 1)], name="centre_id")
    sites["name"] = [
        f"Illustrative site {i} (near {ward})" for i, ward in enumerate(sites["ward_name"], 1)
    ]
    sites["postcode"] = ""
    return sites


def _place_anchors(sites: pd.DataFrame, anchors: gpd.GeoDataFrame) -> None:
    """Each known site replaces the nearest site not yet replaced (step 3), in ``sites``."""
    taken: set[str] = set()
    for _, anchor in anchors.iterrows():
        free = sites.loc[~sites.index.isin(taken)]
        point = anchor.geometry
        nearest = free.index[int(np.argmin(np.hypot(free["x"] - point.x, free["y"] - point.y)))]
        sites.loc[nearest, ["x", "y"]] = [point.x, point.y]
        postcode = anchor.get("postcode", "")
        sites.loc[nearest, ["name", "postcode"]] = [
            str(anchor["name"]),
            "" if pd.isna(postcode) else str(postcode),
        ]
        taken.add(nearest)


def _site_localities(
    xy: np.ndarray, points: np.ndarray, under5: np.ndarray, localities: int
) -> list[str]:
    """Each site's locality (step 4): k-means groups named by bearing from the under-5 mean."""
    from sklearn.cluster import KMeans

    labels = KMeans(
        n_clusters=localities, random_state=settings.RANDOM_SEED, n_init=10
    ).fit_predict(xy)
    middle = np.average(points, axis=0, weights=under5)
    offsets = np.array([xy[labels == g].mean(axis=0) - middle for g in range(localities)])
    names = locality_names(offsets)
    return [names[g] for g in labels]


def _site_kinds(
    xy: np.ndarray,
    points: np.ndarray,
    under5: np.ndarray,
    imd_decile: np.ndarray,
    index: pd.Index,
    hubs: int,
) -> np.ndarray:
    """'hub' for the ``hubs`` sites serving most deprived under-5s, else 'branch' (step 5)."""
    # Nearest-site catchments: under-5s in IMD deciles 1-3 decide which sites are hubs.
    _, catchment = cKDTree(xy).query(points)
    deprived = np.where(imd_decile <= 3, under5, 0.0)
    n = len(index)
    need = pd.DataFrame(
        {
            "deprived_under5": np.bincount(catchment, weights=deprived, minlength=n),
            "under5": np.bincount(catchment, weights=under5, minlength=n),
        },
        index=index,
    )
    ranked = need.sort_values(["deprived_under5", "under5"], ascending=False).index
    return np.where(index.isin(ranked[:hubs]), "hub", "branch")


def illustrative_centres(
    areas: gpd.GeoDataFrame,
    n: int | None = None,
    *,
    localities: int | None = None,
    hubs: int | None = None,
    anchors: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Illustrative centre sites placed where an authority's under-5s live.

    The rule is in the module docstring. Deterministic: the same areas give the same sites.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Small areas in EPSG:27700 with ``under5``, ``imd_decile`` and ``ward_name`` (as
        :func:`planning.load_areas` returns); each area's point is
        :func:`planning.analysis.distance.area_points`.
    n : int, optional
        Number of sites; default one per :data:`UNDER5_PER_SITE` under-5s (at least one, at
        most one per area).
    localities, hubs : int, optional
        Number of locality groups (default ``round(0.3 * n)``, at least one) and of hubs
        (default ``round(0.6 * n)``).
    anchors : geopandas.GeoDataFrame, optional
        Known sites (points with ``name`` and optionally ``postcode``), each replacing the
        illustrative site nearest to it.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``centre_id`` (``CC01``...), columns ``name``, ``postcode``, ``capacity``
        (unknown: NaN), ``services``, ``locality``, ``kind`` (hub/branch) and ``source``
        (``illustrative``); points in the areas' CRS. Write it with
        :func:`planning.inputs.centres.write_centres`.
    """
    _validate(areas, anchors)
    points = area_points(areas)
    under5 = areas["under5"].to_numpy(dtype=float)
    n, localities, hubs = _site_counts(
        n,
        localities,
        hubs,
        under5_total=float(under5.sum()),
        n_areas=len(areas),
        n_anchors=0 if anchors is None else len(anchors),
    )
    sites = _place_sites(points, under5, areas["ward_name"].to_numpy(), n)
    if anchors is not None:
        _place_anchors(sites, anchors)
    xy = sites[["x", "y"]].to_numpy(dtype=float)
    sites["locality"] = _site_localities(xy, points, under5, localities)
    sites["kind"] = _site_kinds(
        xy, points, under5, areas["imd_decile"].to_numpy(), sites.index, hubs
    )
    sites["services"] = np.where(sites["kind"] == "hub", HUB_SERVICES, "")
    sites["capacity"] = np.nan
    sites["source"] = "illustrative"
    return gpd.GeoDataFrame(
        sites[["name", "postcode", "capacity", "services", "locality", "kind", "source"]],
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=areas.crs,
    )


def illustrative_centres_path(authority: str) -> Path:
    """Where an authority's shipped illustrative centres file lives (it may not exist).

    ``data/centres/<name>_illustrative.csv``, the name in lower case with underscores, e.g.
    ``derby_illustrative.csv``, ``thurrock_illustrative.csv``.
    """
    from planning.inputs.areas import resolve_authority

    _, name = resolve_authority(authority)
    return settings.DATA_DIR / "centres" / f"{slug(name, '_')}_illustrative.csv"


def _national_sites(code: str) -> gpd.GeoDataFrame | None:
    """The authority's rows of the illustrative national network (the same rule, already run
    for all 153 authorities), with their own ids (``CC01``...), or None when not shipped."""
    from planning.inputs.neighbours import national_network_path, read_national_network

    if not national_network_path().is_file():
        return None
    network = read_national_network()
    rows = network[network["authority_code"] == code]
    if rows.empty:
        return None
    rows = rows.drop(columns=["authority_code", "authority_name", "location_from"])
    rows.index = pd.Index([i.split("-", 1)[1] for i in rows.index], name="centre_id")
    return rows


def resolve_centres(authority: str, centres: str | os.PathLike[str] | None = None) -> Path:
    """The centres file to use for an authority: ``centres`` if given, else illustrative sites.

    With ``centres=None``: the shipped ``data/centres/<name>_illustrative.csv`` when there is
    one (Derby, Thurrock); otherwise the authority's sites in the illustrative national network
    (``data/centres/england_illustrative.csv``, made by :func:`illustrative_centres` for every
    authority, so the same sites its neighbours see), written to a CSV in the temporary folder
    (deterministic, so the same file each time). This is what the planner notebooks mean by ``centres = None``.

    Raises
    ------
    ValidationError
        If ``centres`` is given but is not a file.
    """
    if centres is not None:
        path = Path(centres)
        if path.is_dir():
            require_file(path, "centres file", suffixes=(".csv", ".geojson", ".json", ".gpkg"))
        if not path.is_file():
            raise ValidationError(
                f"centres file {path} not found; give the path of a CSV, GeoJSON or GeoPackage "
                "(format in planning/data/centres/README.md), or None for illustrative sites"
            )
        return path
    shipped = illustrative_centres_path(authority)
    if shipped.is_file():
        return shipped
    from planning.inputs.areas import load_areas, resolve_authority
    from planning.inputs.centres import write_centres

    code, name = resolve_authority(authority)
    folder = Path(tempfile.gettempdir()) / "planning-illustrative"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{code}_{slug(name, '_')}_illustrative.csv"
    logger.info("no centres file shipped for %s: illustrative sites written to %s", name, target)
    sites = _national_sites(code)
    if sites is None:
        sites = illustrative_centres(load_areas(code))
    # Write beside the target and rename, so concurrent runs never read half a file.
    handle, staging = tempfile.mkstemp(suffix=".csv", dir=folder)
    os.close(handle)
    try:
        write_centres(sites, staging)
        os.replace(staging, target)
    finally:
        Path(staging).unlink(missing_ok=True)
    return target
