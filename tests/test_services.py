"""Family hubs: age ranges, the service vocabulary and service-level sufficiency (issue 14).

The toy town is one row of five 1 km squares (points at x = 500, 1500, ..., 4500 m from the
origin). A hub H1 sits on square 0 (West) with the full offer; a branch B1 on square 4 (East)
offers every universal service but child health clinics. Square c has (c + 1) children of each
single year 0-19, so 5 (c + 1) under-5s and 20 (c + 1) children aged 0-19; deciles 2, 2, 8, 8, 8.
Reach is 2.5 km, so the hub reaches squares 0-2 (0, 1, 2 km) and the branch squares 2-4.
"""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning import ValidationError
from planning.analysis.scenarios import Scenario, ScenarioEngine
from planning.analysis.services import (
    assess_services,
    compare_scenario_services,
    services_for_result,
    with_service_verdicts,
)
from planning.analysis.sufficiency import assess_sufficiency
from planning.inputs.areas import load_ages, load_areas, population_in_ages, toy_town
from planning.inputs.services import centre_services, load_vocabulary, parse_services_text
from planning.standards import AGE_PRESETS, Standards, standards_from_dict

from conftest import SHARED

X0, Y0 = 430_000.0, 335_000.0
BRANCH_OFFER = (
    "Infant feeding; parenting; early language; midwifery; birth registration; stay and play; "
    "employment support"
)


def _town() -> gpd.GeoDataFrame:
    areas = toy_town(rows=1, columns=5, imd_decile=np.array([2, 2, 8, 8, 8]))
    for age in range(20):
        areas[f"age_{age}"] = np.arange(1, 6)
    areas["under5"] = 5.0 * np.arange(1, 6)
    return areas


def _centres(branch_services: str = BRANCH_OFFER) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {
            "name": ["Hub West", "Branch East"],
            "locality": ["West", "East"],
            "kind": ["hub", "branch"],
            "services": ["family hub core offer", branch_services],
            "capacity": np.nan,
        },
        index=pd.Index(["H1", "B1"], name="centre_id"),
    )
    points = [shapely.Point(X0 + 500, Y0 + 500), shapely.Point(X0 + 4500, Y0 + 500)]
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:27700")


def _standards(**changes) -> Standards:
    return Standards().replace(**changes)


def test_locality_missing_a_universal_service_turns_amber_with_the_reason():
    result = assess_sufficiency(_town(), _centres(), standards=_standards())
    assert (result.localities["rag"] == "Green").all()  # buildings alone: all within reach
    services = services_for_result(result)
    assert services.matrix.loc["East", "child_health_clinics"] == 0
    assert services.matrix.loc["West", "child_health_clinics"] == 1
    combined = with_service_verdicts(result, services)
    assert combined.localities.loc["East", "rag"] == "Amber"
    assert combined.localities.loc["East", "reasons"][0] == (
        "Amber: no site in East offers child health clinics"
    )
    assert combined.localities.loc["West", "rag"] == "Green"
    assert "Amber: no site in East offers child health clinics" in combined.authority["reasons"]
    # the input result is not changed
    assert (result.localities["rag"] == "Green").all()


def test_switching_the_service_on_at_the_branch_fixes_it():
    centres = _centres(BRANCH_OFFER + "; child health clinic")
    result = assess_sufficiency(_town(), centres, standards=_standards())
    services = services_for_result(result)
    combined = with_service_verdicts(result, services)
    assert combined.localities.loc["East", "rag"] == "Green"
    assert not any("child health" in r for r in combined.localities.loc["East", "reasons"])
    # reach of child health clinics: hub reaches squares 0-2, the branch 2-4: everyone
    assert services.reach.loc["child_health_clinics", "share_within_reach"] == 1.0


