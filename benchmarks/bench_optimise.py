"""Optimisation at scale: the sparse HiGHS models against spopt on Derby, then the largest county.

1. Derby: its 10 centres plus its 152 LSOA points (162 candidate sites), p = 10. Ours builds the
   sparse programme for HiGHS through ``scipy.optimize.milp`` (the p-median on each area's k
   nearest sites, widened until exact); spopt builds the dense PuLP model and solves it with HiGHS
   through PuLP at a zero gap. The objectives must be equal.
2. The largest English upper-tier authority by LSOA count (from ``list_authorities``: Kent, 938
   LSOAs), its centres in the illustrative national network plus every LSOA point as candidates,
   p = its number of centres: p-median and coverage solved to a proven optimum (gap printed),
   with a 60 s limit, and the memory used (tracemalloc peak of the solve, process RSS).

    .venv/bin/python benchmarks/bench_optimise.py [--p 10] [--repeat 3] [--county CODE]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
import warnings

import numpy as np
import psutil
import pulp

from planning import load_areas, settings
from planning.analysis.allocation import LocationAllocation, candidate_sites
from planning.analysis.distance import area_points
from planning.inputs.areas import list_authorities
from planning.inputs.centres import read_centres
from planning.inputs.neighbours import read_national_network


def cost_matrix(areas, sites) -> np.ndarray:
    xy = area_points(areas)
    return np.hypot(xy[:, None, 0] - sites.geometry.x.to_numpy()[None, :],
                    xy[:, None, 1] - sites.geometry.y.to_numpy()[None, :])


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def derby(p: int, repeat: int) -> None:
    from spopt.locate import LSCP, MCLP, PMedian

    areas = load_areas(settings.DEFAULT_AUTHORITY)
    centres = read_centres(settings.DEFAULT_CENTRES, areas=areas)
    sites = candidate_sites(areas, centres)
    cost = cost_matrix(areas, sites)
    weights = areas["under5"].to_numpy(float)
    radius = 2_500.0
    print(f"Derby: {cost.shape[0]} LSOAs x {cost.shape[1]} candidate sites, p = {p} "
          f"(ours: median of {repeat} runs; spopt: one run)")
    solver = pulp.HiGHS(msg=False, gapRel=0.0)
    runs = {
        "coverage (MCLP)": (
            lambda: LocationAllocation("coverage", p=p, service_metres=radius).solve(cost, weights),
            lambda: MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p).solve(solver),
        ),
        "p-median": (
            lambda: LocationAllocation("median", p=p).solve(cost, weights),
            lambda: PMedian.from_cost_matrix(cost, weights, p_facilities=p).solve(solver),
        ),
        "cover-all (LSCP)": (
            lambda: LocationAllocation("cover-all", service_metres=radius).solve(cost, weights),
            lambda: LSCP.from_cost_matrix(cost, service_radius=radius).solve(solver),
        ),
    }
    for label, (ours_fn, theirs_fn) in runs.items():
        t_ours, ours = timed(ours_fn, repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            theirs = theirs_fn()
            t_theirs = time.perf_counter() - t
        value = pulp.value(theirs.problem.objective)
        same = np.isclose(ours.objective_value_, value, rtol=1e-7)
        extra = f"  k = {ours.nearest_sites_}, {ours.rounds_} round(s)" if label == "p-median" else ""
        print(f"  {label:17s} ours {t_ours:6.3f} s  spopt {t_theirs:6.2f} s  ratio {t_theirs / t_ours:5.1f}x  "
              f"objective ours {ours.objective_value_:,.1f} spopt {value:,.1f} "
              f"{'equal' if same else 'DIFFERENT'}{extra}")


def county(code: str | None, time_limit: float) -> None:
    table = list_authorities()
    row = table.loc[table["lsoa_count"].idxmax()] if code is None else table.set_index("code").loc[code]
    code = row["code"] if code is None else code
    areas = load_areas(code)
    network = read_national_network()
    centres = network[network["authority_code"] == code]
    sites = candidate_sites(areas, centres)
    t = time.perf_counter()
    cost = cost_matrix(areas, sites)
    t_cost = time.perf_counter() - t
    weights = areas["under5"].to_numpy(float)
    p = len(centres)
    print(f"\n{row['name']} ({code}), the largest by LSOA count: {len(areas)} LSOAs x "
          f"{len(sites)} candidate sites ({len(centres)} centres + every LSOA point), "
          f"{cost.size:,} area-site pairs; p = {p}; cost matrix {cost.nbytes / 1e6:.1f} MB "
          f"built in {t_cost:.2f} s")
    rss_before = psutil.Process().memory_info().rss
    for objective in ("median", "coverage"):
        tracemalloc.start()
        t = time.perf_counter()
        model = LocationAllocation(objective, p=p, service_metres=2_500.0, time_limit=time_limit)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            model.solve(cost, weights)
        seconds = time.perf_counter() - t
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        proven = "proven optimal" if model.gap_ <= 1e-9 else f"gap {100 * model.gap_:.3f}%"
        extra = (f", k = {model.nearest_sites_} nearest sites, {model.rounds_} round(s)"
                 if objective == "median" else f", covered share {model.covered_share_:.1%}")
        print(f"  {objective:9s} {seconds:6.2f} s  objective {model.objective_value_:,.1f}  "
              f"{proven}{extra}; peak Python allocation {peak / 1e6:.1f} MB")
    rss = psutil.Process().memory_info().rss
    # tracemalloc sees numpy/scipy arrays, not HiGHS's own C++ memory: the RSS growth does.
    print(f"  process RSS {rss_before / 1e6:.0f} MB before the solves (data and libraries), "
          f"{rss / 1e6:.0f} MB after (+{(rss - rss_before) / 1e6:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--p", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--county", help="authority code instead of the largest by LSOA count")
    parser.add_argument("--time-limit", type=float, default=60.0)
    args = parser.parse_args()
    derby(args.p, args.repeat)
    county(args.county, args.time_limit)


if __name__ == "__main__":
    main()
