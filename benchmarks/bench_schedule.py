"""Time a schedule of sufficiency reports covering every English upper-tier authority (153).

Not a test: prints figures to quote. Only Derby has a centres file; for every other authority
this script builds illustrative centres (marked ``source=illustrative``) in a temporary folder:
under-5-weighted k-means sites over the authority's LSOAs, one per ~1,580 under-5s (Derby's
ratio with its ten centres), each in the district of its nearest LSOA as its locality, written
with :func:`planning.inputs.centres.write_centres`. The schedule then runs through
:func:`planning.outputs.schedule.run_schedule` exactly as ``planning report --schedule`` does.

    .venv/bin/python benchmarks/bench_schedule.py                 # all 153 (long)
    .venv/bin/python benchmarks/bench_schedule.py --limit 16      # a spread of sizes, then
                                                                  # extrapolate to 153

With ``--limit N`` the N authorities are spread over the range of sizes (smallest to largest by
LSOA count, Derby always included), and the total for all 153 is extrapolated from a straight-line
fit of report time on LSOA count and the parallel speed-up measured in this run. The output says
which figures are measured and which are extrapolated.

Each worker runs its reports in one warm kernel (:mod:`planning.outputs.warm_kernel`, the
default of ``run_schedule``); ``--cold-kernels`` starts a kernel per report instead, as before
issue 15's "lighter reports", to measure the difference. Every run is compared with the target of
issue 15: all 153 authorities in under 4 minutes on 2 cores.

``--executor dask`` runs the same schedule as Dask tasks on a ``dask.distributed`` LocalCluster of
``--workers`` processes (``planning report --executor dask``); ``--executor both`` runs it through
the process pool and then through Dask, into separate folders, and prints the two side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from planning import list_authorities, load_areas, settings
from planning.inputs.centres import write_centres
from planning.outputs.report import find_chromium
from planning.outputs.schedule import dask_executor, load_schedule, run_schedule

UNDER5_PER_SITE = 1_580
TARGET_SECONDS = 4 * 60  # issue 15: all 153 authorities in under 4 minutes on 2 cores


def pick(authorities: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """All authorities, or ``limit`` of them spread from the smallest to the largest."""
    if limit is None or limit >= len(authorities):
        return authorities
    ordered = authorities.sort_values("lsoa_count").reset_index(drop=True)
    derby = ordered[ordered["code"] == settings.DEFAULT_AUTHORITY]
    others = ordered[ordered["code"] != settings.DEFAULT_AUTHORITY].reset_index(drop=True)
    positions = np.unique(np.linspace(0, len(others) - 1, max(limit - 1, 1)).round().astype(int))
    return pd.concat([derby, others.iloc[positions]]).sort_values("code")


def illustrative_centres(areas: gpd.GeoDataFrame, code: str, name: str) -> gpd.GeoDataFrame:
    """Under-5-weighted k-means sites, one per ~1,580 under-5s, at least one."""
    k = min(max(1, round(areas["under5"].sum() / UNDER5_PER_SITE)), len(areas))
    xy = areas[["point_easting", "point_northing"]].to_numpy(float)
    model = KMeans(n_clusters=k, n_init=4, random_state=settings.RANDOM_SEED)
    model.fit(xy, sample_weight=areas["under5"].to_numpy(float) + 1e-9)
    sites = model.cluster_centers_
    nearest = np.argmin(((xy[None, :, :] - sites[:, None, :]) ** 2).sum(axis=2), axis=1)
    ids = [f"{code}-{i + 1:03d}" for i in range(k)]
    frame = pd.DataFrame(
        {
            "name": [f"Illustrative site {i + 1} ({name})" for i in range(k)],
            "locality": areas["ltla_name"].to_numpy()[nearest],
            "source": "illustrative",
        },
        index=pd.Index(ids, name="centre_id"),
    )
    return gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(sites[:, 0], sites[:, 1]), crs=settings.WORKING_CRS
    )


def run_and_report(schedule, out, engine, args, authorities, centres_count) -> float:
    specs = load_schedule(schedule, out=out)
    start = time.perf_counter()
    if engine == "dask":
        with dask_executor(workers=args.workers) as executor:
            outcomes = run_schedule(specs, workers=args.workers, date=dt.date.today(),
                                    progress=False, executor=executor,
                                    warm_kernels=not args.cold_kernels)
    else:
        outcomes = run_schedule(specs, workers=args.workers, date=dt.date.today(), progress=False,
                                warm_kernels=not args.cold_kernels)
    wall = time.perf_counter() - start

    table = pd.DataFrame(
        {
            "code": [o.authority for o in outcomes],
            "name": [o.name for o in outcomes],
            "status": [o.status for o in outcomes],
            "seconds": [o.duration_seconds for o in outcomes],
        }
    ).merge(authorities[["code", "lsoa_count", "under5"]], on="code")
    table["centres"] = table["code"].map(centres_count)
    table["html_mb"] = [
        (o.html.stat().st_size / 1e6) if o.html is not None else np.nan for o in outcomes
    ]
    print("\nPer report (MEASURED; each timed inside its worker, so with "
          f"{args.workers} worker(s) sharing {os.cpu_count()} cores):")
    print(table.sort_values("lsoa_count").to_string(
        index=False, formatters={"seconds": "{:.1f}".format, "html_mb": "{:.2f}".format}
    ))
    ok = table[table["status"] == "ok"]
    busy = table["seconds"].sum()
    print(
        f"\nMEASURED: {len(table)} reports ({len(ok)} ok, {len(table) - len(ok)} failed) in "
        f"{wall:.1f} s wall with {args.workers} worker(s): {wall / len(table):.1f} s per report "
        f"of wall time; per-report time median {table['seconds'].median():.1f} s, "
        f"min {table['seconds'].min():.1f} s, max {table['seconds'].max():.1f} s; "
        f"speed-up from parallel workers {busy / wall:.2f}x"
    )
    if len(table) < len(authorities):
        # With warm kernels each worker's first report pays the kernel start and the imports,
        # once per worker and not per report: fit the per-report cost without the `workers`
        # reports furthest above a first fit, and add their excess back once (it does not
        # grow with the number of reports). A kernel per report pays it every time: no split.
        x, y = table["lsoa_count"].to_numpy(float), table["seconds"].to_numpy(float)
        slope, intercept = np.polyfit(x, y, 1)
        once = 0.0
        if not args.cold_kernels and len(table) > args.workers + 2:
            residual = y - (intercept + slope * x)
            first = np.argsort(residual)[-args.workers :]
            keep = np.setdiff1d(np.arange(len(y)), first)
            slope, intercept = np.polyfit(x[keep], y[keep], 1)
            once = float((y[first] - (intercept + slope * x[first])).clip(min=0).sum())
        predicted = intercept + slope * authorities["lsoa_count"]
        simple = wall / len(table) * len(authorities)
        fitted = (predicted.sum() + once) / (busy / wall)
        print(
            f"EXTRAPOLATED to all {len(authorities)} authorities "
            f"({authorities['lsoa_count'].sum():,} LSOAs): per-report time ~ "
            f"{intercept:.1f} s {slope * 100:+.2f} s per 100 LSOAs; total wall "
            f"~{fitted / 60:.1f} min with {args.workers} worker(s) (size-adjusted), "
            f"~{simple / 60:.1f} min by plain scaling of this sample; target "
            f"{TARGET_SECONDS / 60:.0f} min: {'met' if fitted < TARGET_SECONDS else 'NOT met'} "
            "(extrapolated)"
        )
    else:
        print(
            f"TARGET: all {len(table)} authorities in {wall / 60:.2f} min against "
            f"{TARGET_SECONDS / 60:.0f} min: {'met' if wall < TARGET_SECONDS else 'NOT met'} "
            "(measured)"
        )
    print(f"Reports and index: {out}")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="run only N authorities")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--pdf", action="store_true", help="also print PDFs with Chromium")
    parser.add_argument("--out", type=Path, default=None, help="keep reports here (default: temp)")
    parser.add_argument("--executor", choices=["process", "dask", "both"], default="process")
    parser.add_argument("--cold-kernels", action="store_true",
                        help="a kernel per report, as before the warm kernels (to compare)")
    args = parser.parse_args()
    logging.basicConfig(format="%(message)s")
    logging.getLogger("planning.outputs.schedule").setLevel(logging.INFO)
    logging.getLogger("distributed").setLevel(logging.WARNING)  # the cluster's own start/stop

    authorities = list_authorities()
    chosen = pick(authorities, args.limit)
    work = Path(tempfile.mkdtemp(prefix="bench-schedule-"))
    out = args.out or work / "reports"
    start = time.perf_counter()
    england = load_areas()
    lines = ["runs:"]
    centres_count = {}
    for row in chosen.itertuples():
        if row.code == settings.DEFAULT_AUTHORITY:
            path = settings.DEFAULT_CENTRES
            centres_count[row.code] = len(path.read_text("utf-8").splitlines()) - 1
        else:
            areas = england[england["utla_code"] == row.code]
            sites = illustrative_centres(areas, row.code, row.name)
            path = write_centres(sites, work / f"{row.code}.csv")
            centres_count[row.code] = len(sites)
        lines += [f"  - authority: {row.code}", f"    centres: {path}"]
        if args.pdf:
            lines.append("    formats: [html, pdf]")
    schedule = work / "schedule.yaml"
    schedule.write_text("\n".join(lines) + "\n")
    prepared = time.perf_counter() - start
    print(
        f"Prepared {len(chosen)} authorities' centres ({sum(centres_count.values()):,} "
        f"illustrative sites) and {schedule} in {prepared:.1f} s (not counted below)"
    )
    if args.pdf and find_chromium() is None:
        raise SystemExit("--pdf needs Chromium")

    engines = ["process", "dask"] if args.executor == "both" else [args.executor]
    walls = {}
    for engine in engines:
        folder = out / engine if len(engines) > 1 else out
        print(f"\n=== {engine}: {'process pool' if engine == 'process' else 'Dask LocalCluster'}"
              f" of {args.workers} worker(s) ===")
        walls[engine] = run_and_report(schedule, folder, engine, args, authorities, centres_count)
    if len(engines) > 1:
        kernels = "a kernel per report" if args.cold_kernels else "a warm kernel per worker"
        print(f"\nSIDE BY SIDE ({len(chosen)} reports, {args.workers} workers, {kernels}): "
              f"process pool {walls['process']:.1f} s ({walls['process'] / 60:.2f} min), "
              f"Dask LocalCluster {walls['dask']:.1f} s ({walls['dask'] / 60:.2f} min) "
              f"(Dask/pool {walls['dask'] / walls['process']:.2f}x); target "
              f"{TARGET_SECONDS / 60:.0f} min for all 153")


if __name__ == "__main__":
    main()
