"""Scenarios: hand-checked toy, invariants, cross-check of the engine, and bad scenario files."""

import numpy as np
import pandas as pd
import pytest

from planning import ValidationError
from planning.standards import Standards
from planning.inputs.centres import read_centres
from planning.analysis.scenarios import (
    Scenario,
    ScenarioEngine,
    load_scenario,
    table_to_centres,
)
from planning.analysis.sufficiency import assess_sufficiency

from conftest import make_centres

X0, Y = 430_000.0, 335_500.0


@pytest.fixture
def strip_engine(strip_town):
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=["West", "East"])
    return ScenarioEngine(strip_town, centres)


@pytest.fixture(scope="module")
def derby_engine(derby_areas, derby_centres_file):
    return ScenarioEngine(derby_areas, read_centres(derby_centres_file, areas=derby_areas))


def test_close_by_hand(strip_engine):
    # Closing B leaves A serving all five cells at 0..4 km: 600 of 1,500 within 2.5 km.
    comparison = strip_engine.compare(Scenario("close B").close("B"))
    after = comparison.after.figures
    assert after["share_within_reach"] == pytest.approx(600 / 1500)
    assert comparison.after.centres["under5"].to_dict() == {"A": 1500}
    changed = comparison.areas_changed
    assert changed.index.tolist() == ["T04", "T03"]  # largest first
    assert (changed["change"] == "loses reach").all()
    assert changed["under5"].sum() == 900
    assert comparison.headline.loc["Under-5s within reach", "change"] == -900
    assert comparison.loads.loc["B", "status_after"] == "closed"
    assert comparison.localities.loc["East", "rag_after"] == "closed"
    assert comparison.summary_lines()[0].startswith("900 under-5s in 2 small area(s) lose")


def test_open_by_hand_joins_nearest_locality(strip_town):
    engine = ScenarioEngine(strip_town, make_centres({"A": (X0 + 500, Y)}, locality=["West"]))
    evaluation = engine.evaluate(Scenario().open("N", easting=X0 + 3500, northing=Y))
    # N at cell 3 is 1, 0 and 1 km from cells 2, 3, 4; A is 2 km from cell 2, so N takes it.
    assert evaluation.areas["centre_id"].tolist() == ["A", "A", "N", "N", "N"]
    assert evaluation.areas["distance_m"].tolist() == pytest.approx([0, 1000, 1000, 0, 1000])
    assert evaluation.centres.loc["N", "locality"] == "West"
    assert evaluation.figures["share_within_reach"] == pytest.approx(1.0)


def test_noop_reproduces_baseline_exactly(derby_engine, derby_areas, derby_centres_file):
    comparison = derby_engine.compare(Scenario())
    assert comparison.is_noop
    direct = assess_sufficiency(derby_areas, read_centres(derby_centres_file, areas=derby_areas))
    for key, value in direct.authority.items():
        if key in comparison.after.figures:
            assert comparison.after.figures[key] == value, key
    pd.testing.assert_series_equal(
        comparison.after.localities["rag"], direct.localities["rag"], check_names=False
    )


def test_close_and_reopen_is_a_noop(derby_engine):
    current = derby_engine.current.loc["CC03"]
    scenario = Scenario().close("CC03").open(
        "CC03", easting=current["easting"], northing=current["northing"],
        name=current["name"], locality=current["locality"], kind=current["kind"],
    )
    after = derby_engine.evaluate(scenario)
    assert after.figures == derby_engine.baseline.figures
    assert after.areas.equals(derby_engine.baseline.areas)


