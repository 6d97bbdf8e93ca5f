"""Optimisation on Derby: our PuLP/HiGHS models against spopt's on the same cost matrix.

Candidates: Derby's 10 centres plus its 152 LSOA points (162 sites). Both sides use HiGHS through
PuLP with the same settings, so the ratio compares model building and solving, and the
objectives must be equal.

    .venv/bin/python benchmarks/bench_optimise.py [--p 10]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pulp

from planning import load_areas, settings
from planning.analysis.distance import area_points
from planning.analysis.allocation import LocationAllocation, candidate_sites
from planning.inputs.centres import read_centres


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--p", type=int, default=10)
    args = parser.parse_args()
    from spopt.locate import LSCP, MCLP, PMedian

    areas = load_areas(settings.DEFAULT_AUTHORITY)
    centres = read_centres(settings.DEFAULT_CENTRES, areas=areas)
    sites = candidate_sites(areas, centres)
    xy = area_points(areas)
    cost = np.hypot(xy[:, None, 0] - sites.geometry.x.to_numpy()[None, :],
                    xy[:, None, 1] - sites.geometry.y.to_numpy()[None, :])
    weights = areas["under5"].to_numpy(float)
    radius = 2_500.0
    print(f"Derby: {cost.shape[0]} LSOAs x {cost.shape[1]} candidate sites, p = {args.p}")
    solver = pulp.HiGHS(msg=False, gapRel=0.0)
    runs = {
        "coverage (MCLP)": (
            lambda: LocationAllocation("coverage", p=args.p, service_metres=radius).solve(cost, weights),
            lambda: MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=args.p).solve(solver),
        ),
        "p-median": (
            lambda: LocationAllocation("median", p=args.p).solve(cost, weights),
            lambda: PMedian.from_cost_matrix(cost, weights, p_facilities=args.p).solve(solver),
        ),
        "cover-all (LSCP)": (
            lambda: LocationAllocation("cover-all", service_metres=radius).solve(cost, weights),
            lambda: LSCP.from_cost_matrix(cost, service_radius=radius).solve(solver),
        ),
    }
    for label, (ours_fn, theirs_fn) in runs.items():
        t = time.perf_counter()
        ours = ours_fn()
        t_ours = time.perf_counter() - t
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            theirs = theirs_fn()
            t_theirs = time.perf_counter() - t
        value = pulp.value(theirs.problem.objective)
        same = np.isclose(ours.objective_value_, value, rtol=1e-6)
        print(f"  {label:17s} ours {t_ours:6.2f} s  spopt {t_theirs:6.2f} s  ratio {t_theirs / t_ours:4.1f}x  "
              f"objective ours {ours.objective_value_:,.1f} spopt {value:,.1f} {'equal' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