def test_hub_access_differs_from_any_site_access_exactly():
    standards = _standards(population_ages=(0, 19))
    services = assess_services(_town(), _centres(), standards=standards)
    reach = services.reach
    # children aged 0-19: 20, 40, 60, 80, 100 = 300; the hub reaches 20 + 40 + 60 = 120
    assert reach.loc["any_site", "children"] == 300
    assert reach.loc["any_site", "share_within_reach"] == 1.0
    assert reach.loc["hub", "children_within_reach"] == 120
    assert reach.loc["hub", "share_within_reach"] == pytest.approx(120 / 300)
    # the deprived squares (0, 1) are both near the hub; 70-100% band: 60 of 240
    assert reach.loc["hub", "share_deprived_within_reach"] == 1.0
    assert reach.loc["hub", "share_within_reach_70-100%"] == pytest.approx(60 / 240)
    # child health clinics only at the hub: the same as hub access
    assert reach.loc["child_health_clinics", "share_within_reach"] == pytest.approx(0.4)
    # under-5s alongside: 5 + 10 + 15 of 75
    assert reach.loc["hub", "under5_share_within_reach"] == pytest.approx(30 / 75)
    # distance to the nearest hub from square 4 is 4 km; child-weighted mean to the hub
    assert services.distances.loc["T04", "hub"] == pytest.approx(4000)
    expected_mean = (20 * 0 + 40 * 1 + 60 * 2 + 80 * 3 + 100 * 4) / 300
    assert reach.loc["hub", "mean_distance_km"] == pytest.approx(expected_mean)
    # by locality (of the nearest centre: squares 0-2 West, 3-4 East; square 2 is 2 km from
    # both, the first listed wins): the hub reaches West's 120 children, none of East's 180
    result = assess_sufficiency(_town(), _centres(), standards=standards)
    by_locality = services_for_result(result).locality_reach
    assert by_locality.loc["West", "hub"] == 1.0 and by_locality.loc["East", "hub"] == 0.0
    assert by_locality.loc["East", "any_site"] == 1.0
    # the branch is linked to the nearest hub, 4 km away: within 5 km, flagged beyond 3 km
    link = services.hub_links.loc["B1"]
    assert (link["hub"], link["linked_by"]) == ("H1", "nearest hub")
    assert link["distance_km"] == pytest.approx(4.0) and not link["too_far"]
    strict = assess_services(_town(), _centres(), standards=_standards(hub_branch_max_km=3.0))
    assert strict.hub_links.loc["B1", "too_far"]
    assert any("lies 4.0 km from its hub Hub West" in r for r in strict.reasons)


def test_family_hubs_preset_changes_figures_and_labels():
    assert standards_from_dict({"population": {"ages": "family_hubs"}}).population_ages == (0, 19)
    under5 = assess_services(_town(), _centres(), standards=_standards())
    hubs = assess_services(
        _town(), _centres(), standards=_standards(population_ages=AGE_PRESETS["family_hubs"])
    )
    assert under5.reach.loc["any_site", "children"] == 75
    assert hubs.reach.loc["any_site", "children"] == 300
    assert (under5.ages_label, hubs.ages_label) == ("under-5s", "children aged 0-19")
    assert (under5.population_column, hubs.population_column) == ("children_0_4", "children_0_19")
    assert any("children aged 0-19 live within" in r for r in hubs.reasons)
    assert any("under-5s live within" in r for r in under5.reasons)
    assert any("defined for under-5s" in n for n in hubs.notes)
    assert not any("defined for under-5s" in n for n in under5.notes)
    derby = _standards(population_ages=AGE_PRESETS["derby_under8s"])
    assert assess_services(_town(), _centres(), standards=derby).ages_label == (
        "children aged 0-7"
    )


