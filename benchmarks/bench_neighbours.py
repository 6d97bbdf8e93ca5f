"""Cross-boundary assessment: how wide the buffer must be, and what it costs.

Not a test: prints figures to quote (issue 11, "No authority is an island").

1. **The margin.** For every English upper-tier authority, its residents and the neighbouring
   small areas within ``reach + margin`` of its boundary are assigned to the nearest centre of
   its own illustrative sites and the other authorities' sites near it (the workbench's
   ``neighbour_areas``/``neighbour_centres``/``assign_catchments``). The loads of the centres
   serving its residents are compared with the national run (every English area assigned at
   once, ``planning.runs.national.national_run``), which is exact by construction. The share of
   such centres whose load matches exactly, for several margins, with and without the
   catchment completion the run adds (``complete_catchments``: areas beyond the buffer nearest
   to a centre the residents use), is what the shipped margin (``NEIGHBOUR_MARGIN_M``) is
   chosen from; the answer is not built in: a catchment that runs past what is assessed shows
   up as a mismatch.
2. **The national run**: time and the England total of the loads.
3. **Cost**: Derby's ``run_sufficiency`` and a what-if (``ScenarioEngine.evaluate`` of one
   closure) as an island and with neighbours, median of repeats, same process (warm caches).

    .venv/bin/python benchmarks/bench_neighbours.py [--repeat 7] [--margins 0 2500 5000 10000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from planning import load_areas
from planning.analysis.catchments import assign_catchments
from planning.analysis.scenarios import Scenario, ScenarioEngine
from planning.analysis.sufficiency import assessed_areas
from planning.inputs import neighbours as nb
from planning.inputs.areas import list_authorities
from planning.runs.national import national_run
from planning.runs.sufficiency import (
    _nearest_site_metres,
    _with_neighbours,
    complete_catchments,
    run_sufficiency,
)
from planning.standards import Standards


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def margin_check(margins: list[float]) -> None:
    national = national_run()
    network = nb.read_national_network()
    codes = list_authorities()["code"].tolist()
    standards = Standards()
    areas_by = {code: load_areas(code) for code in codes}
    print(f"{'margin':>8} {'completion':>10} {'centres checked':>16} {'load exact':>11} "
          f"{'authorities all exact':>22} {'worst shortfall':>16} {'neighbour areas (median)':>25}")
    for margin, complete in [(m, c) for m in margins for c in (False, True)]:
        nb.NEIGHBOUR_MARGIN_M = margin
        buffer_m = nb.buffer_metres(standards)
        checked = exact = all_exact = 0
        worst = 0.0
        sizes = []
        for code in codes:
            areas = areas_by[code]
            own = network[network["authority_code"] == code]
            own = own.set_axis([i.split("-", 1)[1] for i in own.index]).rename_axis("centre_id")
            others, _ = nb.neighbour_centres(areas, own, standards=standards)
            supply = _with_neighbours(own, others)
            neighbours = nb.neighbour_areas(areas, buffer_m)
            if complete:
                neighbours = complete_catchments(areas, neighbours, supply, network)
            sizes.append(len(neighbours))
            assessed = assessed_areas(areas, neighbours)
            catchment = assign_catchments(assessed, supply)
            under5 = assessed["under5"].to_numpy(float)
            loads = catchment.assign(under5=under5).groupby("centre_id")["under5"].sum()
            serving = set(catchment["centre_id"].iloc[: len(areas)])
            ids = {cid: (f"{code}-{cid}" if cid in own.index else cid) for cid in serving}
            here_exact = True
            for cid in serving:
                true = float(national.centres.loc[ids[cid], "under5"])
                got = float(loads[cid])
                checked += 1
                if abs(true - got) < 0.5:
                    exact += 1
                else:
                    here_exact = False
                    worst = max(worst, (true - got) / true)
            all_exact += here_exact
        print(f"{margin:>8,.0f} {'yes' if complete else 'no':>10} {checked:>16,} {exact / checked:>11.1%} "
              f"{all_exact:>15} of {len(codes)} {worst:>16.1%} {statistics.median(sizes):>25,.0f}")
    nb.NEIGHBOUR_MARGIN_M = 5_000.0


def national_timing(repeat: int) -> None:
    seconds = timed(national_run, repeat)
    run = national_run()
    print(f"national run: {len(run.areas):,} small areas, {len(run.centres):,} centres, "
          f"loads sum to {run.centres['under5'].sum():,.0f} under-5s; "
          f"centre equivalents sum to {run.authorities['centre_equivalents'].sum():,.2f}; "
          f"median {seconds:.3f} s")


def cold(fn):
    """Run ``fn`` with the per-process caches of neighbouring rows and site distances cleared,
    so each timed run pays for them as a single command-line run does."""

    def run():
        nb._authority_rows.cache_clear()
        _nearest_site_metres.cache_clear()
        return fn()

    return run


def derby_cost(repeat: int) -> None:
    island = timed(lambda: run_sufficiency("Derby", cross_boundary=False), repeat)
    crossed = timed(cold(lambda: run_sufficiency("Derby")), repeat)
    warm = timed(lambda: run_sufficiency("Derby"), repeat)
    print(f"Derby sufficiency: island {island:.3f} s, with neighbours {crossed:.3f} s with its "
          f"caches cleared each run (ratio {crossed / island:.2f}x), {warm:.3f} s warm "
          f"(ratio {warm / island:.2f}x)")
    runs = {
        "island": run_sufficiency("Derby", cross_boundary=False),
        "with neighbours": run_sufficiency("Derby"),
    }
    times = {}
    for label, run in runs.items():
        engine = ScenarioEngine.from_result(run.result, area_candidates=False)
        closure = Scenario("close CC03").close("CC03")
        engine.evaluate(closure)
        times[label] = timed(lambda engine=engine, closure=closure: engine.evaluate(closure),
                             repeat * 5)
    print(f"Derby what-if (close CC03): island {1000 * times['island']:.1f} ms, with neighbours "
          f"{1000 * times['with neighbours']:.1f} ms "
          f"(ratio {times['with neighbours'] / times['island']:.2f}x)")


def command_cost(repeat: int) -> None:
    """The command a planner runs, end to end in a fresh process: ``planning sufficiency``."""
    import subprocess
    import sys
    import tempfile

    def command(*extra: str) -> float:
        times = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as folder:
                start = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "planning", "sufficiency", "--authority", "Derby",
                     "--out", f"{folder}/out", *extra],
                    check=True, capture_output=True,
                )  # fmt: skip
                times.append(time.perf_counter() - start)
        return statistics.median(times)

    island, crossed = command("--island"), command()
    print(f"`planning sufficiency --authority Derby` (fresh process): --island {island:.2f} s, "
          f"with neighbours {crossed:.2f} s (ratio {crossed / island:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--margins", type=float, nargs="+", default=[0, 2_500, 5_000, 10_000])
    args = parser.parse_args()
    national_timing(args.repeat)
    derby_cost(args.repeat)
    command_cost(max(3, args.repeat // 3))
    margin_check(args.margins)
    print(f"shipped margin: {nb.NEIGHBOUR_MARGIN_M:,.0f} m")
    np.seterr(all="ignore")


if __name__ == "__main__":
    main()
