"""Time reach and targeting on Derby and on a large authority (Birmingham, ~640 LSOAs).

Not a test: prints figures to quote. Extracts are synthetic (planning.inputs.synthetic), written to a
temporary folder that is removed afterwards. Large authorities use illustrative centres: one per
~1,580 under-5s, placed by under-5-weighted k-means (as benchmarks/bench_sufficiency.py).

    .venv/bin/python benchmarks/bench_reach.py [--authority Birmingham]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from planning import load_areas, settings
from planning.standards import Standards
from planning.runs.reach import assess_reach, publish_reach, read_registrations
from planning.analysis.sufficiency import assess_sufficiency
from planning.inputs.synthetic import synthetic_registrations, write_synthetic_registrations
from planning.analysis.targeting import compare_outreach, gains_table
from planning.analysis.targeting_model import (
    area_features,
    evaluate_targeting,
    reach_labels,
    simple_rankings,
)


def centres_for(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    k = max(2, round(areas["under5"].sum() / 1_580))
    points = np.column_stack([areas["point_easting"], areas["point_northing"]])
    km = KMeans(n_clusters=k, n_init=4, random_state=settings.RANDOM_SEED)
    km.fit(points, sample_weight=areas["under5"].to_numpy(dtype=float))
    ids = [f"C{i:03d}" for i in range(k)]
    return gpd.GeoDataFrame(
        {"name": ids, "locality": [f"L{i % 5}" for i in range(k)]},
        index=pd.Index(ids, name="centre_id"),
        geometry=gpd.points_from_xy(km.cluster_centers_[:, 0], km.cluster_centers_[:, 1]),
        crs=settings.WORKING_CRS,
    )


def bench(authority: str, base_reach: float) -> None:
    areas = load_areas(authority)
    result = assess_sufficiency(areas, centres_for(areas), standards=Standards()).areas
    extract = synthetic_registrations(result, base_reach=base_reach, as_of="2025-03-31")
    with tempfile.TemporaryDirectory() as folder:
        path = write_synthetic_registrations(extract, Path(folder) / "bench_synthetic.csv")
        start = time.perf_counter()
        counts = read_registrations(path, result, as_of="2025-03-31")
        read_s = time.perf_counter() - start
    start = time.perf_counter()
    reach = assess_reach(counts, result)
    assess_s = time.perf_counter() - start
    start = time.perf_counter()
    published = publish_reach(reach)
    publish_s = time.perf_counter() - start
    start = time.perf_counter()
    gains_table(result)
    compare_outreach(result, hours=2_000)
    gains_s = time.perf_counter() - start
    start = time.perf_counter()
    labels = reach_labels(reach.areas, target="shortfall")
    model_text = "no model: every area on one side of the benchmark"
    if labels.nunique() == 2:
        evaluation = evaluate_targeting(
            area_features(result, target="shortfall"),
            labels,
            result["ward_code"],
            baseline=simple_rankings(result, target="shortfall"),
        )
        auc = evaluation.metrics["auc"]
        model_text = (
            f"AUC {auc['model']:.2f} vs {auc['baseline']:.2f} for the best simple ranking, "
            f"{evaluation.baseline_name}; advantage claimed: {evaluation.advantage}"
        )
    model_s = time.perf_counter() - start
    print(
        f"{authority}: {len(result)} LSOAs, {len(extract):,} registrations (base reach "
        f"{base_reach:.0%}); read {read_s:.2f} s, reach {assess_s:.2f} s, disclosure control "
        f"{publish_s:.2f} s ({published.withheld} withheld, "
        f"{len(published.audit)} small counts audited in all tables), gains+outreach "
        f"{gains_s:.2f} s, model CV {model_s:.2f} s ({model_text})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--authority", default="Birmingham")
    args = parser.parse_args()
    bench("Derby", 0.65)
    bench("Derby", 0.05)  # many small counts: the disclosure control's hard case
    bench(args.authority, 0.65)


if __name__ == "__main__":
    main()
