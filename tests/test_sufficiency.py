"""Sufficiency on the strip town: five 1 km cells, under-5s 100..500, deciles 1,2,5,8,10.

Points sit at x0+500, +1500, ..., +4500 (x0 = 430,000), so a centre at the first point is
0, 1, 2, 3 and 4 km from the five areas. Every expected figure below is computed by hand.
"""

import numpy as np
import pandas as pd
import pytest

from planning import CRSError, ValidationError
from planning.standards import Standards
from planning.analysis.sufficiency import assess_sufficiency, summarise

from conftest import make_centres

X0, Y = 430_000.0, 335_500.0


def one_centre():
    return make_centres({"A": (X0 + 500, Y)}, locality=["West"])


def test_strip_town_one_centre_by_hand(strip_town):
    result = assess_sufficiency(strip_town, one_centre(), standards=Standards())
    areas = result.areas
    assert areas["distance_m"].tolist() == pytest.approx([0, 1000, 2000, 3000, 4000])
    assert areas["walk_minutes"].tolist() == pytest.approx([0, 19.5, 39, 58.5, 78])
    assert areas["within_reach"].tolist() == [True, True, True, False, False]
    a = result.authority
    assert a["under5"] == 1500
    assert a["share_within_reach"] == pytest.approx(600 / 1500)
    assert a["share_within_short"] == pytest.approx(300 / 1500)  # 1 mile: cells 0 and 1
    assert a["share_within_walk"] == pytest.approx(300 / 1500)  # 30 min: cells 0 and 1
    assert a["share_deprived_within_reach"] == pytest.approx(1.0)  # deciles 1, 2
    assert a["share_other_within_reach"] == pytest.approx(300 / 1200)
    assert a["mean_distance_m"] == pytest.approx(4_000_000 / 1500)
    assert a["centres_per_1000_under5"] == pytest.approx(1000 / 1500)
    assert result.centres.loc["A", "under5"] == 1500
    assert result.centres.loc["A", "load_status"] == "above range"
    # 40% within reach is below the 60% amber line: red, and that reason comes first.
    assert a["rag"] == "Red"
    assert a["reasons"][0] == (
        "Red: 60% of all under-5s live more than 2.5 km from a centre "
        "(green needs at least 80% within reach, amber 60%)"
    )
    assert "Amber: 1,500 under-5s per centre, above the 600-1,200 range" in a["reasons"]
    assert "Green: 100% of under-5s in the 30% most deprived areas live within 2.5 km of a centre (green needs 90%)" in a["reasons"]


def test_two_centres_tie_goes_to_first_and_loads(strip_town):
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=["West", "East"])
    result = assess_sufficiency(strip_town, centres)
    # cell 2 is 2 km from both: the first-listed centre A takes it.
    assert result.areas["centre_id"].tolist() == ["A", "A", "A", "B", "B"]
    assert result.centres["under5"].tolist() == [600, 900]
    assert result.centres["load_status"].tolist() == ["within range", "within range"]
    loc = result.localities
    assert loc.loc["West", "under5"] == 600 and loc.loc["East", "under5"] == 900
    assert loc.loc["West", "share_deprived_within_reach"] == pytest.approx(1.0)
    assert np.isnan(loc.loc["East", "share_deprived_within_reach"])  # no deprived areas in East
    assert loc.loc["East", "rag"] == "Green"
    assert result.authority["share_within_reach"] == pytest.approx(1.0)
    assert result.authority["rag"] == "Green"


def test_deprived_reach_drives_red_verdict(strip_town):
    # A single centre at the far (least deprived) end: deprived cells 0,1 are 4 and 3 km away.
    centres = make_centres({"Z": (X0 + 4500, Y)})
    result = assess_sufficiency(strip_town, centres)
    assert result.authority["share_deprived_within_reach"] == pytest.approx(0.0)
    assert result.authority["reasons"][0].startswith(
        "Red: 100% of under-5s in the 30% most deprived areas live more than 2.5 km from a centre"
    )


def test_rural_standard_applies_to_rural_areas_only(strip_town):
    town = strip_town.copy()
    town["rural"] = [False, False, False, True, False]
    standards = Standards(rural_reach_km=3.5)
    result = assess_sufficiency(town, one_centre(), standards=standards)
    assert result.areas["within_reach"].tolist() == [True, True, True, True, False]


def test_reach_never_falls_as_the_standard_loosens(derby_areas, derby_centres_file):
    from planning.inputs.centres import read_centres

    centres = read_centres(derby_centres_file)
    shares = [
        assess_sufficiency(derby_areas, centres, standards=Standards(reach_km=km)).authority[
            "share_within_reach"
        ]
        for km in (0.5, 1.0, 2.0, 2.5, 4.0, 8.0)
    ]
    assert shares == sorted(shares)
    assert shares[-1] == pytest.approx(1.0)