def test_services_action_changes_the_service_figures_and_closing_the_hub_loses_services():
    result = assess_sufficiency(_town(), _centres(), standards=_standards())
    engine = ScenarioEngine.from_result(result, area_candidates=False)
    switch_on = engine.compare(
        Scenario().set_services("B1", services=BRANCH_OFFER + "; child health clinics")
    )
    table, lines = compare_scenario_services(switch_on)
    row = table.loc["child_health_clinics"]
    assert (row["share_within_reach_before"], row["share_within_reach_after"]) == (0.4, 1.0)
    assert row["localities_gaining"] == "East"
    assert any("child health clinics: 40.0% -> 100.0%" in line for line in lines)
    closing = engine.compare(Scenario().close("H1"))
    table, lines = compare_scenario_services(closing)
    assert table.loc["child_health_clinics", "localities_losing"] == "West"
    assert table.loc["send_support", "localities_losing"] == "West"
    assert table.loc["infant_feeding_support", "localities_losing"] == "West"
    assert table.loc["hub", "share_within_reach_after"] == 0.0
    assert any(line.startswith("West would lose child health clinics") for line in lines)


def test_messy_services_text_parses():
    vocabulary = load_vocabulary()
    keys, unknown = parse_services_text("Child health clinic; infant-feeding, SEND", vocabulary)
    assert keys == ["infant_feeding_support", "child_health_clinics", "send_support"]
    assert unknown == []
    keys, _ = parse_services_text("  BABY CLINICS | Stay & Play / domestic-abuse.", vocabulary)
    assert keys == ["child_health_clinics", "early_years_learning", "domestic_abuse_support"]


def test_typo_gets_did_you_mean_naming_the_row_unless_declared():
    centres = _centres().assign(services=["family hub core offer", "Child helth clinic; toy library"])
    with pytest.raises(ValidationError) as caught:
        centre_services(centres, load_vocabulary(), source="centres.csv")
    message = str(caught.value)
    assert "centre B1 (Branch East): service 'Child helth clinic'" in message
    assert "did you mean 'child health clinics'?" in message
    assert "service 'toy library'" in message and "services.declared" in message
    declared = standards_from_dict(
        {"services": {"declared": {"toy library": {"definition": "toy loans"}}}}
    )
    ok = centres.assign(services=["family hub core offer", "child health clinic; Toy Library"])
    offers, origin = centre_services(ok, load_vocabulary(standards=declared))
    assert offers.loc["B1", "toy_library"] and offers.loc["B1", "child_health_clinics"]
    assert (origin == "file").all()


def test_blank_services_get_illustrative_defaults_by_kind():
    vocabulary = load_vocabulary()
    offers, origin = centre_services(_centres().assign(services=["", ""]), vocabulary)
    assert offers.loc["H1"].all()
    assert list(offers.columns[offers.loc["B1"]]) == list(vocabulary.branch_default)
    assert (origin == "illustrative default").all()


def test_unknown_age_preset_is_refused_with_did_you_mean():
    with pytest.raises(ValidationError, match="did you mean 'family_hubs'"):
        standards_from_dict({"population": {"ages": "family_hub"}})
    with pytest.raises(ValidationError, match="0 <= from <= to <= 19"):
        standards_from_dict({"population": {"ages": [0, 25]}})


@pytest.mark.skipif(not (SHARED / "england").is_dir(), reason="shared source data not present")
def test_ages_0_19_totals_equal_the_source_for_england_and_derby():
    source = pd.read_csv(SHARED / "england" / "population_mid2020_lsoa11_single_year.csv.gz")
    source = source[source["lsoa11_code"].str.startswith("E")]
    ages = load_ages()
    columns = [str(a) for a in range(20)]
    for age in range(20):
        assert int(ages[f"age_{age}"].sum()) == int(source[str(age)].round().sum())
    assert int(ages.to_numpy().sum()) == int(source[columns].round().to_numpy().sum())
    derby = load_areas("Derby")
    # Derby's LSOA 2011 codes are the source areas within it (2 split, none crossing out)
    lookup = pd.read_csv(SHARED / "england" / "lookup_lsoa11_lsoa21_ltla22.csv.gz")
    codes11 = lookup.loc[lookup["lsoa21_code"].isin(derby.index), "lsoa11_code"].unique()
    derby_source = source[source["lsoa11_code"].isin(codes11)]
    assert population_in_ages(derby, (0, 19)).sum() == derby_source[columns].round().sum().sum()
    # the single years 0-4 are the main file's, so 0-4 is the under-5s
    assert population_in_ages(derby.drop(columns="under5"), (0, 4)).sum() == 15_795
    joined = load_ages(derby.index)
    assert (joined[[f"age_{a}" for a in range(5)]] == derby[[f"age_{a}" for a in range(5)]]).all().all()


