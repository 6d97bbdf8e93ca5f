"""Scenario re-evaluation speed: the precomputed engine against recomputing from scratch.

"From scratch" is what a planner would otherwise script: build the scenario's centres frame,
assign each LSOA to its nearest centre with geopandas ``sjoin_nearest``, aggregate loads and
reach with pandas, and compute the capacity-weighted 2SFCA with PySAL ``access`` on the same
inputs (illustrative capacity 100 places per centre). Both give the same share within reach.

    .venv/bin/python benchmarks/bench_scenarios.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import load_areas, settings
from planning.inputs.centres import read_centres
from planning.analysis.scenarios import Scenario, ScenarioEngine, table_to_centres


def from_scratch(areas: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, reach_m: float) -> float:
    from access import Access

    points = gpd.GeoDataFrame(
        areas[["under5"]], geometry=gpd.points_from_xy(areas.point_easting, areas.point_northing),
        crs=areas.crs,
    )
    centres = centres.rename_axis("site")
    joined = gpd.sjoin_nearest(points, centres[["geometry"]], distance_col="metres")
    joined = joined[~joined.index.duplicated()]
    within = joined["metres"] <= reach_m
    loads = joined.groupby("site")["under5"].sum()  # noqa: F841 - part of the work
    share = float((joined["under5"] * within).sum() / joined["under5"].sum())
    cost = points.sjoin(
        gpd.GeoDataFrame(geometry=centres.buffer(reach_m), index=centres.index), how="inner"
    )
    pairs = pd.DataFrame({
        "origin": cost.index,
        "dest": cost["site"],
        "metres": cost.geometry.distance(centres.geometry.reindex(cost["site"]).set_axis(cost.index)),
    })
    demand = areas[["under5"]].rename_axis("origin")
    supply = pd.DataFrame({"capacity": 100.0}, index=centres.index.rename("dest"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Access(demand_df=demand, demand_index=True, demand_value="under5",
                       supply_df=supply, supply_index=True, supply_value="capacity",
                       cost_df=pairs, cost_origin="origin", cost_dest="dest", cost_name="metres")
        model.two_stage_fca(name="fca", max_cost=reach_m)
    return share


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    areas = load_areas(settings.DEFAULT_AUTHORITY)
    centres = read_centres(settings.DEFAULT_CENTRES, areas=areas)
    start = time.perf_counter()
    engine = ScenarioEngine(areas, centres)
    print(f"Derby: engine set-up (distances to {engine.distance.shape[1]} current and candidate "
          f"sites, baseline) {1e3 * (time.perf_counter() - start):.0f} ms")
    rng = np.random.default_rng(settings.RANDOM_SEED)
    scenarios = []
    for k in range(args.repeat):
        s = Scenario(f"s{k}").close(str(rng.choice(engine.current.index)))
        x, y = engine.area_xy[rng.integers(len(engine.area_xy))]
        scenarios.append(s.open("NEW", easting=x, northing=y))
    ours, theirs = [], []
    for scenario in scenarios:
        t = time.perf_counter()
        evaluation = engine.evaluate(scenario)
        ours.append(time.perf_counter() - t)
        after = table_to_centres(evaluation.centres[["name", "easting", "northing"]])
        t = time.perf_counter()
        share = from_scratch(areas, after, engine.standards.reach_m)
        theirs.append(time.perf_counter() - t)
        assert abs(share - evaluation.figures["share_within_reach"]) < 1e-9
    o, f = statistics.median(ours), statistics.median(theirs)
    print(f"{args.repeat} close-one-open-one scenarios, same share within reach from both:")
    print(f"  engine.evaluate median {1e3 * o:.1f} ms (p90 {1e3 * np.percentile(ours, 90):.1f} ms)")
    print(f"  geopandas sjoin_nearest + PySAL access from scratch median {1e3 * f:.1f} ms")
    print(f"  ratio {f / o:.1f}x")


if __name__ == "__main__":
    main()
