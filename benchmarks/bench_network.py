"""Street networks (issue 17): how long a county-sized network takes, built and cached.

Not a test: prints figures to quote. Everything is synthetic and written here (no download).

1. **County.** A street grid of about 300,000 nodes (70 m blocks over ~38 km, streets written
   as OSM ways of ten blocks, 3% of blocks missing so that the grid has dead ends and
   detours) is written as an ``.osm.pbf`` with pyosmium. Timed: the graph build
   (:func:`planning.inputs.network.read_network`: hash, parse, project, CSR, largest component,
   cache written), snapping 500 area points and 600 sites, and the 500 x 600 network distances
   (:class:`planning.analysis.network_distance.NetworkDistances`, Dijkstra limited to the
   largest reach). Target: under 20 s in total on 2 cores. Then the cached re-run (the graph
   read from its cache, snapping and distances again): target under 2 s. Then the service
   figures' search (each area's nearest site offering each of 12 services, at any distance)
   for 60 of the sites: one search per site, as before, against one per service.
2. **Derby.** A synthetic grid covering Derby and 10 km around it, as an ``.osm.pbf``;
   ``run_sufficiency("Derby", network=...)`` (the CLI's ``--network``), then the scenario
   engine's what-if (``ScenarioEngine.evaluate`` of one closure, and of a new site at a
   point not seen before, and the headline path ``ScenarioEngine.headline``), median of
   repeats. Target: under 10 ms for the full evaluation.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_network.py [--spacing 70] [--repeat 7]
        [--skip-county] [--skip-derby]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import osmium
from pyproj import Transformer

from planning.analysis.network_distance import NetworkDistances, largest_reach_metres
from planning.analysis.scenarios import Scenario, ScenarioEngine
from planning.inputs.network import read_network
from planning.runs.sufficiency import run_sufficiency
from planning.standards import Standards


def write_grid_pbf(
    path: Path, bounds: tuple[float, float, float, float], spacing: float, seed: int = 0
) -> int:
    """A street grid over ``bounds`` (EPSG:27700) as an OSM PBF; returns the node count."""
    rng = np.random.default_rng(seed)
    xs = np.arange(bounds[0], bounds[2] + spacing / 2, spacing)
    ys = np.arange(bounds[1], bounds[3] + spacing / 2, spacing)
    gx, gy = np.meshgrid(xs, ys)
    to_lonlat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(gx.ravel(), gy.ravel())
    rows, columns = len(ys), len(xs)
    ids = np.arange(1, rows * columns + 1).reshape(rows, columns)
    path.unlink(missing_ok=True)
    way_id = 0
    tags = [{"highway": "residential"}, {"highway": "footway"}, {"highway": "tertiary"}]
    with osmium.SimpleWriter(str(path)) as writer:
        for number, (x, y) in enumerate(zip(lon, lat), start=1):
            writer.add_node(osmium.osm.mutable.Node(id=number, location=(x, y)))
        for line in [*ids, *ids.T]:
            present = rng.random(len(line) - 1) >= 0.03
            start = 0
            while start < len(line) - 1:
                stop = start
                while stop < len(line) - 1 and present[stop] and stop - start < 10:
                    stop += 1
                if stop > start:
                    way_id += 1
                    writer.add_way(
                        osmium.osm.mutable.Way(
                            id=way_id,
                            nodes=[int(n) for n in line[start : stop + 1]],
                            tags=tags[way_id % 3],
                        )
                    )
                    start = stop
                else:
                    start += 1
    return rows * columns


def clock(label: str, fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    print(f"  {label:<46} {seconds:8.2f} s")
    return value, seconds


def county(folder: Path, spacing: float) -> None:
    side = 547 * spacing  # 548 x 548 nodes = 300,304
    x0, y0 = 420_000.0, 320_000.0
    bounds = (x0, y0, x0 + side, y0 + side)
    path = folder / "county.osm.pbf"
    start = time.perf_counter()
    nodes = write_grid_pbf(path, bounds, spacing)
    print(
        f"County grid: {nodes:,} nodes at {spacing:.0f} m over {side / 1000:.1f} km square, "
        f"{path.stat().st_size / 1e6:.1f} MB PBF written in {time.perf_counter() - start:.1f} s"
    )
    rng = np.random.default_rng(1)
    areas = rng.uniform([bounds[0], bounds[1]], [bounds[2], bounds[3]], size=(500, 2))
    sites = rng.uniform([bounds[0], bounds[1]], [bounds[2], bounds[3]], size=(600, 2))
    limit = largest_reach_metres(Standards())
    print(f"  search limit (largest reach + 1 km): {limit:,.0f} m")

    def run(label: str) -> float:
        network, build = clock(f"{label}: graph (build or cache)", read_network, path)
        distances, tree = clock(
            f"{label}: snapping (k-d tree, 1,100 points)",
            lambda: _snap_all(network, limit, areas, sites),
        )
        matrix, paths = clock(
            f"{label}: distances 500 areas x 600 sites", distances.matrix, areas, sites
        )
        total = build + tree + paths
        finite = np.isfinite(matrix)
        print(
            f"  {label}: total {total:.2f} s; graph {network.n_nodes:,} nodes "
            f"({network.dropped_nodes:,} cut off), {network.n_edges:,} edges; "
            f"{finite.mean():.1%} of pairs within the limit; median nearest site "
            f"{np.median(np.nanmin(matrix, axis=1)):,.0f} m"
        )
        return total, distances

    first, _ = run("first run")
    cached, distances = run("cached re-run")
    print(
        f"  => first run {first:.2f} s (target < 20 s), cached re-run {cached:.2f} s (target < 2 s)"
    )
    services(distances, areas, sites[:60], rng)


def services(distances: NetworkDistances, areas, sites, rng) -> None:
    """Service figures along the streets: each area's nearest site offering each of 12
    services, at any distance. Before: the whole per-site matrix with no search limit, then the
    smallest per service (one full search per site). Now: one search per service from a
    virtual node joined to its sites (``NetworkDistances.nearest_in_groups``). Same answers."""
    groups = {f"service {i}": rng.random(len(sites)) < share
              for i, share in enumerate(np.linspace(0.1, 1.0, 12))}  # fmt: skip
    groups = {name: mask if mask.any() else ~mask for name, mask in groups.items()}

    def per_site():
        every = distances.matrix(areas, sites, complete=False, max_metres=np.inf)
        return {name: every[:, mask].min(axis=1) for name, mask in groups.items()}

    before, slow = clock(f"services: per site ({len(sites)} full searches)", per_site)
    after, fast = clock(
        f"services: per service ({len(groups)} searches)",
        distances.nearest_in_groups, areas, sites, groups,
    )  # fmt: skip
    worst = max(float(np.max(np.abs(before[name] - after[name]))) for name in groups)
    print(
        f"  => {len(areas)} areas x {len(sites)} sites, {len(groups)} services: "
        f"{slow / fast:.1f}x faster per service; largest difference {worst:.2e} m"
    )


def _snap_all(network, limit, areas, sites) -> NetworkDistances:
    distances = NetworkDistances(network, max_metres=limit)
    distances.snap(areas)
    distances.snap(sites)
    return distances


def derby(folder: Path, spacing: float, repeat: int) -> None:
    from planning import load_areas

    areas = load_areas("Derby")
    low_x, low_y, high_x, high_y = areas.total_bounds
    margin = 10_000.0
    bounds = (low_x - margin, low_y - margin, high_x + margin, high_y + margin)
    path = folder / "derby.osm.pbf"
    nodes = write_grid_pbf(path, bounds, spacing)
    print(f"Derby grid: {nodes:,} nodes at {spacing:.0f} m covering Derby and 10 km around")
    run, _ = clock("run_sufficiency(network=...) first", run_sufficiency, "Derby", network=path)
    run, _ = clock(
        "run_sufficiency(network=...) cached graph", run_sufficiency, "Derby", network=path
    )
    straight, _ = clock("run_sufficiency straight line (for comparison)", run_sufficiency, "Derby")
    result = run.result
    engine, _ = clock(
        "ScenarioEngine.from_result (network matrix)", ScenarioEngine.from_result, result
    )
    print(
        f"  assessed areas {len(engine.area_xy)}, sites in the matrix {engine.distance.shape[1]}; "
        f"barrier areas {int(result.areas['barrier'].sum())}, median network/straight "
        f"{result.areas['network_ratio'].median():.2f}"
    )
    own = result.centres.index[~result.centres["neighbour"].astype(bool)]
    x, y = (low_x + high_x) / 2 + 123.4, (low_y + high_y) / 2 + 56.7
    line = ScenarioEngine.from_result(straight.result)
    for label, scenario in (
        (f"close {own[0]}", Scenario().close(own[0])),
        ("open a new site", Scenario().open("NEW", easting=x, northing=y)),
    ):
        for name, chosen in (("network", engine), ("straight", line)):
            # The first evaluation measures what it has not seen (a new site's column; areas
            # left with no open site within the searched reach) and keeps it.
            start = time.perf_counter()
            chosen.evaluate(scenario)
            first = time.perf_counter() - start
            times, heads = [], []
            for _ in range(repeat):
                start = time.perf_counter()
                chosen.evaluate(scenario)
                times.append(time.perf_counter() - start)
                start = time.perf_counter()
                chosen.headline(scenario)
                heads.append(time.perf_counter() - start)
            print(
                f"  what-if ({label}, {name}): first {first * 1e3:.1f} ms, then evaluate median "
                f"{statistics.median(times) * 1e3:.1f} ms"
                + (" (target < 10 ms)" if name == "network" else "")
                + f", headline median {statistics.median(heads) * 1e3:.2f} ms"
            )
    # Every single closure the first time it is tried (what a councillor's first click costs),
    # on a fresh engine: none may need a search beyond the reach (the engine's set-up did it).
    fresh = ScenarioEngine.from_result(result)
    firsts = []
    for centre in own:
        start = time.perf_counter()
        fresh.evaluate(Scenario().close(centre))
        firsts.append(time.perf_counter() - start)
    print(
        f"  first evaluation of each single closure ({len(own)} centres, network): median "
        f"{statistics.median(firsts) * 1e3:.1f} ms, max {max(firsts) * 1e3:.1f} ms "
        "(target < 10 ms)"
    )
    s_fig, n_fig = straight.result.authority, result.authority
    for key in ("share_within_reach", "share_deprived_within_reach", "share_within_walk"):
        if key in s_fig and key in n_fig:
            print(f"  {key}: straight x 1.3 {s_fig[key]:.1%}, network {n_fig[key]:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spacing", type=float, default=70.0)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-derby", action="store_true")
    parser.add_argument("--skip-county", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_county:
            county(Path(tmp), args.spacing)
        if not args.skip_derby:
            derby(Path(tmp), args.spacing, args.repeat)


if __name__ == "__main__":
    main()
