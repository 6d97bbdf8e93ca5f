"""The planner notebooks' views: need tables, gaps, example scenarios and the difference map."""

from __future__ import annotations

import re

import pytest

from planning import ValidationError, toy_town
from planning.apps import workbench
from planning.outputs.maps import OfflineMap, assert_offline, offline_html
from planning.analysis.need import assess_need
from planning.analysis.scenarios import ScenarioEngine
from planning.analysis.sufficiency import assess_sufficiency

from conftest import make_centres

X0, Y = 430_000.0, 335_500.0


@pytest.fixture
def need_town():
    """3x3 town: under-5s 100..900 row-major, IMD deciles 1 (bottom row), 5, 9 (top row)."""
    town = toy_town(under5=[100.0 * i for i in range(1, 10)], imd_decile=[1] * 3 + [5] * 3 + [9] * 3)
    return town.join(assess_need(town))


def test_need_summary_sums_counts_in_every_band(need_town):
    table = workbench.need_summary(need_town)
    assert table.index.tolist() == ["0-30%", "30-50%", "50-70%", "70-100%", "All areas"]
    assert table["under5"].tolist() == [600, 1500, 0, 2400, 4500]
    assert table["areas"].tolist() == [3, 3, 0, 3, 9]
    assert table.loc["All areas", "idaci_children"] == need_town["idaci_children"].sum()
    bands = table.drop(index="All areas")
    assert bands["share_of_under5_pct"].sum() == pytest.approx(100.0, abs=0.2)
    assert table.loc["All areas", "high_need_areas"] == need_town["high_need"].sum()


def test_need_summary_by_ward(need_town):
    table = workbench.need_summary(need_town, by="ward_name")
    assert table.index.tolist() == ["Ward 0", "Ward 1", "Ward 2", "All areas"]
    assert table["under5"].tolist() == [600, 1500, 2400, 4500]
    with pytest.raises(ValidationError, match="missing column 'locality'"):
        workbench.need_summary(need_town, by="locality")


def test_need_headline_states_the_counts(need_town):
    text = workbench.need_headline(need_town).data
    assert "**4,500** children under 5 live in **9** small areas" in text
    assert "**600** of them (13%) live in the 30% most deprived" in text


def _strip_engine(strip_town):
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=["West", "East"])
    return ScenarioEngine(strip_town, centres)


def test_gap_areas_are_deprived_and_out_of_reach(strip_town):
    # One centre at the east end: cells 0 and 1 (deciles 1 and 2) are 4 and 3 km away.
    result = assess_sufficiency(strip_town, make_centres({"B": (X0 + 4500, Y)}))
    gaps = workbench.gap_areas(result)
    assert gaps.index.tolist() == ["T01", "T00"]  # most under-5s first
    assert gaps["distance_km"].tolist() == [3.0, 4.0]
    assert gaps["under5"].tolist() == [200, 100]
    assert (gaps["centre_name"] == "Centre B").all()


def test_example_closes_least_used_and_opens_at_biggest_gap(strip_town):
    engine = _strip_engine(strip_town)
    # A serves cells 0-2 (600 under-5s; cell 2 is a tie, to the first listed), B 900.
    scenario = workbench.example_scenario(engine)
    assert [a.kind for a in scenario.actions] == ["close", "open"]
    assert scenario.actions[0].centre_id == "A"
    # Without A, cells 0 and 1 are beyond 2.5 km; cell 1 has more income-deprived under-5s.
    opened = dict(scenario.actions[1].values)
    assert (opened["easting"], opened["northing"]) == (X0 + 1500, Y)
    assert scenario.name == "Close A, open new centre near Toy T01"
    comparison = engine.compare(scenario)
    assert comparison.after.centres["under5"].to_dict() == {"B": 900, "NEW1": 600}
    summary = workbench.comparison_summary(comparison).data
    assert summary.startswith(f"**{scenario.name}**")
    assert "No small area gains or loses reasonable reach." in summary


def test_example_with_given_centre_and_postcode(strip_town):
    engine = _strip_engine(strip_town)
    scenario = workbench.example_scenario(engine, close="B", open_postcode="de23 6wy")
    assert scenario.describe() == ["close B", "open NEW1 (New centre at DE23 6WY) at DE23 6WY"]
    after = engine.evaluate(scenario).centres
    assert after.loc["NEW1", ["easting", "northing"]].tolist() == [435054, 334727]
    with pytest.raises(ValidationError, match="valid ids: A, B"):
        workbench.example_scenario(engine, close="Z")


def test_example_reads_a_scenario_file(strip_town, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: Close B\nactions:\n  - close: B\n")
    scenario = workbench.example_scenario(_strip_engine(strip_town), close="A", scenario=path)
    assert scenario.name == "Close B" and scenario.describe() == ["close B"]


def test_comparison_map_is_offline_and_shows_the_change(strip_town):
    engine = _strip_engine(strip_town)
    comparison = engine.compare(workbench.example_scenario(engine, close="A", open_postcode=None))
    m = workbench.comparison_map(comparison, tiles=None)
    assert isinstance(m, OfflineMap)
    page = offline_html(m)
    assert_offline(page)
    assert "Closed: Centre A (A)" in page and "Opened: New centre near Toy T01 (NEW1)" in page
    assert re.search(r"Centres kept: 1", page)


def test_any_authority_runs_on_its_own_illustrative_centres():
    run = workbench.assess("Thurrock")
    # Named by its place in the package, never by the folder it is installed in.
    assert run.inputs["centres_file"] == "planning/data/centres/thurrock_illustrative.csv"
    assert run.result.authority["authority_code"] == "E06000034"
    engine = workbench.scenario_engine("E06000034")
    assert engine.baseline.figures["share_within_reach"] == pytest.approx(
        run.result.authority["share_within_reach"]
    )
    need = workbench.load_need("Thurrock")
    assert need["need_index"].between(0, 100).all() and len(need) == 100


def test_need_headline_words_the_standards_and_labels_the_0_15_count(need_town):
    from planning.standards import Standards

    council = Standards(most_deprived_deciles=(1, 2))
    text = workbench.need_headline(need_town, standards=council).data
    assert "live in the 20% most deprived areas of England (IMD deciles 1, 2)" in text
    # 0.2 x 4,500 under-5s = 900 estimated; 0.2 x 3 x 4,500 = 2,700 children aged 0-15, stated
    # apart and labelled, not as if they were a subset of the under-5s.
    assert "An estimated **900** under-5s live in income-deprived families" in text
    assert (
        "Separately, not a subset of the under-5s: **2,700** children aged 0-15 in "
        "income-deprived families (IDACI)."
    ) in text
    assert "+/-10% moves the estimate to 818-1,000" in text
    # load_need's standards carry through to the headline.
    need_town.attrs["standards"] = council
    assert "20% most deprived" in workbench.need_headline(need_town).data
