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