@pytest.mark.parametrize("seed", range(4))
def test_engine_matches_assess_sufficiency(derby_engine, derby_areas, seed):
    """Independent path: build the scenario's centres and run the full assessment."""
    rng = np.random.default_rng(seed)
    scenario = Scenario(f"random {seed}")
    for cid in rng.choice(derby_engine.current.index, size=2, replace=False):
        scenario = scenario.close(cid)
    for k in range(2):
        x, y = derby_engine.area_xy[rng.integers(len(derby_engine.area_xy))]
        scenario = scenario.open(f"N{k}", easting=x + rng.normal(0, 300), northing=y)
    scenario = scenario.set_standard(reach_km=float(rng.choice([1.5, 2.0, 2.5])))
    evaluation = derby_engine.evaluate(scenario)
    direct = assess_sufficiency(
        derby_areas, table_to_centres(evaluation.centres[["name", "locality", "kind", "in_authority",
                                                          "easting", "northing"]]),
        standards=evaluation.standards,
    )
    for key in ["share_within_reach", "share_deprived_within_reach", "share_within_short",
                "under5_per_centre", "centres", "mean_distance_m", "rag", "reasons"]:
        assert evaluation.figures[key] == pytest.approx(direct.authority[key]), key
    assert (evaluation.areas["centre_id"] == direct.areas["centre_id"]).all()
    pd.testing.assert_series_equal(
        evaluation.localities["rag"], direct.localities["rag"], check_names=False
    )
    assert evaluation.to_result().authority["share_within_reach"] == pytest.approx(
        direct.authority["share_within_reach"]
    )


def test_standard_change_matches_new_standards(derby_engine, derby_areas, derby_centres_file):
    evaluation = derby_engine.evaluate(Scenario().set_standard(reach_km=1.0))
    direct = assess_sufficiency(
        derby_areas, read_centres(derby_centres_file, areas=derby_areas),
        standards=Standards(reach_km=1.0),
    )
    assert evaluation.figures["share_within_reach"] == pytest.approx(direct.authority["share_within_reach"])
    assert evaluation.figures["share_within_reach"] < derby_engine.baseline.figures["share_within_reach"]


def test_opening_never_lowers_reach(derby_engine):
    base = derby_engine.baseline.figures["share_within_reach"]
    for position in range(0, len(derby_engine.area_xy), 15):
        x, y = derby_engine.area_xy[position]
        after = derby_engine.evaluate(Scenario().open("N", easting=x, northing=y)).figures
        assert after["share_within_reach"] >= base


def test_yaml_scenario(tmp_path, derby_engine):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: Close Spondon\nactions:\n  - close: CC03\n"
        "  - open: {id: NEW1, name: Derwent, postcode: DE21 4ET, kind: branch}\n"
        "  - capacity: {id: CC02, capacity: 120}\n  - standard: {reach_km: 2.0}\n"
    )
    scenario = load_scenario(path)
    assert scenario.name == "Close Spondon" and len(scenario.actions) == 4
    evaluation = derby_engine.evaluate(scenario)
    assert "CC03" not in evaluation.centres.index and "NEW1" in evaluation.centres.index
    assert evaluation.centres.loc["CC02", "capacity"] == 120
    assert evaluation.standards.reach_km == 2.0


@pytest.mark.parametrize(
    "body, message",
    [
        ("actions:\n  - close: CC99\n", "action 1 (close): unknown centre id 'CC99'; the centres are CC01"),
        ("actions:\n  - open: {id: N, easting: abc, northing: 1}\n", "'easting' must be a number, found 'abc'"),
        ("actions:\n  - open: {id: N, latitude: -1.5, longitude: 52.9}\n", "look swapped"),
        ("actions:\n  - close: CC03\n  - move: {id: CC03, postcode: DE1 1AA}\n",
         "action 2 (move): centre CC03 was closed by an earlier action"),
        ("actions:\n  - close: CC03\n  - close: CC03\n", "centre CC03 was closed by an earlier action"),
        ("actions:\n  - open: {id: CC02, postcode: DE1 1AA}\n", "centre id CC02 is already open"),
        ("actions:\n  - demolish: CC03\n", "unknown action 'demolish'; valid actions: close, open"),
        ("actions:\n  - open: {id: N, postcode: DE99 9QQ}\n", "postcode 'DE99 9QQ' is not in the ONS"),
        ("actions:\n  - open: {id: N}\n", "no location"),
        ("actions:\n  - standard: {reach_miles: 2}\n", "unknown standard 'reach_miles'; did you mean 'reach_km'?"),
        ("actions:\n  - standard: {reach_km: -2}\n", "must be greater than 0"),
        ("actions:\n  - standard: {reach_km: .nan}\n", "'reach.distance_km' is .nan"),
        # At sea, about 2.87 degrees of latitude (319 km) south of Derby's southern edge.
        ("actions:\n  - open: {id: N, latitude: 50.0, longitude: -1.0}\n",
         "action 1 (open N): the site at latitude 50, longitude -1 is 320 km"),
        ("actions:\n  - capacity: {id: CC01, capacity: -5}\n", "capacity must be 0 or more"),
    ],
)
def test_bad_scenarios_are_named(tmp_path, derby_engine, body, message):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\n" + body)
    with pytest.raises(ValidationError) as info:
        derby_engine.evaluate(load_scenario(path))
    assert message in str(info.value)


