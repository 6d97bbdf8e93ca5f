"""The consultation evidence section (report scenario mode)."""

import html
import re

import pytest

from planning.outputs import consultation
from planning.outputs.maps import assert_offline
from planning.analysis.scenarios import Scenario
from planning.runs.sufficiency import run_sufficiency


@pytest.fixture(scope="module")
def derby_run():
    return run_sufficiency("Derby")


def test_no_scenario_gives_nothing(derby_run):
    assert consultation.scenario_section(derby_run, None).data == ""


def test_section_reports_the_comparison(derby_run):
    scenario = Scenario("<script>alert(1)</script> closure").close("CC03")
    comparison = consultation.compare_run(derby_run, scenario)
    page = consultation.scenario_section(derby_run, scenario, tiles=None).data
    assert_offline(page)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    lost = comparison.areas_changed
    assert len(lost) > 0 and (lost["change"] == "loses reach").all()
    assert f"{lost['under5'].sum():,.0f} under-5s in {len(lost)} small area(s) lose" in text
    for code in lost.index:
        assert code in text
    before = comparison.before.figures["share_within_reach"]
    after = comparison.after.figures["share_within_reach"]
    assert f"{100 * before:.1f}%" in text and f"{100 * after:.1f}%" in text
    assert "Maps: before, after and the difference" in text
    assert page.count("<iframe") == 3


def test_pack_describes_a_move_given_in_latitude_longitude(derby_run):
    scenario = Scenario("Move Mackworth").move("CC05", latitude=52.9187, longitude=-1.5102)
    page = consultation.scenario_section(derby_run, scenario, tiles=None).data
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "move CC05 to latitude 52.919, longitude -1.5102" in text
    assert "to 0, 0" not in text


def test_capacity_for_one_centre_gives_a_pack_and_a_note(derby_run):
    """README's scenario sets one centre's capacity: the pack is built, the centre's places per
    under-5 are shown, and the 2SFCA (which needs every centre's places) is skipped with a note."""
    scenario = Scenario("Capacity").set_capacity("CC02", 120)
    comparison = consultation.compare_run(derby_run, scenario)
    page = consultation.scenario_section(derby_run, scenario, tiles=None).data
    assert "Headline figures" in page
    after = comparison.after.to_result()
    places = after.centres["places_per_catchment_under5"]
    assert places.notna().sum() == 1
    assert places["CC02"] == pytest.approx(120 / after.centres.loc["CC02", "under5"])
    assert "places_per_under5_2sfca" not in after.areas
    assert any("Capacity is known for 1 of 10 centres" in note for note in after.notes)


def test_a_changed_standard_is_said_and_areas_are_classified_by_cause(derby_run):
    """Moving a centre nearer while tightening the reach standard: an area whose distance fell
    is never listed as losing reach, and the pack says the standard changed."""
    scenario = (
        Scenario("Tighter").move("CC05", easting=430895, northing=335489).set_standard(reach_km=2.0)
    )
    comparison = consultation.compare_run(derby_run, scenario)
    changed = comparison.areas_changed
    fell = changed["distance_after_m"] < changed["distance_before_m"]
    assert fell.any()  # the case at issue exists in this scenario
    assert not (changed.loc[fell, "change"] == "loses reach").any()
    assert (changed.loc[fell & (changed["change"] != "gains reach"), "change"]
            == "outside new standard").all()
    lines = comparison.summary_lines()
    assert lines[0] == (
        "This scenario changes the standards, so before and after are measured differently: "
        "reasonable reach 2.5 km -> 2 km."
    )
    page = consultation.scenario_section(derby_run, scenario, tiles=None).data
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "reasonable reach 2.5 km -> 2 km" in text
    assert "outside the changed standard (no further from a centre)" in text
