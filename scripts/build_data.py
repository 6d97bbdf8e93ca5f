"""Build the compact embedded data in ``src/planning/data/`` from the shared open-data tables.

The folder is package data: it ships in the wheel and is read with importlib.resources.

Run by developers when the source tables change (``make data``); never at run time.
Every figure is traceable to a file listed in ``src/planning/data/README.md``.

Outputs
-------
src/planning/data/lsoa21_england.parquet
    GeoParquet, one row per English LSOA 2021 (33,755), polygons in EPSG:27700, sorted by
    upper-tier authority so that one authority is read with a row-group filter.
src/planning/data/lsoa11_england.parquet
    GeoParquet, one row per English LSOA 2011 (32,844): IoD2019 and the mid-2020 under-5s on their
    native geography.
src/planning/data/lsoa21_ages_0_19.parquet
    One row per English LSOA 2021 (area_code index): the mid-2020 population by single year of
    age 0-19 (``age_0`` .. ``age_19``), carried from LSOA 2011 by the same crosswalk as the
    under-5s, so its ``age_0`` .. ``age_4`` equal the main file's. ``--ages`` rebuilds only it.
src/planning/data/authorities.csv
    The 153 English upper-tier authorities (counties and unitaries) with their districts.
src/planning/data/SOURCES.sha256
    SHA-256 of every source file used, so a build can be traced to its inputs.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

BNG = "EPSG:27700"
AGES_UNDER5 = ["0", "1", "2", "3", "4"]
AGES_0_15 = [str(a) for a in range(16)]
# Single years for the age-range standards (population.ages): family hubs serve 0-19.
AGES_0_19 = [str(a) for a in range(20)]
AGES_FILE = "lsoa21_ages_0_19.parquet"
IMD_DOMAINS_2025 = {
    "IMD": "imd",
    "Income": "income",
    "Employment": "employment",
    "Education": "education",
    "Health": "health",
    "Crime": "crime",
    "Housing_and_Services": "housing_and_services",
    "Environment": "environment",
}
IDACI_NUMERATOR = "income_deprivation_affecting_children_index_idaci_numerator"
# The IoD indicators suppress counts below this (published numerators are rounded to 5).
IDACI_SUPPRESSION_BOUND = 9
# IoD2019 domain weights (MHCLG technical report), used to rebuild the IMD score from File 9.
IOD2019_WEIGHTS = {
    "Income Score - exponentially transformed": 0.225,
    "Employment Score - exponentially transformed": 0.225,
    "Education Score - exponentially transformed": 0.135,
    "Health Score - exponentially transformed": 0.135,
    "Crime Score - exponentially transformed": 0.093,
    "Barriers Score - exponentially transformed": 0.093,
    "Living Environment Score - exponentially transformed": 0.093,
}


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split integer ``total`` in proportion to ``weights`` so the parts sum to it exactly.

    Hamilton's largest-remainder method: floor each quota, then give the leftover units to the
    largest fractional remainders (ties to the first). Equal split when every weight is zero.
    """
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    quotas = total * weights / weights.sum()
    parts = np.floor(quotas).astype(np.int64)
    leftover = int(total - parts.sum())
    order = np.argsort(-(quotas - parts), kind="stable")
    parts[order[:leftover]] += 1
    return parts


def crosswalk_counts(
    counts11: pd.DataFrame, lookup: pd.DataFrame, weight21: pd.Series
) -> pd.DataFrame:
    """Carry integer counts from LSOA 2011 to LSOA 2021, conserving every column's total.

    Each 2011 area's counts are split over the 2021 areas it maps to (one for U and M, several for
    S and X) in proportion to ``weight21`` (Census 2021 households), by largest remainder; the
    parts are then summed per 2021 area, which merges M areas.
    """
    targets = lookup.groupby("lsoa11_code")["lsoa21_code"].apply(list)
    rows: dict[str, np.ndarray] = {}
    values = counts11.to_numpy(dtype=np.int64)
    for position, code11 in enumerate(counts11.index):
        codes21 = targets[code11]
        if len(codes21) == 1:
            parts = values[position][None, :]
        else:
            w = weight21.reindex(codes21).fillna(0).to_numpy()
            parts = np.column_stack([largest_remainder(v, w) for v in values[position]])
        for code21, part in zip(codes21, parts):
            rows[code21] = rows.get(code21, 0) + part
    out = pd.DataFrame.from_dict(rows, orient="index", columns=counts11.columns)
    if not (out.sum() == counts11.sum()).all():
        raise AssertionError("crosswalk did not conserve the population")
    return out