def test_closing_everything_is_refused(strip_engine):
    with pytest.raises(ValidationError, match="closes every centre"):
        strip_engine.evaluate(Scenario().close("A").close("B"))


@pytest.mark.parametrize(
    "action, expected",
    [
        (Scenario().move("CC05", latitude=52.9187, longitude=-1.4702),
         "move CC05 to latitude 52.919, longitude -1.4702"),
        (Scenario().move("CC05", easting=432100, northing=335200),
         "move CC05 to easting 432100, northing 335200"),
        (Scenario().move("CC05", postcode="DE23 6WY"), "move CC05 to DE23 6WY"),
        (Scenario().open("N1", name="Hall", latitude=52.9, longitude=-1.5),
         "open N1 (Hall) at latitude 52.9, longitude -1.5"),
    ],
)
def test_describe_says_where_in_the_form_given(action, expected):
    """A move given in latitude/longitude used to read "move CC05 to 0, 0"."""
    assert action.describe() == [expected]


def test_site_opened_or_moved_onto_the_boundary_is_in_the_authority():
    # The one point-in-polygon rule: the union of the areas covers its boundary. A site opened
    # on the strip's outer edge (x0 + 5,000 m) is in the authority; one moved 300 m beyond is not.
    from planning import toy_town
    from planning.analysis.scenarios import Scenario, ScenarioEngine

    areas = toy_town(rows=1, columns=5)
    x0, y0 = 430_000.0, 335_000.0
    engine = ScenarioEngine(areas, make_centres({"C1": (x0 + 500, y0 + 500)}))
    scenario = (
        Scenario("edge")
        .open("EDGE", easting=x0 + 5_000, northing=y0 + 500, name="On the edge")
        .move("C1", easting=x0 - 300, northing=y0 + 500)
    )
    after = engine.evaluate(scenario).centres
    assert after["in_authority"].tolist() == [False, True]
    assert after.index.tolist() == ["C1", "EDGE"]
    assert engine.evaluate(scenario).to_result().centres["in_authority"].tolist() == [False, True]


def test_engine_refuses_areas_and_centres_in_different_crs():
    from planning import CRSError, toy_town
    from planning.analysis.scenarios import ScenarioEngine

    areas = toy_town(rows=1, columns=2).drop(columns=["point_easting", "point_northing"])
    centres = make_centres({"C1": (430_500.0, 335_500.0)}).to_crs("EPSG:3857")
    with pytest.raises(CRSError, match="EPSG:27700 but centres are in EPSG:3857"):
        ScenarioEngine(areas, centres)


# ------------------------------------------------- issue 11 §6: labels from the standards in force

COUNCIL_STANDARDS = {
    "load": {
        "min_under5_per_centre": 500,
        "target_under5_per_centre": 800,
        "max_under5_per_centre": 1000,
    },
    "deprivation": {"most_deprived_deciles": [1, 2]},
}