def test_results_aligned_and_inputs_untouched(derby_areas, derby_centres_file):
    from planning.inputs.centres import read_centres

    centres = read_centres(derby_centres_file)
    shuffled = derby_areas.sample(frac=1, random_state=3)
    before = shuffled.copy()
    result = assess_sufficiency(shuffled, centres)
    assert result.areas.index.equals(shuffled.index)
    pd.testing.assert_frame_equal(shuffled, before)
    # Every under-5 is counted once: by centre, by locality, by ward and in the total.
    total = derby_areas["under5"].sum()
    assert result.centres["under5"].sum() == total
    assert result.localities["under5"].sum() == total
    assert result.wards["under5"].sum() == total
    assert result.authority["under5"] == total == 15_795


def test_summarise_sums_counts_before_shares(strip_town):
    result = assess_sufficiency(strip_town, one_centre())
    by_ward = summarise(result.areas, by="ward_name")
    assert by_ward.loc["Ward 0", "share_within_reach"] == pytest.approx(600 / 1500)


def test_capacity_gives_two_step_fca(strip_town):
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, capacity=[60.0, 90.0])
    result = assess_sufficiency(strip_town, centres)
    assert result.areas["places_per_under5_2sfca"].tolist() == pytest.approx(
        [0.1, 0.1, 0.175, 0.075, 0.075]
    )
    assert result.centres["places_per_catchment_under5"].tolist() == pytest.approx([0.1, 0.1])


def test_partial_capacity_is_per_centre_where_known_and_no_2sfca(strip_town):
    """The 2SFCA needs every centre's places; without them it is skipped with a note, and the
    centres with a capacity still get places per catchment under-5 (A serves 100+200+300)."""
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, capacity=[60.0, None])
    result = assess_sufficiency(strip_town, centres)
    assert "places_per_under5_2sfca" not in result.areas
    places = result.centres["places_per_catchment_under5"]
    assert places["A"] == pytest.approx(0.1) and np.isnan(places["B"])
    assert any(note.startswith("Capacity is known for 1 of 2 centres") for note in result.notes)


def test_bad_centres_frames(strip_town):
    with pytest.raises(ValidationError, match="at least one centre"):
        assess_sufficiency(strip_town, one_centre().iloc[:0])
    with pytest.raises(CRSError, match="geographic"):
        assess_sufficiency(strip_town, one_centre().to_crs("EPSG:4326"))
    twice = pd.concat([one_centre(), one_centre()])
    with pytest.raises(ValidationError, match="duplicate centre id A"):
        assess_sufficiency(strip_town, twice)


def test_illustrative_centres_carry_a_note(strip_town):
    centres = make_centres({"A": (X0 + 500, Y)}, source=["illustrative"])
    result = assess_sufficiency(strip_town, centres)
    assert any("ILLUSTRATIVE" in note and "--centres FILE" in note for note in result.notes)


# -- one truth about where a centre is (issue 11, section 4) -----------------------------------


def test_assessment_computes_in_authority_with_the_boundary_inside(strip_town):
    # The strip spans x0 .. x0 + 5,000 m, y0 .. y0 + 1,000 m. C1 is inside, C2 on the outer
    # edge (inside by the one rule), C3 200 m beyond it. The frame's own column is wrong on
    # purpose (and NA for C2): the assessment works it out afresh.
    x0, y0 = 430_000.0, 335_000.0
    centres = make_centres(
        {"C1": (x0 + 500, y0 + 500), "C2": (x0 + 5_000, y0 + 500), "C3": (x0 + 5_200, y0 + 500)},
        in_authority=pd.array([False, pd.NA, True], dtype="boolean"),
    )
    result = assess_sufficiency(strip_town, centres)
    assert result.centres["in_authority"].tolist() == [True, True, False]
    assert result.authority["centres_in_authority"] == 2


def test_unknown_in_authority_is_never_counted_as_outside():
    from planning import toy_town
    from planning.analysis.sufficiency import _frame_counts, authority_figures

    # Two cells, a centre at each point: each serves one area.
    result = assess_sufficiency(
        toy_town(rows=1, columns=2),
        make_centres({"A": (430_500.0, 335_500.0), "B": (431_500.0, 335_500.0)}),
    )
    figures = authority_figures(
        _frame_counts(result.areas),
        result.centres["under5"],
        Standards(),
        centre_names=result.centres["name"],
        areas_served=np.array([1, 1]),
        in_authority=pd.Series(pd.array([True, pd.NA], dtype="boolean"), index=["A", "B"]),
    )
    # B serves an area but where it is is not known: it is not an "outside centre serving".
    assert figures["centres_in_authority"] == 1
    assert figures["centres_outside_serving"] == 0
    assert figures["centres_in_authority_unknown"] == 1