def test_cli_family_hubs_example_reports_ages_reach_and_matrix(tmp_path, monkeypatch, capsys):
    from planning.apps.cli import main

    monkeypatch.chdir(tmp_path)  # no family_hubs.yaml here: the shipped example is used
    assert main(["sufficiency", "--authority", "Derby", "--standards", "family_hubs.yaml",
                 "--out", str(tmp_path / "out")]) == 0
    stdout = capsys.readouterr().out
    assert "Services (children aged 0-19;" in stdout
    assert "ILLUSTRATIVE default offer" in stdout
    out = tmp_path / "out"
    reach = pd.read_csv(out / "services.csv", index_col="target")
    assert (reach["ages"] == "children aged 0-19").all()
    assert reach.loc["any_site", "children_0_19"] == load_ages(load_areas("Derby").index).sum().sum()
    assert {"hub", "child_health_clinics", "youth_services"} <= set(reach.index)
    matrix = pd.read_csv(out / "services_matrix.csv", index_col="locality")
    assert set(matrix.index) == {"East", "South", "West"}
    assert "child health clinics" in matrix.columns
    assert set(matrix.to_numpy().ravel()) <= {"offered", "missing"}
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["services"]["ages_label"] == "children aged 0-19"
    assert summary["standards"]["population_ages"] == [0, 19]
    assert summary["inputs"]["standards_file"] == "planning/examples/family_hubs.yaml"
    # and a copy to edit
    assert main(["standards", "--example", "family_hubs", "--write", "mine.yaml"]) == 0
    assert "ages: family_hubs" in (tmp_path / "mine.yaml").read_text()