def test_summary_and_headlines_word_the_council_standards(strip_town):
    from planning.analysis.scenarios import HEADLINES
    from planning.outputs import consultation
    from planning.standards import standards_from_dict

    council = standards_from_dict(COUNCIL_STANDARDS, source="council.yaml")
    centres = make_centres({"A": (X0 + 500, Y), "B": (X0 + 4500, Y)}, locality=["West", "East"])
    comparison = ScenarioEngine(strip_town, centres, standards=council).compare(
        Scenario("close B").close("B")
    )
    lines = comparison.summary_lines()
    # Cells 3 and 4 (deciles 8 and 10) lose reach: none of their under-5s is in deciles 1-2; of
    # their 900 under-5s an estimated 0.2 x 900 = 180 are in income-deprived families (never the
    # 540 children aged 0-15, who are not a subset of them).
    assert lines[0] == (
        "900 under-5s in 2 small area(s) lose reasonable reach (0 of them in the 20% most "
        "deprived areas; an estimated 180 of them in income-deprived families)."
    )
    assert "Share of under-5s in the 20% most deprived areas within reach: 100% -> 100%." in lines
    labels = comparison.headline.index.tolist()
    assert "Share in the 20% most deprived areas within reach" in labels
    assert "Centres above 1,000 under-5s" in labels
    assert not any("30%" in label or "1,200" in label for label in labels)
    table = consultation.headline_table(comparison)
    assert "Centres above 1,000 under-5s" in table and "20% most deprived" in table
    assert "30%" not in table and "1,200" not in table
    # The default wording is unchanged.
    assert HEADLINES["centres_above_load_range"][0] == "Centres above 1,200 under-5s"


def test_changes_word_the_current_standards(strip_town):
    from planning.outputs.changes import compare_figures

    figures = {"share_deprived_within_reach": 0.5}
    before = {"figures": figures, "standards": {"most_deprived_deciles": [1, 2]}}
    after = {"figures": {"share_deprived_within_reach": 0.75}, "standards": before["standards"]}
    items = compare_figures(before, after)["item"].tolist()
    assert "Under-5s in the 20% most deprived areas within reach" in items


# -- the headline path (issue 15): arrays only, the same figures as the full evaluation ----------


def _same_headline(engine, scenario):
    headline = engine.headline(scenario)
    full = engine.evaluate(scenario)
    figures = full.figures
    for key in (
        "share_within_reach",
        "share_deprived_within_reach",
        "share_other_within_reach",
        "under5",
        "under5_within_reach",
        "deprived_under5",
        "deprived_under5_within_reach",
        "under5_income_deprived",
        "centre_equivalents",
        "under5_per_centre",
    ):
        assert getattr(headline, key) == pytest.approx(figures[key], nan_ok=True), key
    assert headline.rag == figures["rag"] and headline.reasons == figures["reasons"]
    np.testing.assert_allclose(
        headline.band_share_within_reach, full.bands["share_within_reach"].to_numpy(float)
    )
    assert headline.centre_ids.tolist() == full.centres.index.tolist()
    np.testing.assert_allclose(headline.centre_under5, full.centres["under5"].to_numpy(float))
    np.testing.assert_allclose(
        headline.centre_under5_residents, full.centres["under5_residents"].to_numpy(float)
    )
    assert headline.standards == full.standards
    return headline


HEADLINE_SCENARIOS = [
    Scenario(),
    Scenario().close("CC03"),
    Scenario().close("CC01").close("CC02").close("CC03").close("CC04").close("CC05"),
    Scenario().close("CC03").open("N1", easting=436_000, northing=336_500, name="Derwent"),
    Scenario().open("N1", postcode="DE21 4ET").close("N1").open("N1", easting=433_000, northing=334_000),
    Scenario().move("CC05", easting=432_100, northing=335_200).set_capacity("CC02", 120),
    Scenario().set_services("CC02", kind="hub").set_standard(reach_km=1.0, load_max=900),
    Scenario().set_standard(reach_km=1.2).set_standard(reach_km=3.0),
    # Fallback path: re-opening a closed id is left to apply_scenario.
    Scenario().close("CC04").open("CC04", easting=434_000, northing=337_000),
]


@pytest.mark.parametrize("scenario", HEADLINE_SCENARIOS, ids=lambda s: "; ".join(s.describe()))
def test_headline_equals_the_full_evaluation(derby_engine, scenario):
    _same_headline(derby_engine, scenario)
    # All but the last are applied to arrays, without apply_scenario's tables.
    arrays = derby_engine._apply_to_arrays(scenario)
    assert (arrays is None) == (scenario is HEADLINE_SCENARIOS[-1])