def interior_point(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Centroid where it falls inside the polygon, else shapely's point-on-surface."""
    centroid = geometry.centroid
    inside = geometry.contains(centroid)
    return centroid.where(inside, geometry.representative_point())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(source: Path, out: Path) -> None:
    eng = source / "england"
    used: list[Path] = []

    def read(name: str, **kw) -> pd.DataFrame:
        used.append(eng / name)
        return pd.read_csv(eng / name, **kw)

    lookup = read("lookup_lsoa11_lsoa21_ltla22.csv.gz")
    lookup = lookup[lookup.lsoa11_code.str.startswith("E")]
    wards = read("lookup_lsoa21_ward24_ltla24.csv.gz")
    wards = wards[wards.lsoa21_code.str.startswith("E")].set_index("lsoa21_code")
    utla = read("lookup_ltla23_utla23.csv.gz").set_index("ltla23_code")
    imd = read("imd2025_lsoa21.csv.gz").set_index("lsoa21_code")
    indicators = read("imd2025_lsoa21_indicators.csv.gz").set_index("lsoa21_code")
    rural = read("rural_urban_2021_lsoa21.csv.gz").set_index("lsoa21_code")
    census = read("census2021_household_deprivation_lsoa21.csv.gz").set_index("lsoa21_code")
    households = census.sum(axis=1).rename("households_2021")
    pop = read("population_mid2020_lsoa11_single_year.csv.gz")
    pop = pop[pop.lsoa11_code.str.startswith("E")].set_index("lsoa11_code")
    used.append(source / "derby_thurrock" / "iod2025_lsoa21_derby_thurrock_with_idaci.csv")
    idaci_score = pd.read_csv(used[-1]).set_index("lsoa21_code")["idaci_score"]

    # ---- population: mid-2020 LSOA 2011 -> LSOA 2021 -------------------------------------
    counts11 = pd.DataFrame(
        {f"age_{a}": pop[a] for a in AGES_UNDER5}
        | {"children_0_15": pop[AGES_0_15].sum(axis=1), "total_population": pop["total_population"]}
    ).round().astype(np.int64)
    counts21 = crosswalk_counts(counts11, lookup, households)

    areas = pd.DataFrame(index=imd.index.rename("area_code"))
    areas["area_name"] = wards["lsoa21_name"]
    areas["ltla_code"] = wards["ltla24_code"]
    areas["ltla_name"] = wards["ltla24_name"]
    areas["utla_code"] = areas["ltla_code"].map(utla["utla23_code"])
    areas["utla_name"] = areas["ltla_code"].map(utla["utla23_name"])
    areas["ward_code"] = wards["ward24_code"]
    areas["ward_name"] = wards["ward24_name"]
    for src, dst in IMD_DOMAINS_2025.items():
        areas[f"{dst}_score"] = imd[f"{src}_score"]
        areas[f"{dst}_rank"] = imd[f"{src}_rank"].astype("int32")
        areas[f"{dst}_decile"] = imd[f"{src}_decile"].astype("int8")
    areas = areas.join(counts21.astype("int32"))
    areas["under5"] = areas[[f"age_{a}" for a in AGES_UNDER5]].sum(axis=1).astype("int32")

    # ---- IDACI numerator, with the suppressed cells estimated inside their bound ---------
    published = indicators[IDACI_NUMERATOR]
    areas["idaci_children_published"] = published.astype("Float64")
    areas["idaci_score"] = idaci_score.reindex(areas.index)
    ok = published.notna() & (areas["children_0_15"] > 0) & (areas["income_score"] > 0)
    expected = areas["income_score"] * areas["children_0_15"]
    # National ratio of children's income deprivation to the all-age income rate, on the areas
    # where both are published; the median resists outliers.
    ratio = float((published[ok] / expected[ok]).median())
    by_income = (ratio * expected).clip(0, IDACI_SUPPRESSION_BOUND)
    by_score = (areas["idaci_score"] * areas["children_0_15"]).clip(0, IDACI_SUPPRESSION_BOUND)
    suppressed = published.isna()
    use_score = suppressed & by_score.notna()
    estimate = by_score.where(use_score, by_income).round()
    areas["idaci_children"] = published.where(~suppressed, estimate).astype(float)
    areas["idaci_estimated"] = suppressed
    areas["idaci_estimate_method"] = np.select(
        [use_score, suppressed],
        ["idaci_score_x_children", "income_rate_x_children"],
        default="published",
    )
    areas["ruc21_code"] = rural["ruc21_code"]
    areas["ruc21_class"] = rural["classification"]
    areas["rural"] = rural["ruc"].eq("Rural")
    areas["households_2021"] = households.reindex(areas.index).astype("int32")

    # ---- polygons and interior points -----------------------------------------------------
    used.append(eng / "boundaries_lsoa21.gpkg")
    shapes = gpd.read_file(used[-1]).set_index("lsoa21_code").to_crs(BNG)
    shapes = shapes.reindex(areas.index)
    if shapes.geometry.isna().any():
        raise AssertionError("LSOA without a polygon")
    # Metre precision is ample at LSOA scale and halves the file.
    geometry = gpd.GeoSeries(shapely.set_precision(shapes.geometry.values, 1.0), crs=BNG)
    geometry.index = areas.index
    point = interior_point(geometry)
    areas["point_easting"] = point.x.round(1)
    areas["point_northing"] = point.y.round(1)
    lsoa21 = gpd.GeoDataFrame(areas, geometry=geometry, crs=BNG)
    lsoa21 = lsoa21.sort_values(["utla_code", "area_code"])
    out.mkdir(parents=True, exist_ok=True)
    lsoa21.to_parquet(
        out / "lsoa21_england.parquet", compression="zstd", row_group_size=2_000, index=True
    )

    # ---- IoD2019 on LSOA 2011 --------------------------------------------------------------
    imd19 = read("imd2019_lsoa11.csv.gz").set_index("lsoa11_code")
    ind19 = read("imd2019_lsoa11_indicators.csv.gz").set_index("lsoa11_code")
    used.append(eng / "iod2019_official" / "File_9_-_IoD2019_Transformed_Scores.csv.gz")
    file9 = pd.read_csv(used[-1], encoding="utf-8-sig").set_index("LSOA code (2011)")
    imd19_score = sum(file9[col] * weight for col, weight in IOD2019_WEIGHTS.items())
    a11 = pd.DataFrame(index=imd19.index.rename("area_code"))
    a11["area_name"] = lookup.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["lsoa11_name"]
    a11["ltla_code"] = lookup.drop_duplicates("lsoa11_code").set_index("lsoa11_code")["ltla22_code"]
    a11["utla_code"] = a11["ltla_code"].map(utla["utla23_code"])
    a11["utla_name"] = a11["ltla_code"].map(utla["utla23_name"])
    a11["imd_score"] = imd19_score.reindex(a11.index).round(3)
    for src in ["IMD", "Income", "Employment", "Education", "Health", "Crime", "Environment"]:
        a11[f"{src.lower()}_rank"] = imd19[f"{src}_rank"].astype("int32")
        a11[f"{src.lower()}_decile"] = imd19[f"{src}_decile"].astype("int8")
    a11["housing_and_services_rank"] = imd19["Housing_and_Access_rank"].astype("int32")
    a11["housing_and_services_decile"] = imd19["Housing_and_Access_decile"].astype("int8")
    a11 = a11.join(counts11.astype("int32"))
    a11["under5"] = a11[[f"age_{a}" for a in AGES_UNDER5]].sum(axis=1).astype("int32")
    a11["idaci_children_published"] = ind19[IDACI_NUMERATOR].astype("Float64")
    used.append(eng / "boundaries_lsoa11.gpkg")
    shapes11 = gpd.read_file(used[-1]).set_index("lsoa11_code").to_crs(BNG).reindex(a11.index)
    g11 = gpd.GeoSeries(shapely.set_precision(shapes11.geometry.values, 1.0), crs=BNG)
    g11.index = a11.index
    p11 = interior_point(g11)
    a11["point_easting"] = p11.x.round(1)
    a11["point_northing"] = p11.y.round(1)
    lsoa11 = gpd.GeoDataFrame(a11, geometry=g11, crs=BNG).sort_values(["utla_code", "area_code"])
    lsoa11.to_parquet(
        out / "lsoa11_england.parquet", compression="zstd", row_group_size=2_000, index=True
    )

    # ---- authorities ------------------------------------------------------------------------
    auth = (
        areas.groupby(["utla_code", "utla_name"])
        .agg(
            districts=("ltla_name", lambda s: "; ".join(sorted(s.unique()))),
            lsoa_count=("ltla_code", "size"),
            under5=("under5", "sum"),
        )
        .reset_index()
        .rename(columns={"utla_code": "code", "utla_name": "name"})
    )
    auth.to_csv(out / "authorities.csv", index=False)
    with open(out / "SOURCES.sha256", "w") as fh:
        for path in sorted(set(used)):
            fh.write(f"{sha256(path)}  {path.relative_to(source)}\n")
    print(f"ratio IDACI/income*children = {ratio:.4f}")
    print(f"{len(lsoa21)} LSOA 2021, {len(lsoa11)} LSOA 2011, {len(auth)} authorities")
    print(f"under-5s 2011 {counts11.filter(like='age_').sum().sum()} -> "
          f"2021 {lsoa21['under5'].sum()}")


def build_ages(source: Path, out: Path) -> None:
    """Write ``lsoa21_ages_0_19.parquet``: single years 0-19 on LSOA 2021, totals conserved.

    The same source (ONS mid-2020, LSOA 2011), lookup and household weights as the main build;
    :func:`largest_remainder` splits each column on its own, so ``age_0`` .. ``age_4`` equal the
    main file's and every age's England total equals the source's exactly.
    """
    eng = source / "england"
    lookup = pd.read_csv(eng / "lookup_lsoa11_lsoa21_ltla22.csv.gz")
    lookup = lookup[lookup.lsoa11_code.str.startswith("E")]
    census = pd.read_csv(eng / "census2021_household_deprivation_lsoa21.csv.gz").set_index(
        "lsoa21_code"
    )
    households = census.sum(axis=1).rename("households_2021")
    pop = pd.read_csv(eng / "population_mid2020_lsoa11_single_year.csv.gz")
    pop = pop[pop.lsoa11_code.str.startswith("E")].set_index("lsoa11_code")
    counts11 = pd.DataFrame({f"age_{a}": pop[a] for a in AGES_0_19}).round().astype(np.int64)
    counts21 = crosswalk_counts(counts11, lookup, households).astype("int32")
    counts21.index.name = "area_code"
    counts21 = counts21.sort_index()
    counts21.to_parquet(out / AGES_FILE, compression="zstd", index=True)
    print(f"ages 0-19: 2011 {int(counts11.to_numpy().sum())} -> 2021 {int(counts21.to_numpy().sum())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("src/planning/data"))
    parser.add_argument("--ages", action="store_true", help=f"rebuild only {AGES_FILE}")
    args = parser.parse_args()
    if not args.ages:
        build(args.source, args.out)
    build_ages(args.source, args.out)
