"""How sure are we, and how fast: the uncertainty draws (issue 16).

Not a test: prints figures to quote.

1. **Derby, 1,000 draws.** ``run_sufficiency("Derby")`` (with its neighbouring areas and
   centres) and ``run_uncertainty(run, draws=1000)`` (the packaged ``uncertainty.yaml``), each
   the median of repeats in one process (warm caches), and the first call of each in a fresh
   process (cold: data loading included). Target: under 2 s.
2. **Every authority, 1,000 draws.** All 153 English upper-tier authorities, each assessed and
   then drawn 1,000 times, on ``--workers`` processes (default 2). Wall time for the lot, the
   time spent in the draws alone, the slowest authority, and how many authorities' verdicts
   are fragile. Target: under 5 minutes on 2 cores. ``--sample N`` times the first N only (and
   says so) when the full run does not fit.

    .venv/bin/python benchmarks/bench_uncertainty.py [--repeat 5] [--workers 2] [--sample N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time
from typing import Any


def _one(code: str) -> dict[str, Any]:
    from planning.runs.sufficiency import run_sufficiency, run_uncertainty

    start = time.perf_counter()
    run = run_sufficiency(code)
    assessed = time.perf_counter()
    sure = run_uncertainty(run, draws=1_000)
    done = time.perf_counter()
    table = sure.table
    groups = table[table["level"] != "centre"]
    authority = table[table["level"] == "authority"].iloc[0]
    return {
        "code": code,
        "name": run.authority_name,
        "areas": len(run.result.areas),
        "neighbour_areas": len(run.result.neighbour_areas),
        "assess_s": assessed - start,
        "draws_s": done - assessed,
        "verdict": authority["verdict"],
        "likely": authority["likely"],
        "p_likely": float(authority["p_likely"]),
        "fragile_groups": int((~groups["robust"].astype(bool)).sum()),
        "groups": len(groups),
    }


def derby(repeat: int) -> None:
    from planning.runs.sufficiency import run_sufficiency, run_uncertainty

    start = time.perf_counter()
    run = run_sufficiency("Derby")
    cold_run = time.perf_counter() - start
    start = time.perf_counter()
    sure = run_uncertainty(run, draws=1_000)
    cold_draws = time.perf_counter() - start
    runs, draws = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        run = run_sufficiency("Derby")
        runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        sure = run_uncertainty(run, draws=1_000)
        draws.append(time.perf_counter() - start)
    warm_run, warm_draws = statistics.median(runs), statistics.median(draws)
    print("Derby (E06000015), 1,000 draws, packaged uncertainty.yaml")
    print(f"  cold (fresh process): assessment {cold_run:.2f} s + draws {cold_draws:.2f} s "
          f"= {cold_run + cold_draws:.2f} s")
    print(f"  warm (median of {repeat}): assessment {warm_run:.3f} s + draws {warm_draws:.3f} s "
          f"= {warm_run + warm_draws:.3f} s")
    authority = sure.table[sure.table["level"] == "authority"].iloc[0]
    from planning.analysis.uncertainty import verdict_text

    print(f"  verdict: {verdict_text(authority)}")


def national(workers: int, sample: int | None) -> None:
    from planning.inputs.areas import list_authorities

    codes = list_authorities()["code"].tolist()
    total = len(codes)
    if sample:
        codes = codes[:sample]
    start = time.perf_counter()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        rows = pool.map(_one, codes, chunksize=1)
    wall = time.perf_counter() - start
    assess = sum(r["assess_s"] for r in rows)
    drawn = sum(r["draws_s"] for r in rows)
    slowest = max(rows, key=lambda r: r["assess_s"] + r["draws_s"])
    fragile = [r for r in rows if r["p_likely"] < 0.8]
    changed = [r for r in rows if r["likely"] != r["verdict"]]
    label = f"{len(codes)} of {total}" if sample else f"all {total}"
    print(f"\n{label} authorities, 1,000 draws each, {workers} worker processes "
          f"(machine has {os.cpu_count()} cores)")
    print(f"  wall time {wall:.1f} s ({wall / 60:.2f} min)")
    if sample:
        print(f"  extrapolated to {total}: {wall * total / len(codes):.0f} s (a sample: "
              "extrapolated, not measured)")
    print(f"  CPU time in assessments {assess:.1f} s, in draws {drawn:.1f} s "
          f"(draws: mean {drawn / len(rows):.3f} s, max {max(r['draws_s'] for r in rows):.3f} s)")
    print(f"  slowest: {slowest['name']} ({slowest['areas']} areas + "
          f"{slowest['neighbour_areas']} neighbouring): assessment {slowest['assess_s']:.2f} s, "
          f"draws {slowest['draws_s']:.2f} s")
    print(f"  authority verdicts fragile (most likely below 80%): {len(fragile)}; most likely "
          f"differs from the point verdict: {len(changed)}; localities fragile: "
          f"{sum(r['fragile_groups'] for r in rows)} of {sum(r['groups'] for r in rows)} "
          "verdicts (authorities included)")


def national_dask(workers: int, sample: int | None) -> None:
    """The same batch as Dask tasks on a LocalCluster (the national batch's Dask path,
    ``planning.outputs.schedule.uncertainty_batch`` with ``dask_executor``)."""
    from planning.inputs.areas import list_authorities
    from planning.outputs.schedule import dask_executor, uncertainty_batch

    codes = list_authorities()["code"].tolist()
    total = len(codes)
    if sample:
        codes = codes[:sample]
    start = time.perf_counter()
    with dask_executor(workers=workers) as executor:
        table = uncertainty_batch(codes, draws=1_000, executor=executor)
    wall = time.perf_counter() - start
    label = f"{len(codes)} of {total}" if sample else f"all {total}"
    print(f"\n{label} authorities, 1,000 draws each, Dask LocalCluster of {workers} workers: "
          f"wall time {wall:.1f} s ({wall / 60:.2f} min), including the cluster's start; "
          f"authority verdicts fragile: {int((~table['robust']).sum())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument(
        "--executor", choices=["process", "dask", "both"], default="process",
        help="run the national batch in a process pool, as Dask tasks, or both",
    )  # fmt: skip
    args = parser.parse_args()
    derby(args.repeat)
    if args.executor in ("process", "both"):
        national(args.workers, args.sample)
    if args.executor in ("dask", "both"):
        national_dask(args.workers, args.sample)


if __name__ == "__main__":
    main()