def test_headline_equals_the_full_evaluation_across_the_boundary():
    # Derby with its neighbours' areas and centres (the default cross-boundary run): loads
    # include other authorities' families and the reasons mention the boundary.
    from planning.runs.sufficiency import run_sufficiency

    engine = ScenarioEngine.from_result(run_sufficiency().result)
    own = engine.current.index[~engine.current["neighbour"].to_numpy(bool)]
    for scenario in (Scenario(), Scenario().close(own[0]).close(own[3]), Scenario().close(own[5])):
        headline = _same_headline(engine, scenario)
    assert any(reason.startswith("Across the boundary") for reason in headline.reasons)


@pytest.mark.parametrize(
    "scenario, message",
    [
        (Scenario().close("CC99"), "unknown centre id 'CC99'"),
        (Scenario().close("CC03").close("CC03"), "was closed by an earlier action"),
        (Scenario().open("N", easting=300_000, northing=335_000), "choose a site within 10 km"),
        (Scenario().set_capacity("CC02", -1), "capacity must be 0 or more"),
    ],
)
def test_headline_refuses_what_evaluate_refuses(derby_engine, scenario, message):
    with pytest.raises(ValidationError, match=message) as full:
        derby_engine.evaluate(scenario)
    with pytest.raises(ValidationError) as fast:
        derby_engine.headline(scenario)
    assert str(fast.value) == str(full.value)


def test_engine_holds_no_area_by_area_matrix_unless_asked(derby_areas, derby_centres_file):
    centres = read_centres(derby_centres_file, areas=derby_areas)
    engine = ScenarioEngine(derby_areas, centres)
    assert engine.distance.shape == (len(derby_areas), len(centres))
    with_areas = ScenarioEngine(derby_areas, centres, area_candidates=True)
    assert with_areas.distance.shape == (len(derby_areas), len(centres) + len(derby_areas))


def test_new_sites_grow_the_matrix_without_copying_it_each_time(derby_areas, derby_centres_file):
    engine = ScenarioEngine(derby_areas, read_centres(derby_centres_file, areas=derby_areas))
    before = engine.distance
    engine.column(433_000.0, 336_000.0)
    assert np.shares_memory(before, engine.distance)  # room was left: no copy
    rng = np.random.default_rng(3)
    points = rng.uniform([425_000, 330_000], [440_000, 342_000], size=(200, 2))
    columns = [engine.column(x, y) for x, y in points]
    xy = engine.area_xy
    expected = np.hypot(xy[:, 0, None] - points[None, :, 0], xy[:, 1, None] - points[None, :, 1])
    np.testing.assert_array_equal(engine.distance[:, columns], expected)
    np.testing.assert_array_equal(engine.site_xy[columns], points)


def test_headline_updates_nearest_centres_exactly_on_ties(derby_engine):
    # A site opened exactly on CC02 ties with it for every area: CC02, listed first, keeps them.
    # CC01 moved onto CC02 ties too, and being listed first takes CC02's areas. Both must match
    # the full evaluation, which recomputes every area's nearest centre from scratch.
    x, y = derby_engine.current.loc["CC02", ["easting", "northing"]]
    twin = _same_headline(derby_engine, Scenario().open("TWIN", easting=x, northing=y))
    assert twin.centre_under5[twin.centre_ids.tolist().index("TWIN")] == 0
    moved = _same_headline(derby_engine, Scenario().move("CC01", easting=x, northing=y))
    assert moved.centre_under5[moved.centre_ids.tolist().index("CC02")] == 0


