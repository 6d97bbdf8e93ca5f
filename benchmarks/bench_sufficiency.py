"""Time the sufficiency assessment for Derby and for all of England at once.

Not a test: prints figures to quote. England's centres are illustrative: under-5-weighted
k-means sites per authority, one per ~1,580 under-5s (Derby's ratio with its ten centres).
The nearest-centre step is also timed against geopandas' ``sjoin_nearest`` on the same input.

    .venv/bin/python benchmarks/bench_sufficiency.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from planning import load_areas, settings
from planning.analysis.catchments import assign_catchments
from planning.inputs.centres import read_centres
from planning.analysis.sufficiency import assess_sufficiency


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def england_centres(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for code, group in areas.groupby("utla_code"):
        k = max(1, round(group["under5"].sum() / 1_580))
        k = min(k, len(group))
        xy = group[["point_easting", "point_northing"]].to_numpy()
        model = KMeans(n_clusters=k, n_init=1, random_state=settings.RANDOM_SEED)
        model.fit(xy, sample_weight=group["under5"].to_numpy(float) + 1e-9)
        for i, (x, y) in enumerate(model.cluster_centers_):
            rows.append({"centre_id": f"{code}-{i:02d}", "name": f"{code} site {i}",
                         "locality": code, "x": x, "y": y})
    frame = pd.DataFrame(rows).set_index("centre_id")
    return gpd.GeoDataFrame(
        frame.drop(columns=["x", "y"]), geometry=gpd.points_from_xy(frame.x, frame.y),
        crs=settings.WORKING_CRS,
    )


def sjoin_nearest_assign(areas: gpd.GeoDataFrame, centres: gpd.GeoDataFrame) -> pd.Series:
    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(areas.point_easting, areas.point_northing),
        index=areas.index, crs=areas.crs,
    )
    joined = gpd.sjoin_nearest(points, centres[["geometry"]], distance_col="metres")
    return joined[~joined.index.duplicated()]["metres"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    derby = load_areas("E06000015")
    centres = read_centres(settings.DEFAULT_CENTRES, areas=derby)
    t, _ = timed(lambda: assess_sufficiency(derby, centres), args.repeat)
    print(f"Derby ({len(derby)} LSOAs, {len(centres)} centres): assess_sufficiency median {t*1e3:.1f} ms")
    t_ours, ours = timed(lambda: assign_catchments(derby, centres), args.repeat)
    t_gpd, theirs = timed(lambda: sjoin_nearest_assign(derby, centres), args.repeat)
    assert np.allclose(ours["distance_m"], theirs.reindex(ours.index))
    print(f"  nearest centre: ours {t_ours*1e3:.2f} ms, geopandas sjoin_nearest {t_gpd*1e3:.2f} ms "
          f"(ratio {t_gpd/t_ours:.1f}x), same distances")

    start = time.perf_counter()
    england = load_areas()
    load_time = time.perf_counter() - start
    start = time.perf_counter()
    sites = england_centres(england)
    print(f"England: load {load_time:.2f} s; {len(sites)} illustrative sites built in "
          f"{time.perf_counter() - start:.1f} s")
    t, result = timed(lambda: assess_sufficiency(england, sites), max(1, args.repeat // 2))
    print(f"England at once ({len(england):,} LSOAs, {len(sites):,} centres, "
          f"{result.localities.shape[0]} localities): assess_sufficiency median {t:.2f} s")
    t_ours, ours = timed(lambda: assign_catchments(england, sites), args.repeat)
    t_gpd, theirs = timed(lambda: sjoin_nearest_assign(england, sites), args.repeat)
    assert np.allclose(ours["distance_m"], theirs.reindex(ours.index))
    print(f"  nearest centre: ours {t_ours*1e3:.1f} ms, geopandas sjoin_nearest {t_gpd*1e3:.1f} ms "
          f"(ratio {t_gpd/t_ours:.1f}x)")
    start = time.perf_counter()
    for code, group in england.groupby("utla_code"):
        assess_sufficiency(group, sites[sites["locality"] == code])
    print(f"Every authority separately (153 runs, each with its own sites): "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
