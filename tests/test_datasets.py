"""The embedded data: every authority loads; the 2011 -> 2021 crosswalk conserves population."""

import importlib.util

import numpy as np
import pandas as pd
import pytest

from planning import ValidationError, list_authorities, load_areas, resolve_authority
from planning.inputs.areas import DATA_VINTAGES

from conftest import REPO, SHARED


def _build_module():
    spec = importlib.util.spec_from_file_location("build_data", REPO / "scripts" / "build_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_upper_tier_authority_is_listed():
    table = list_authorities()
    assert len(table) == 153
    assert table["code"].is_unique
    assert table.set_index("code").loc["E06000015", "lsoa_count"] == 152
    assert table["lsoa_count"].sum() == 33_755


@pytest.mark.parametrize("given", ["E06000015", "e06000015", "Derby", "derby", " DERBY "])
def test_resolve_by_code_or_name(given):
    assert resolve_authority(given) == ("E06000015", "Derby")


def test_unknown_authority_suggests_names():
    with pytest.raises(ValidationError, match="Did you mean 'Derby'"):
        resolve_authority("Derbyy")
    with pytest.raises(ValidationError, match="planning authorities"):
        resolve_authority("E99999999")


def test_derby_matches_published_checks(derby_areas):
    # Checks stated in shared/data/README.md.
    assert len(derby_areas) == 152
    assert derby_areas["ward_code"].nunique() == 18
    assert derby_areas["under5"].sum() == 15_795
    assert derby_areas["imd_score"].min() == pytest.approx(1.575)
    assert derby_areas["imd_score"].max() == pytest.approx(78.105)
    assert (derby_areas["imd_decile"] <= 3).mean() == pytest.approx(0.46, abs=0.005)
    assert derby_areas.crs.to_epsg() == 27700
    assert derby_areas.index.name == "area_code" and derby_areas.index.is_unique


def test_suppressed_idaci_is_estimated_within_bound_and_flagged():
    england = load_areas()
    flagged = england[england["idaci_estimated"]]
    assert len(flagged) == 815
    assert flagged["idaci_children_published"].isna().all()
    assert flagged["idaci_children"].between(0, 9).all()
    published = england[~england["idaci_estimated"]]
    assert (published["idaci_children"] == published["idaci_children_published"].astype(float)).all()
    derby = england[england["utla_code"] == "E06000015"]
    assert derby["idaci_estimated"].sum() == 2
    # Derby's two use the transcribed IDACI score x children 0-15, clipped to 0-9.
    rows = derby[derby["idaci_estimated"]]
    expected = (rows["idaci_score"] * rows["children_0_15"]).clip(0, 9).round()
    assert (rows["idaci_estimate_method"] == "idaci_score_x_children").all()
    np.testing.assert_allclose(rows["idaci_children"], expected)


def test_under5_is_sum_of_single_years_and_total_conserved():
    a21 = load_areas()
    a11 = load_areas(vintage=2011)
    ages = [f"age_{a}" for a in range(5)]
    assert (a21[ages].sum(axis=1) == a21["under5"]).all()
    for column in ages + ["children_0_15", "total_population"]:
        assert a21[column].sum() == a11[column].sum(), column
    assert a21["under5"].sum() == 3_239_447


@pytest.mark.skipif(not SHARED.exists(), reason="shared/data not beside the clone")
def test_under5_total_matches_the_ons_source_file():
    pop = pd.read_csv(SHARED / "england" / "population_mid2020_lsoa11_single_year.csv.gz")
    pop = pop[pop["lsoa11_code"].str.startswith("E")]
    assert pop[["0", "1", "2", "3", "4"]].to_numpy().sum() == load_areas()["under5"].sum()


def test_crosswalk_split_and_merge_by_hand():
    build = _build_module()
    counts = pd.DataFrame({"age_0": [10, 7, 5]}, index=["S1", "M1", "M2"])
    lookup = pd.DataFrame(
        {"lsoa11_code": ["S1", "S1", "S1", "M1", "M2"], "lsoa21_code": ["a", "b", "c", "m", "m"]}
    )
    households = pd.Series({"a": 100, "b": 100, "c": 200, "m": 50})
    out = build.crosswalk_counts(counts, lookup, households)
    # 10 split 1:1:2 -> quotas 2.5, 2.5, 5 -> floors 2, 2, 5, one unit left to the first tie.
    assert out.loc[["a", "b", "c"], "age_0"].tolist() == [3, 2, 5]
    assert out.loc["m", "age_0"] == 12  # merged: 7 + 5
    assert out["age_0"].sum() == counts["age_0"].sum()


def test_largest_remainder_always_conserves():
    build = _build_module()
    rng = np.random.default_rng(0)
    for _ in range(200):
        total = int(rng.integers(0, 500))
        weights = rng.random(int(rng.integers(1, 6)))
        parts = build.largest_remainder(total, weights)
        assert parts.sum() == total and (parts >= 0).all()


def test_iod2019_on_lsoa2011_loads_with_rebuilt_score():
    derby11 = load_areas("Derby", vintage=2011)
    assert len(derby11) == 151 and derby11["under5"].sum() == 15_795
    # File 9 with the published weights reproduces the official IMD 2019 score of E01000001.
    city = load_areas("City of London", vintage=2011)
    assert city.loc["E01000001", "imd_score"] == pytest.approx(6.208, abs=0.001)
    with pytest.raises(ValidationError, match="vintage"):
        load_areas("Derby", vintage=2015)


def test_vintages_are_documented():
    assert {"deprivation", "under5_population", "idaci_children"} <= set(DATA_VINTAGES)