def test_full_tables_equal_a_fresh_run_on_the_changed_centres(tmp_path):
    """Every table of the full evaluation (built from arrays) against an independent run:
    the council's centres after the scenario written as a centres file, and
    ``run_sufficiency`` on it with the scenario's standards (cross-boundary, as by default)."""
    from planning.inputs.centres import write_centres
    from planning.runs.sufficiency import run_sufficiency

    engine = ScenarioEngine.from_result(run_sufficiency().result)
    own = engine.current.index[~engine.current["neighbour"].to_numpy(bool)]
    (x1, y1), (x2, y2) = engine.area_xy[[20, 75]]
    scenario = (
        Scenario("mix")
        .close(own[2])
        .open("N1", easting=x1 + 40.0, northing=y1, name="Derwent", kind="hub", capacity=80)
        .move(own[4], easting=x2, northing=y2 - 60.0)
        .set_capacity(own[0], 120)
        .set_services(own[1], kind="hub", services="family hub core offer; midwifery")
        .open("N2", easting=x2 + 900.0, northing=y2 + 700.0, locality="Riverside")
        .close("N2")
        .set_standard(reach_km=2.0)
    )
    evaluation = engine.evaluate(scenario)
    table = evaluation._table
    council = table_to_centres(table[~table["neighbour"].to_numpy(bool)], engine.crs)
    path = write_centres(council, tmp_path / "after.csv")
    fresh = run_sufficiency(centres=path, standards=evaluation.standards).result

    for key, value in evaluation.figures.items():
        assert value == pytest.approx(fresh.authority[key], nan_ok=True), key
    areas = fresh.areas[evaluation.areas.columns]
    pd.testing.assert_frame_equal(evaluation.areas, areas, check_names=False)
    centres = fresh.centres.loc[evaluation.centres.index]
    for column in evaluation.centres.columns.drop(["easting", "northing"]):
        pd.testing.assert_series_equal(
            evaluation.centres[column], centres[column], check_dtype=False, check_names=False,
            obj=column,
        )
    np.testing.assert_allclose(evaluation.centres["easting"], centres.geometry.x)
    np.testing.assert_allclose(evaluation.centres["northing"], centres.geometry.y)
    # The new site joins the locality of the nearest of the council's current centres.
    mine = engine.current.loc[own]
    gap = np.hypot(mine["easting"] - x1 - 40.0, mine["northing"] - y1)
    assert evaluation.centres.loc["N1", ["locality", "kind", "capacity"]].tolist() == [
        mine["locality"].iloc[int(gap.argmin())], "hub", 80.0
    ]
    assert evaluation.centres.loc[own[0], "capacity"] == 120
    assert evaluation.centres.loc[own[1], "services"] == "family hub core offer; midwifery"
    pd.testing.assert_frame_equal(
        evaluation.localities, fresh.localities[evaluation.localities.columns], check_names=False
    )
    from planning.analysis.sufficiency import summarise

    bands = summarise(fresh.areas, by="deprivation_band").reindex(evaluation.bands.index)
    pd.testing.assert_frame_equal(
        evaluation.bands, bands[evaluation.bands.columns], check_names=False, check_dtype=False
    )


def test_headline_table_of_every_single_closure(derby_engine):
    from planning.analysis.scenarios import single_closures

    scenarios = single_closures(derby_engine)
    assert [s.describe() for s in scenarios][:2] == [["close CC01"], ["close CC02"]]
    assert len(scenarios) == len(derby_engine.current)
    frame = derby_engine.headline_table(scenarios)
    assert frame.index.tolist() == [s.name for s in scenarios]
    assert frame.index[2].startswith("Close CC03 (Illustrative site 3")
    for scenario in scenarios[:3]:
        figures = derby_engine.evaluate(scenario).figures
        row = frame.loc[scenario.name]
        assert row["share_deprived_within_reach"] == pytest.approx(
            figures["share_deprived_within_reach"]
        )
        assert row["under5_beyond_reach"] == pytest.approx(
            figures["under5"] - figures["under5_within_reach"]
        )
        assert row["rag"] == figures["rag"]


def test_single_closures_leaves_a_lone_centre_alone(strip_town):
    from planning.analysis.scenarios import single_closures

    lone = ScenarioEngine(strip_town, make_centres({"A": (X0 + 500, Y)}, locality=["West"]))
    assert single_closures(lone) == []
