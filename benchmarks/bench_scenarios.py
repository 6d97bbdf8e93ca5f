"""Scenario re-evaluation speed: the headline path, the full evaluation and a from-scratch rebuild.

Three ways to answer "what if we close one centre and open one elsewhere?" on the same scenarios:
``engine.headline`` (arrays only: shares within reach overall and by band, loads, verdict),
``engine.evaluate`` (every table: localities, centres, areas, bands) and the from-scratch rebuild
below. All three give the same share within reach. Then the same for Derbyshire (its centres in the
illustrative national network) and, with ``--england``, all England as one engine.

"From scratch" is what a planner would otherwise script: build the scenario's centres frame,
assign each LSOA to its nearest centre with geopandas ``sjoin_nearest``, aggregate loads and
reach with pandas, and compute the capacity-weighted 2SFCA with PySAL ``access`` on the same
inputs (illustrative capacity 100 places per centre). Both give the same share within reach.

    .venv/bin/python benchmarks/bench_scenarios.py [--repeat 50] [--county E10000007] [--england]
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


def scenarios_for(engine: ScenarioEngine, repeat: int) -> list[Scenario]:
    rng = np.random.default_rng(settings.RANDOM_SEED)
    own = engine.current.index[~engine.current["neighbour"].to_numpy(bool)]
    scenarios = []
    for k in range(repeat):
        s = Scenario(f"s{k}").close(str(rng.choice(own)))
        x, y = engine.area_xy[rng.integers(engine.residents)]
        scenarios.append(s.open("NEW", easting=x, northing=y))
    return scenarios


def timings(fn, scenarios: list[Scenario]) -> list[float]:
    times = []
    for scenario in scenarios:
        t = time.perf_counter()
        fn(scenario)
        times.append(time.perf_counter() - t)
    return times


def county(code: str, repeat: int) -> None:
    import tracemalloc

    from planning.inputs.neighbours import read_national_network

    areas = load_areas(code)
    network = read_national_network()
    centres = network[network["authority_code"] == code]
    tracemalloc.start()
    start = time.perf_counter()
    engine = ScenarioEngine(areas, centres)
    setup = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    scenarios = scenarios_for(engine, repeat)
    for scenario in scenarios:  # every site's column computed once, as in a session
        engine.headline(scenario)
    head = timings(engine.headline, scenarios)
    full = timings(engine.evaluate, scenarios)
    name = areas["utla_name"].iloc[0] if "utla_name" in areas else code
    print(f"\n{name} ({code}): {engine.residents} LSOAs, {len(centres)} centres; engine set-up "
          f"{1e3 * setup:.0f} ms, peak allocation {peak / 1e6:.1f} MB "
          f"(distance matrix {engine.distance.nbytes / 1e6:.2f} MB)")
    print(f"  engine.headline median {1e3 * statistics.median(head):.3f} ms; "
          f"engine.evaluate median {1e3 * statistics.median(full):.1f} ms")


def england(repeat: int) -> None:
    """All 33,755 LSOAs and the 2,043 sites of the illustrative national network as one engine."""
    import psutil

    from planning.inputs.neighbours import read_national_network

    areas = load_areas()
    network = read_national_network()
    rss = psutil.Process().memory_info().rss
    start = time.perf_counter()
    engine = ScenarioEngine(areas, network)
    setup = time.perf_counter() - start
    grown = psutil.Process().memory_info().rss - rss
    scenarios = scenarios_for(engine, repeat)
    for scenario in scenarios:
        engine.headline(scenario)
    head = timings(engine.headline, scenarios)
    full = timings(engine.evaluate, scenarios[:3])
    same = all(
        abs(engine.headline(s).share_within_reach - engine.evaluate(s).figures["share_within_reach"])
        < 1e-12 for s in scenarios[:3]
    )
    print(f"\nEngland as one engine: {engine.residents:,} LSOAs x {len(network):,} sites; set-up "
          f"{setup:.1f} s, RSS +{grown / 1e6:.0f} MB (distance matrix "
          f"{engine.distance.nbytes / 1e6:.0f} MB; no area-by-area block)")
    print(f"  engine.headline median {1e3 * statistics.median(head):.1f} ms; engine.evaluate "
          f"median of 3 {statistics.median(full):.2f} s; same share within reach: {same}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--county", default="E10000007", help="a second authority (Derbyshire)")
    parser.add_argument("--england", action="store_true", help="also all England (~1 GB, 20 s)")
    args = parser.parse_args()
    areas = load_areas(settings.DEFAULT_AUTHORITY)
    centres = read_centres(settings.DEFAULT_CENTRES, areas=areas)
    start = time.perf_counter()
    engine = ScenarioEngine(areas, centres)
    print(f"Derby: engine set-up (distances to {engine.distance.shape[1]} current and candidate "
          f"sites, baseline) {1e3 * (time.perf_counter() - start):.0f} ms")
    scenarios = scenarios_for(engine, args.repeat)
    for scenario in scenarios:  # every site's column computed once, as in a session
        engine.headline(scenario)
    heads, ours, theirs = [], [], []
    for scenario in scenarios:
        t = time.perf_counter()
        headline = engine.headline(scenario)
        heads.append(time.perf_counter() - t)
        t = time.perf_counter()
        evaluation = engine.evaluate(scenario)
        ours.append(time.perf_counter() - t)
        after = table_to_centres(evaluation.centres[["name", "easting", "northing"]])
        t = time.perf_counter()
        share = from_scratch(areas, after, engine.standards.reach_m)
        theirs.append(time.perf_counter() - t)
        assert abs(share - evaluation.figures["share_within_reach"]) < 1e-9
        assert abs(headline.share_within_reach - share) < 1e-9
        assert headline.rag == evaluation.figures["rag"]
    h, o, f = statistics.median(heads), statistics.median(ours), statistics.median(theirs)
    print(f"{args.repeat} close-one-open-one scenarios, same share within reach from all three:")
    print(f"  engine.headline median {1e3 * h:.3f} ms (p90 {1e3 * np.percentile(heads, 90):.3f} ms)"
          " (target < 1 ms)")
    print(f"  engine.evaluate median {1e3 * o:.1f} ms (p90 {1e3 * np.percentile(ours, 90):.1f} ms)"
          " (target < 10 ms)")
    print(f"  geopandas sjoin_nearest + PySAL access from scratch median {1e3 * f:.1f} ms")
    print(f"  ratio: headline {f / h:.0f}x (target >= 20x), full evaluation {f / o:.1f}x faster "
          "than from scratch")
    county(args.county, args.repeat)
    if args.england:
        england(args.repeat)


if __name__ == "__main__":
    main()