def test_areas_and_centres_in_different_crs_are_refused(strip_town):
    centres = make_centres({"C1": (430_500.0, 335_500.0)}).to_crs("EPSG:3857")
    areas = strip_town.drop(columns=["point_easting", "point_northing"])
    with pytest.raises(CRSError, match=r"areas are in EPSG:27700 but centres are in EPSG:3857.*to_crs"):
        assess_sufficiency(areas, centres)


def test_area_point_columns_that_no_longer_match_the_geometry_are_refused(strip_town):
    moved = strip_town.to_crs("EPSG:3857")
    centres = make_centres({"C1": (430_500.0, 335_500.0)}).to_crs("EPSG:3857")
    with pytest.raises(ValidationError, match="point_easting/point_northing no longer lie"):
        assess_sufficiency(moved, centres)


def test_centre_coordinate_columns_that_no_longer_match_the_geometry_are_refused(strip_town):
    from planning.analysis.distance import centre_points

    centres = make_centres({"C1": (430_500.0, 335_500.0)}, easting=[430_500.0], northing=[335_500.0])
    assert centre_points(centres).tolist() == [[430_500.0, 335_500.0]]
    with pytest.raises(ValidationError, match="easting/northing columns no longer match"):
        centre_points(centres.to_crs("EPSG:3857"))


# ------------------------------------------------- issue 11 §6: standards in force, NaN rural


COUNCIL_STANDARDS = """\
load:
  min_under5_per_centre: 500
  target_under5_per_centre: 800
  max_under5_per_centre: 1000
deprivation:
  most_deprived_deciles: [1, 2]
"""


@pytest.fixture
def council_standards(tmp_path):
    from planning.standards import load_standards

    path = tmp_path / "council.yaml"
    path.write_text(COUNCIL_STANDARDS, encoding="utf-8")
    return load_standards(path)


def test_standards_labels(council_standards):
    assert Standards().deprived_label == "30% most deprived"
    assert Standards().load_range_label == "600-1,200"
    assert Standards().load_max_label == "1,200"
    assert council_standards.deprived_label == "20% most deprived"
    assert council_standards.load_range_label == "500-1,000"
    assert council_standards.load_max_label == "1,000"
    assert Standards(most_deprived_deciles=(2, 3)).deprived_heading == "Most deprived (IMD deciles 2, 3)"


def test_verdict_reasons_quote_the_council_standards(strip_town, council_standards):
    # One centre at the west end serves all 1,500 under-5s: above 1,000 but not 1.5 x 1,000.
    result = assess_sufficiency(strip_town, one_centre(), standards=council_standards)
    reasons = result.authority["reasons"]
    assert "Amber: 1,500 under-5s per centre, above the 500-1,000 range" in reasons
    assert "Amber: Centre A serves 1,500 under-5s, above the 1,000 maximum" in reasons
    assert (
        "Green: 100% of under-5s in the 20% most deprived areas live within 2.5 km of a centre "
        "(green needs 90%)"
    ) in reasons
    text = " ".join(reasons + [r for rs in result.localities["reasons"] for r in rs])
    assert "30%" not in text and "1,200" not in text
    # No area in the deprived deciles: the reason names the council's set.
    none_deprived = strip_town.assign(imd_decile=[5, 5, 5, 8, 10])
    result = assess_sufficiency(none_deprived, one_centre(), standards=council_standards)
    assert "Green: no small area here is in the 20% most deprived nationally" in result.authority["reasons"]


def test_nan_rural_is_not_rural_and_noted(strip_town):
    town = strip_town.copy()
    town["rural"] = [False, False, False, np.nan, np.nan]
    result = assess_sufficiency(town, one_centre(), standards=Standards(rural_reach_km=4.5))
    # Cells 3 and 4 (3 and 4 km away) keep the 2.5 km urban standard, not the rural 4.5 km.
    assert result.areas["within_reach"].tolist() == [True, True, True, False, False]
    assert result.areas["reach_standard_m"].tolist() == [2500.0] * 5
    (note,) = [n for n in result.notes if "rural-urban flag" in n]
    assert note.startswith("2 small area(s) have no rural-urban flag") and "T03 and T04" in note
    assert "treated as not rural" in note


def test_result_notes_state_the_income_deprived_bound(strip_town):
    result = assess_sufficiency(strip_town, one_centre())
    # toy town: idaci 0.2 x children (3 x under-5s): rate 0.2, 300 estimated; x1.1 -> 272.7, x0.9 -> 333.3
    (note,) = [n for n in result.notes if "income-deprived" in n and "+/-10%" in n]
    assert "(300)" in note and "273-333" in note
