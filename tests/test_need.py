import numpy as np
import pandas as pd
import pytest

from planning import ValidationError, toy_town
from planning.analysis.need import assess_need, deprivation_band, need_index, under5_income_deprived


def test_need_index_rank_by_hand():
    town = toy_town(rows=1, columns=3, under5=[10, 20, 30], imd_decile=[9, 5, 1])
    # imd_score = 60 - 5*decile = 15, 35, 55; under5 ranks 0, .5, 1; imd ranks 0, .5, 1
    index = need_index(town, weights={"under5": 1.0, "imd_score": 3.0})
    assert index.tolist() == pytest.approx([0.0, 50.0, 100.0])


def test_need_index_weights_pull_in_opposite_directions():
    # under-5s rise left to right while deprivation falls: the index follows the heavier weight.
    town = toy_town(rows=1, columns=3, under5=[10, 20, 30], imd_decile=[1, 5, 9])
    index = need_index(town, weights={"under5": 1.0, "imd_score": 3.0}, normaliser="minmax")
    # minmax: under5 0, .5, 1; imd_score (55,35,15) -> 1, .5, 0 ; (1*u + 3*i)/4
    assert index.tolist() == pytest.approx([75.0, 50.0, 25.0])


def test_need_index_rejects_unknown_names():
    town = toy_town()
    with pytest.raises(ValidationError, match="valid: under5_income_deprived"):
        need_index(town, weights={"povertty": 1.0})
    with pytest.raises(ValidationError, match="valid: rank, minmax, zscore"):
        need_index(town, normaliser="quantile")


def test_deprivation_bands_follow_national_deciles():
    deciles = pd.Series(range(1, 11))
    bands = deprivation_band(deciles).astype(str).tolist()
    assert bands == ["0-30%"] * 3 + ["30-50%"] * 2 + ["50-70%"] * 2 + ["70-100%"] * 3
    with pytest.raises(ValidationError, match="1-10"):
        deprivation_band(pd.Series([11]))


def test_under5_income_deprived_applies_idaci_rate():
    town = toy_town(rows=1, columns=2, under5=[100, 0], idaci_share=0.25)
    # children_0_15 = 300, idaci = 75 -> rate .25 -> 25 under-5s; no children -> 0
    assert under5_income_deprived(town).tolist() == pytest.approx([25.0, 0.0])


def test_assess_need_aligned_and_flags(derby_areas):
    shuffled = derby_areas.sample(frac=1, random_state=1)
    need = assess_need(shuffled)
    assert need.index.equals(shuffled.index)
    assert need["most_deprived_30"].sum() == (shuffled["imd_decile"] <= 3).sum() == 70
    assert 0 <= need["need_index"].min() and need["need_index"].max() <= 100
    assert need["high_need"].sum() == pytest.approx(0.2 * len(shuffled), abs=1)


def test_negative_population_is_rejected():
    town = toy_town(rows=1, columns=2)
    town.loc["T00", "under5"] = -5
    with pytest.raises(ValidationError, match="'under5' has negative values in rows T00"):
        assess_need(town)


def test_missing_column_is_named():
    town = toy_town().drop(columns=["imd_decile"])
    with pytest.raises(ValidationError, match="missing column 'imd_decile'"):
        assess_need(town)


# ------------------------------------------------- issue 11 §6: need figures that mean what they say


def _rate_areas():
    # Area P has the official IDACI score 0.25; Q and R only the counts (rebuilt rates).
    return pd.DataFrame(
        {
            "under5": [40, 100, 100],
            "children_0_15": [120, 300, 300],
            "idaci_children": [24, 33, 27],
            "idaci_score": [0.25, np.nan, np.nan],
        },
        index=pd.Index(["P", "Q", "R"], name="area_code"),
    )


def test_official_idaci_rate_is_used_where_shipped():
    from planning.analysis.need import idaci_rate

    areas = _rate_areas()
    # P: the official 0.25, not the rebuilt 24 / 120 = 0.2; Q 33/300, R 27/300.
    assert idaci_rate(areas).tolist() == pytest.approx([0.25, 0.11, 0.09])
    # 40 x 0.25 + 100 x 0.11 + 100 x 0.09 = 10 + 11 + 9
    assert under5_income_deprived(areas).sum() == pytest.approx(30.0)


def test_official_rate_used_for_derby(derby_areas):
    from planning.analysis.need import idaci_rate

    assert derby_areas["idaci_score"].notna().all()
    assert idaci_rate(derby_areas).to_numpy() == pytest.approx(derby_areas["idaci_score"].to_numpy())


def test_denominator_interval_by_hand():
    from planning.analysis.need import under5_income_deprived_interval

    low, estimate, high = under5_income_deprived_interval(_rate_areas())
    # P keeps its official rate (10). Q, R: 0-15 denominator x1.1 -> 33/330, 27/330 -> 10 + 8.1818;
    # x0.9 -> 33/270, 27/270 -> 12.2222 + 10.
    assert estimate == pytest.approx(30.0)
    assert low == pytest.approx(10 + 10 + 100 * 27 / 330)
    assert high == pytest.approx(10 + 100 * 33 / 270 + 10)
    # A rate of 1 cannot rise: 0-15 all deprived, the lower denominator is capped.
    capped = pd.DataFrame({"under5": [10], "children_0_15": [30], "idaci_children": [30]})
    assert under5_income_deprived_interval(capped) == pytest.approx((10 / 1.1, 10, 10))
    with pytest.raises(ValidationError, match="denominator change"):
        under5_income_deprived_interval(capped, change=1.5)


def test_income_deprived_note_states_the_mismatch_and_the_bound():
    from planning.analysis.need import income_deprived_note

    note = income_deprived_note(_rate_areas())
    assert "mid-2020" in note and "different vintage" in note
    assert "official IoD2025 IDACI score is used for 1 of the 3 areas" in note
    assert "+/-10%" in note and "28-32" in note  # 28.18 .. 32.22
    official = _rate_areas().iloc[:1]
    assert "official IoD2025 IDACI score (rate) of all 1 small areas" in income_deprived_note(official)


def test_nan_decile_is_a_clear_error():
    town = toy_town(rows=1, columns=3, imd_decile=[1, 5, 9])
    town["imd_decile"] = town["imd_decile"].astype(float)
    town.loc["T01", "imd_decile"] = np.nan
    with pytest.raises(ValidationError, match=r"areas: column 'imd_decile' is empty.*T01.*fill it"):
        assess_need(town)


def test_nan_score_is_a_clear_error():
    town = toy_town(rows=1, columns=3, imd_decile=[1, 5, 9])
    town.loc["T02", "imd_score"] = np.nan
    with pytest.raises(ValidationError, match=r"column 'imd_score' is empty.*T02"):
        assess_need(town)
    # A weighted indicator beyond the core columns is checked too.
    town = toy_town(rows=1, columns=3, imd_decile=[1, 5, 9])
    town.loc["T00", "income_score"] = np.nan
    with pytest.raises(ValidationError, match=r"column 'income_score' is empty.*T00"):
        assess_need(town, weights={"income_score": 1.0})
