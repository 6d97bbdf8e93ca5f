"""Write data/centres/derby_illustrative.csv: ten illustrative centre sites for Derby.

Derby runs ten children's centres (2024: six family hubs and four branch centres) on a locality
basis, but no machine-readable list of their sites was available, so the workbench ships
illustrative sites instead, placed where Derby's under-5s live:

1. under-5-weighted k-means (k = 10) over the interior points of Derby's 152 LSOAs (2021);
2. each cluster centre snapped to the nearest LSOA interior point (a place where people live,
   not a point in a park); sites are numbered north to south;
3. the one documented locality base, The Big Building, 17-19 Lower Dale Road, DE23 6WY
   (geocoded with the ONS Postcode Directory), replaces the illustrative site nearest to it;
4. the ten sites are grouped into three illustrative localities (k-means, k = 3, on the site
   points), each named by the compass bearing of its mean from Derby's under-5-weighted mean;
5. the six sites whose nearest-site catchments hold the most under-5s in the 30% most deprived
   LSOAs (IMD deciles 1-3) are hubs, the other four branches, mirroring Derby's 2024 mix.

Run once by developers; the CSV is committed::

    .venv/bin/python scripts/make_illustrative_centres.py
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.cluster import KMeans

from planning import settings
from planning.datasets import load_areas
from planning.io import lookup_postcodes, write_centres

AUTHORITY = "E06000015"  # Derby
SITES = 10
HUBS = 6
LOCALITIES = 3
BASE_NAME = "The Big Building (locality base)"
BASE_POSTCODE = "DE23 6WY"
HUB_SERVICES = "family hub core offer"
#: Group means closer than this to the city's under-5 mean are called "Central".
CENTRAL_METRES = 1_000.0
COMPASS_4 = ("North", "East", "South", "West")
COMPASS_8 = (
    "North", "North East", "East", "South East", "South", "South West", "West", "North West"
)


def _compass(dx: float, dy: float, names: tuple[str, ...]) -> str:
    """The compass point nearest to the bearing (clockwise from grid north) of (dx, dy)."""
    bearing = math.degrees(math.atan2(dx, dy)) % 360.0
    sector = 360.0 / len(names)
    return names[int(((bearing + sector / 2) % 360.0) // sector)]


def locality_names(offsets: np.ndarray) -> list[str]:
    """Unique names for groups whose means lie at ``offsets`` (dx, dy metres) from the centre.

    "Central" within :data:`CENTRAL_METRES`; otherwise the 4-point compass name, or the
    8-point one for every group when two 4-point names clash; a number is added as a last
    resort.
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


def build_sites(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The ten illustrative sites as a centres frame (see the module docstring)."""
    points = areas[["point_easting", "point_northing"]].to_numpy(dtype=float)
    under5 = areas["under5"].to_numpy(dtype=float)

    kmeans = KMeans(n_clusters=SITES, random_state=settings.RANDOM_SEED, n_init=10)
    kmeans.fit(points, sample_weight=under5)
    tree = cKDTree(points)
    # Snap each cluster centre to its nearest LSOA point; the next nearest if already taken.
    snapped: list[int] = []
    for centre in kmeans.cluster_centers_:
        _, order = tree.query(centre, k=len(points))
        snapped.append(next(int(i) for i in np.atleast_1d(order) if int(i) not in snapped))
    sites = areas.iloc[snapped][["ward_name", "point_easting", "point_northing"]].copy()
    sites = sites.sort_values(["point_northing", "point_easting"], ascending=[False, True])
    sites["centre_id"] = [f"CC{i:02d}" for i in range(1, SITES + 1)]
    sites = sites.reset_index().set_index("centre_id")
    sites["name"] = [
        f"Illustrative site {i} (near {ward})" for i, ward in enumerate(sites["ward_name"], 1)
    ]
    sites["postcode"] = ""

    base = lookup_postcodes([BASE_POSTCODE]).iloc[0]
    if base["status"] != "found":
        raise SystemExit(f"{BASE_POSTCODE} is not in the postcode lookup ({base['status']})")
    xy = sites[["point_easting", "point_northing"]].to_numpy(dtype=float)
    nearest = sites.index[
        int(np.argmin(np.hypot(xy[:, 0] - base["easting"], xy[:, 1] - base["northing"])))
    ]
    sites.loc[nearest, ["point_easting", "point_northing"]] = [base["easting"], base["northing"]]
    sites.loc[nearest, ["name", "postcode"]] = [BASE_NAME, base["postcode"]]
    xy = sites[["point_easting", "point_northing"]].to_numpy(dtype=float)

    groups = KMeans(n_clusters=LOCALITIES, random_state=settings.RANDOM_SEED, n_init=10)
    labels = groups.fit_predict(xy)
    city = np.average(points, axis=0, weights=under5)
    offsets = np.array([xy[labels == g].mean(axis=0) - city for g in range(LOCALITIES)])
    names = locality_names(offsets)
    sites["locality"] = [names[g] for g in labels]

    # Nearest-site catchments: under-5s in IMD deciles 1-3 decide which six are hubs.
    _, catchment = cKDTree(xy).query(points)
    deprived = np.where(areas["imd_decile"].to_numpy() <= 3, under5, 0.0)
    need = pd.DataFrame(
        {
            "deprived_under5": np.bincount(catchment, weights=deprived, minlength=SITES),
            "under5": np.bincount(catchment, weights=under5, minlength=SITES),
        },
        index=sites.index,
    )
    ranked = need.sort_values(["deprived_under5", "under5"], ascending=False).index
    sites["kind"] = np.where(sites.index.isin(ranked[:HUBS]), "hub", "branch")
    sites["services"] = np.where(sites["kind"] == "hub", HUB_SERVICES, "")
    sites["capacity"] = np.nan
    sites["source"] = "illustrative"

    return gpd.GeoDataFrame(
        sites[["name", "postcode", "capacity", "services", "locality", "kind", "source"]],
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=settings.WORKING_CRS,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=settings.DATA_DIR / "centres" / "derby_illustrative.csv",
        help="where to write the CSV (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    sites = build_sites(load_areas(AUTHORITY))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_centres(sites, args.out)
    print(f"wrote {len(sites)} illustrative sites to {args.out}")


if __name__ == "__main__":
    main()