def test_cli_scenario_writes_the_service_comparison(tmp_path, monkeypatch, capsys):
    from planning.apps.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(
        "name: youth club at a branch\nactions:\n"
        "  - services: {id: CC01, services: 'infant feeding; parenting; youth club'}\n"
    )
    assert main(["scenario", "--authority", "Derby", "--standards", "family_hubs.yaml",
                 "--scenario", "s.yaml", "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "services_comparison.csv", index_col="target")
    assert table.loc["youth_services", "sites_before"] + 1 == table.loc["youth_services", "sites_after"]
    # CC01 gives up the illustrative branch offer's child health clinics
    assert table.loc["child_health_clinics", "sites_after"] == table.loc[
        "child_health_clinics", "sites_before"] - 1
    assert "Children aged 0-19 within reach of" in capsys.readouterr().out


def test_report_section_colours_the_matrix_and_charts_reach_per_service():
    from planning.outputs.services_report import matrix_table, reach_chart

    services = assess_services(
        _town(), _centres(), standards=_standards(population_ages=(0, 19))
    )
    html = str(matrix_table(services))
    # East lacks child health clinics (universal): an amber "missing" cell; West offers it
    row = html.split("child health clinics</th>")[1].split("</tr>")[0]
    assert row.count("rag-Amber") == 1 and ">missing<" in row and "rag-Green" in row
    chart = str(reach_chart(services, reach_label="2.5 km"))
    assert "Share of children aged 0-19 within 2.5 km" in chart
    assert "child health clinics: 40%" in chart and "any site: 100%" in chart


def test_report_section_is_empty_without_services_and_labelled_with_them():
    from planning.outputs.services_report import services_section
    from planning.runs.sufficiency import run_sufficiency
    from planning.standards import example_standards_path

    assert services_section(run_sufficiency("Derby")).data == ""
    html = services_section(
        run_sufficiency("Derby", standards=example_standards_path("family_hubs"))
    ).data
    assert "<h2>Services: children aged 0-19</h2>" in html and "ILLUSTRATIVE" in html


def test_branch_linked_to_the_hub_the_file_names(tmp_path):
    from planning.inputs.centres import read_centres

    path = tmp_path / "centres.csv"
    path.write_text(
        "centre_id,name,easting,northing,kind,locality,services,hub\n"
        "H1,Hub West,430500,335500,hub,West,family hub core offer,\n"
        "H2,Hub Middle,432500,335500,hub,Middle,family hub core offer,\n"
        "B1,Branch East,434500,335500,branch,East,child health clinics,Hub West\n"
    )
    centres = read_centres(path)
    services = assess_services(_town(), centres, standards=_standards())
    link = services.hub_links.loc["B1"]
    # the file's hub (4 km away), not the nearest (H2, 2 km)
    assert (link["hub"], link["linked_by"], link["distance_km"]) == ("H1", "file", 4.0)
    nearest = assess_services(_town(), centres.drop(columns="hub"), standards=_standards())
    assert nearest.hub_links.loc["B1", "hub"] == "H2"


def test_place_service_chooses_the_branch_that_covers_most_children():
    from planning.analysis.service_placement import place_service

    # the hub (x = 0.5 km) offers child health clinics; branches B2 at 1.5 km and B1 at 4.5 km
    # do not. Not yet within reach: squares 3 and 4 (80 + 100 children aged 0-19). B1 would
    # reach both (1 and 0 km); B2 only square 3 (2 km; square 4 is 3 km away).
    centres = pd.concat([_centres(), _centres().iloc[[1]].rename(index={"B1": "B2"})])
    centres.loc["B2", "geometry"] = shapely.Point(X0 + 1500, Y0 + 500)
    centres.loc["B2", "name"] = "Branch Middle"
    standards = _standards(population_ages=(0, 19))
    one = place_service(_town(), centres, service="baby clinic", p=1, standards=standards)
    assert one.service == "child_health_clinics"
    assert one.chosen == ["B1"]
    assert (one.covered_before, one.covered_after, one.children) == (120, 300, 300)
    assert "40.0% -> 100.0%" in one.lines()[1]
    with pytest.raises(ValidationError, match="did you mean"):
        place_service(_town(), centres, service="baby clinc", p=1, standards=standards)


def test_cli_optimise_service_places_it(tmp_path, monkeypatch, capsys):
    import json

    from planning.apps.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["optimise", "--authority", "Derby", "--standards", "family_hubs.yaml",
                 "--service", "birth registration", "--p", "2", "--out", "out"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["service"] == "birth_registration" and len(summary["chosen"]) == 2
    assert summary["covered_after"] > summary["covered_before"]
    assert "within reach of birth registration" in capsys.readouterr().out


def test_dashboard_shows_reach_to_any_centre_a_hub_or_a_service():
    from planning.apps.dashboard.model import Dashboard
    from planning.apps.dashboard.services import ServiceReachControl

    board = Dashboard(_town(), _centres(), standards=_standards(population_ages=(0, 19)))
    control = ServiceReachControl(board)
    labels = [label for label, _ in control.dropdown.options]
    assert labels[:3] == ["any centre", "a hub (the full offer)", "infant feeding support"]
    assert control.lines("any_site")[0].startswith("100% of children aged 0-19 live within")
    control.dropdown.value = "child_health_clinics"
    assert "Reach to child health clinics (children aged 0-19)" in control.output.value
    assert "40% of children aged 0-19" in control.output.value
    assert "Offered at no site in: East" in control.output.value
    board.set_open("H1", False)  # close the hub: nobody is within reach of a clinic
    control.refresh()
    assert "0% of children aged 0-19" in control.output.value
