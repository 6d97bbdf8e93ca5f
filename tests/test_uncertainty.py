"""How sure are we? The uncertainty model and its propagation to the verdict (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning import toy_town
from planning._errors import ValidationError
from planning.analysis.scenarios import Scenario, ScenarioEngine
from planning.analysis.sufficiency import assess_sufficiency
from planning.analysis.uncertainty import (
    FIGURES,
    assess_uncertainty,
    draw_inputs,
    idaci_intervals,
    network_from_result,
    propagate,
    scenario_uncertainty,
    verdict_text,
)
from planning.standards import Standards
from planning.uncertainty_model import UncertaintyModel, load_uncertainty, uncertainty_from_dict

X0, Y0 = 430_000.0, 335_000.0


def centres_at(*points: tuple[float, float], names: list[str] | None = None) -> gpd.GeoDataFrame:
    ids = [f"C{i}" for i in range(len(points))]
    return gpd.GeoDataFrame(
        {"name": names or ids, "locality": names or ids},
        index=pd.Index(ids, name="centre_id"),
        geometry=[shapely.Point(x, y) for x, y in points],
        crs="EPSG:27700",
    )


def by_name(table: pd.DataFrame, name: str) -> pd.Series:
    return table.set_index("name").loc[name]


def test_far_from_every_threshold_gives_its_verdict_with_probability_one():
    # 9 areas of 100 under-5s, every one within 1.5 km of the one centre: everyone in reach
    # (share 1 against 0.8), 900 per centre (the range is 600-1,200; a 33% error would be needed).
    town = toy_town(rows=3, columns=3, under5=100)
    result = assess_sufficiency(town, centres_at((X0 + 1_500, Y0 + 1_500)))
    assert result.authority["rag"] == "Green"
    sure = assess_uncertainty(result, load_uncertainty(), draws=1_000)
    row = by_name(sure.table, "authority")
    assert row["p_green"] == 1.0 and row["likely"] == "Green" and bool(row["robust"])
    assert row["driver"] == "none"
    assert verdict_text(row) == "Green, 100% likely"
    # the under-5s did move: the certainty is the verdict's, not the inputs'
    assert row["under5_low"] < 900 < row["under5_high"]


def at_threshold_town() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Standards]:
    """Ten areas of 100 under-5s in a row, 0-9 km from the centre; a 7.5 km reach puts eight
    in reach: a share of exactly 0.80, the green threshold of all_within_reach."""
    town = toy_town(rows=1, columns=10, under5=100)
    return town, centres_at((X0 + 500, Y0 + 500)), Standards(reach_km=7.5)


def test_a_town_exactly_at_a_threshold_is_green_about_half_the_time():
    town, centres, standards = at_threshold_town()
    result = assess_sufficiency(town, centres, standards=standards)
    assert result.authority["share_within_reach"] == pytest.approx(0.8)
    assert result.authority["rag"] == "Green"
    draws = 4_000
    sure = assess_uncertainty(result, load_uncertainty(), draws=draws)
    row = by_name(sure.table, "authority")
    # Tolerance 0.05 for 4,000 draws: sampling alone has a standard error of
    # sqrt(0.25 / 4000) = 0.008 (0.05 is six of them); the rest allows for the lognormal
    # errors' skew (the share of 8 areas against 2 is not exactly symmetric).
    assert row["p_green"] == pytest.approx(0.5, abs=0.05)
    assert row["p_green"] + row["p_amber"] == pytest.approx(1.0)  # never red: 0.6 is far
    assert row["driver"] == "all_within_reach"
    assert not row["robust"]  # fragile: the most likely verdict is far below 0.8


def idaci_town() -> gpd.GeoDataFrame:
    town = toy_town(rows=1, columns=4, under5=100)
    # Published counts rounded to 5 and suppressed below 10, as in the IoD2025 indicators.
    town["idaci_children_published"] = [230.0, 10.0, np.nan, 55.0]
    town["idaci_children"] = [230.0, 10.0, 4.0, 55.0]
    town["idaci_estimated"] = [False, False, True, False]
    return town


def test_idaci_draws_stay_in_their_exact_intervals():
    town = idaci_town()
    low, high = idaci_intervals(town, UncertaintyModel())
    # 230 is 228-232; 10 is 10-12 (under 10 would have been suppressed); suppressed is 0-9.
    assert low.tolist() == [228, 10, 0, 53] and high.tolist() == [232, 12, 9, 57]
    result = assess_sufficiency(town, centres_at((X0 + 500, Y0 + 500)))
    sample = draw_inputs(result, UncertaintyModel(), draws=2_000)
    drawn = sample.idaci_children
    assert (drawn >= low).all() and (drawn <= high).all()
    assert np.array_equal(drawn, np.round(drawn))  # whole children
    # every whole number of each interval comes up (uniform on 2,000 draws)
    for area in range(4):
        assert set(np.unique(drawn[:, area])) == set(range(int(low[area]), int(high[area]) + 1))
    sure = assess_uncertainty(result, UncertaintyModel(), draws=2_000)
    row = by_name(sure.table, "authority")
    assert low.sum() <= row["idaci_children_low"] <= row["idaci_children_high"] <= high.sum()


def test_idaci_without_published_counts_is_exact():
    town = toy_town(rows=1, columns=3, under5=100)
    result = assess_sufficiency(town, centres_at((X0 + 500, Y0 + 500)))
    sample = draw_inputs(result, UncertaintyModel(), draws=50)
    assert (sample.idaci_children == town["idaci_children"].to_numpy()).all()


def point_columns(table: pd.DataFrame) -> list[str]:
    return [name for name in FIGURES if name in table]


def assert_draws_equal_point(sure, result) -> None:
    table = sure.table
    groups = table[table["level"] != "centre"]
    for name in point_columns(table):
        for suffix in ("_low", "_median", "_high"):
            np.testing.assert_allclose(
                groups[name + suffix], groups[name], rtol=1e-12, atol=1e-9, err_msg=name
            )
    assert (groups["likely"] == groups["verdict"]).all()
    assert (groups["p_likely"] == 1.0).all()
    assert (groups["driver"] == "none").all()
    centres = table[table["level"] == "centre"]
    np.testing.assert_allclose(
        centres["largest_centre_load_low"], result.centres["under5"].to_numpy(float)
    )
    np.testing.assert_allclose(
        centres["largest_centre_load_high"], result.centres["under5"].to_numpy(float)
    )


def test_with_zero_uncertainty_the_draws_equal_the_point_estimate_toy_town():
    town = toy_town(
        rows=4, columns=5, under5=np.arange(20) * 13.0 + 40, imd_decile=[1, 2, 5, 9] * 5
    )
    centres = centres_at((X0 + 500, Y0 + 500), (X0 + 4_500, Y0 + 3_500), names=["West", "East"])
    result = assess_sufficiency(town, centres, standards=Standards(reach_km=2.0))
    assert_draws_equal_point(assess_uncertainty(result, UncertaintyModel.none(), draws=20), result)


@pytest.fixture(scope="module")
def derby():
    from planning.runs.sufficiency import run_sufficiency

    return run_sufficiency("Derby")


def test_with_zero_uncertainty_the_draws_equal_the_point_estimate_with_neighbours(derby):
    # Real data, with the neighbouring areas and centres of the cross-boundary model: loads
    # include other authorities' residents, figures are residents-only, centres count as
    # centre equivalents; the array core must agree with the assessment everywhere.
    result = derby.result
    assert len(result.neighbour_areas) > 0
    assert_draws_equal_point(assess_uncertainty(result, UncertaintyModel.none(), draws=5), result)


def test_population_draws_move_loads_with_the_neighbours_residents(derby):
    result = derby.result
    network = network_from_result(result)
    sample = draw_inputs(result, UncertaintyModel(circuity=None), draws=200)
    propagated = propagate(network, sample)
    # A centre's load is everyone nearest to it, whichever authority they live in.
    neighbour_rows = np.flatnonzero(network.area_centre[network.residents :] >= 0)
    assert len(neighbour_rows)
    centre = network.area_centre[network.residents + neighbour_rows[0]]
    members = np.flatnonzero(network.area_centre == centre)
    np.testing.assert_allclose(
        propagated.centre_load[:, centre], sample.under5[:, members].sum(axis=1)
    )


def test_a_fixed_seed_reproduces_the_result_and_another_seed_does_not():
    town, centres, standards = at_threshold_town()
    result = assess_sufficiency(town, centres, standards=standards)
    model = load_uncertainty()
    first = assess_uncertainty(result, model, draws=300, seed=7).table
    again = assess_uncertainty(result, model, draws=300, seed=7).table
    other = assess_uncertainty(result, model, draws=300, seed=8).table
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_circuity_moves_only_the_walking_share():
    town = toy_town(rows=3, columns=3, under5=100)
    result = assess_sufficiency(town, centres_at((X0 + 500, Y0 + 500)))
    only_circuity = UncertaintyModel.none().replace(circuity=(1.2, 1.5))
    table = assess_uncertainty(result, only_circuity, draws=500).table
    row = by_name(table, "authority")
    assert row["share_within_walk_low"] < row["share_within_walk_high"]
    for name in ("under5", "share_within_reach", "under5_per_centre", "idaci_children"):
        assert row[f"{name}_low"] == row[f"{name}_high"] == pytest.approx(row[name])


def test_split_areas_conserve_the_split_total():
    town = toy_town(rows=1, columns=3, under5=[300.0, 100.0, 200.0])
    result = assess_sufficiency(town, centres_at((X0 + 500, Y0 + 500)))
    # T00 and T01 came from one 2011 area: apportionment alone redistributes its 400.
    groups = pd.Series({"T00": "E0", "T01": "E0"})
    model = UncertaintyModel.none().replace(apportionment_concentration=20.0)
    sample = draw_inputs(result, model, draws=500, split_groups=groups)
    np.testing.assert_allclose(sample.under5[:, :2].sum(axis=1), 400.0)
    assert sample.under5[:, 0].std() > 10
    assert (sample.under5[:, 2] == 200.0).all()
    assert sample.under5[:, 0].mean() == pytest.approx(300, rel=0.02)


def test_a_closure_that_overloads_the_other_centre_takes_green_to_amber_in_every_draw():
    # One locality, two centres of 800 under-5s each (green, far inside 600-1,200); closing
    # one puts all 1,600 on the other, far above 1,200: amber or red in every draw.
    town = toy_town(rows=1, columns=4, under5=400)
    centres = centres_at((X0 + 1_000, Y0 + 500), (X0 + 3_000, Y0 + 500), names=["W", "W"])
    result = assess_sufficiency(town, centres)
    engine = ScenarioEngine.from_result(result)
    after = engine.evaluate(Scenario().close("C1")).to_result()
    assert result.localities.loc["W", "rag"] == "Green"
    assert after.localities.loc["W", "rag"] == "Amber"
    table = scenario_uncertainty(result, after, load_uncertainty(), draws=500)
    row = by_name(table, "W")
    assert row["p_green_before"] == 1.0
    assert row["p_green_to_amber_or_red"] == 1.0 and row["p_worse"] == 1.0
    # A scenario that changes nothing changes no verdict in any draw.
    same = scenario_uncertainty(
        result, engine.evaluate(Scenario()).to_result(), load_uncertainty(), draws=500
    )
    assert (same["p_worse"] == 0).all() and (same["p_better"] == 0).all()


def test_scenario_draws_are_shared_before_and_after():
    # At the threshold, the verdict is a coin toss; a scenario that changes nothing must not
    # toss it twice: the same draws go through both networks.
    town, centres, standards = at_threshold_town()
    result = assess_sufficiency(town, centres, standards=standards)
    engine = ScenarioEngine.from_result(result)
    same = engine.evaluate(Scenario()).to_result()
    table = scenario_uncertainty(result, same, load_uncertainty(), draws=1_000)
    row = by_name(table, "authority")
    assert 0.3 < row["p_green_before"] < 0.7
    assert row["p_green_to_amber_or_red"] == 0.0


def test_verdict_text():
    assert verdict_text({"p_green": 0.17, "p_amber": 0.83, "p_red": 0.0}) == (
        "Amber, 83% likely; Green 17%"
    )
    assert verdict_text({"p_green": 0.0, "p_amber": 0.0, "p_red": 1.0}) == "Red, 100% likely"


def test_the_packaged_model_loads_with_its_declared_choices():
    model = load_uncertainty()
    assert model.population_cv == {"age_0": 0.35, "age_1_4": 0.10}
    assert model.circuity == (1.2, 1.5)
    assert (model.idaci_rounding_base, model.idaci_suppressed_below) == (5, 10)
    assert model.apportionment_concentration == 20
    assert model.fragile_below == 0.8
    assert model.reach_km is None and model.max_under5_per_centre is None


def test_a_bad_uncertainty_file_names_every_problem(tmp_path):
    path = tmp_path / "u.yaml"
    path.write_text("fragile_below: 0.3\ncircuity: {low: 1.2, hihg: 1.5}\npopluation: {}\n")
    with pytest.raises(ValidationError) as info:
        load_uncertainty(path)
    message = str(info.value)
    assert str(path) in message
    assert "fragile_below" in message and "did you mean 'high'" in message
    assert "did you mean 'population'" in message
    with pytest.raises(ValidationError, match="mid-2019"):
        uncertainty_from_dict({"population": {"vintage": "mid-2019"}})
    with pytest.raises(ValidationError, match="circuity"):
        uncertainty_from_dict({"circuity": {"low": 1.5, "high": 1.2}})


def test_draws_must_be_drawn_from_the_same_assessment():
    town = toy_town(rows=1, columns=3, under5=100)
    one = assess_sufficiency(town, centres_at((X0 + 500, Y0 + 500)))
    other = assess_sufficiency(town.iloc[:2], centres_at((X0 + 500, Y0 + 500)))
    with pytest.raises(ValidationError, match="same assessment"):
        propagate(network_from_result(one), draw_inputs(other, UncertaintyModel(), draws=5))


def test_cli_sufficiency_draws_writes_uncertainty_csv_and_summary(tmp_path):
    out = tmp_path / "derby"
    done = subprocess.run(
        [sys.executable, "-m", "planning", "sufficiency", "--authority", "Derby",
         "--draws", "200", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "uncertainty.csv")
    assert {"authority", "locality", "centre"} <= set(table["level"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["uncertainty"]["draws"] == 200
    authority = table[table["level"] == "authority"].iloc[0]
    assert summary["uncertainty"]["verdict"] == verdict_text(authority)
    assert summary["uncertainty"]["authority"]["likely"] == authority["likely"]
    assert "likely" in done.stdout


def test_a_drawn_reach_standard_moves_the_reach_rule():
    # Areas 0, 1 and 2 km from the centre; a reach drawn uniformly in 0.5-1.5 km puts the 1 km
    # area in reach in half the draws, and the others always (0 km) or never (2 km).
    town = toy_town(rows=1, columns=3, under5=100)
    result = assess_sufficiency(town, centres_at((X0 + 500, Y0 + 500)))
    model = UncertaintyModel.none().replace(reach_km=(0.5, 1.5))
    row = by_name(assess_uncertainty(result, model, draws=2_000).table, "authority")
    assert row["share_within_reach_low"] == pytest.approx(1 / 3)
    assert row["share_within_reach_high"] == pytest.approx(2 / 3)
    # 2/3 is amber (0.6-0.8) and 1/3 red: a coin toss between them
    assert row["p_amber"] == pytest.approx(0.5, abs=0.05)
    assert row["p_amber"] + row["p_red"] == pytest.approx(1.0)


def test_the_report_block_shows_each_verdict_with_its_probability_and_error_bars():
    from planning.outputs.uncertainty import uncertainty_block
    from planning.runs.sufficiency import SufficiencyRun

    town, centres, standards = at_threshold_town()
    result = assess_sufficiency(town, centres, standards=standards)
    run = SufficiencyRun(result=result, authority_code="T00000001", authority_name="Toy", inputs={})
    sure = assess_uncertainty(result, load_uncertainty(), draws=1_000)
    html = str(uncertainty_block(run, sure))
    authority = by_name(sure.table, "authority")
    assert verdict_text(authority) in html and "fragile" in html
    # no area is among the most deprived, so two charts: all under-5s in reach, and the load
    assert html.count("<svg") == 2 and html.count("<title") >= 2
    assert "green 80%" in html  # the threshold the share is judged against


def test_cli_scenario_draws_writes_the_probability_of_each_change(tmp_path):
    scenario = tmp_path / "close.yaml"
    scenario.write_text("name: Close one\nactions:\n  - close: CC03\n")
    out = tmp_path / "scenario"
    done = subprocess.run(
        [sys.executable, "-m", "planning", "scenario", "--authority", "Derby",
         "--scenario", str(scenario), "--draws", "200", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "uncertainty.csv")
    localities = pd.read_csv(out / "localities.csv")
    assert set(localities["locality"]) <= set(table["name"])
    assert table[["p_worse", "p_better", "p_green_to_amber_or_red"]].stack().between(0, 1).all()
    # the point verdicts are the comparison's
    authority = table.set_index("name").loc["authority"]
    summary = json.loads((out / "summary.json").read_text())
    assert authority["verdict_after"] == summary["verdict_after"]
    assert len(summary["uncertainty"]) == len(table)
