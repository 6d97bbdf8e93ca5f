import numpy as np
import pandas as pd
import pytest

from planning import CRSError, toy_town
from planning.analysis.distance import (
    area_points,
    nearest,
    pairs_within,
    two_step_fca,
    walking_minutes,
)

from conftest import make_centres


def test_walking_minutes_by_hand():
    # 1 km * 1.3 / (4 km/h) = 0.325 h = 19.5 min
    assert walking_minutes(np.array([1000.0]))[0] == pytest.approx(19.5)
    assert walking_minutes(np.array([2000.0]), speed_kmh=5, circuity=1.0)[0] == pytest.approx(24.0)


def test_nearest_breaks_ties_towards_first_listed():
    origins = np.array([[0.0, 0.0], [10.0, 0.0]])
    destinations = np.array([[5.0, 0.0], [-5.0, 0.0], [15.0, 0.0]])
    index, metres = nearest(origins, destinations)
    assert index.tolist() == [0, 0]
    assert metres.tolist() == [5.0, 5.0]


def test_pairs_within_keeps_zero_distance_pairs():
    origins = np.array([[0.0, 0.0], [1000.0, 0.0], [5000.0, 0.0]])
    destinations = np.array([[0.0, 0.0]])
    o, d, m = pairs_within(origins, destinations, 2500)
    assert sorted(zip(o.tolist(), m.tolist())) == [(0, 0.0), (1, 1000.0)]


def test_geographic_crs_is_refused(strip_town):
    with pytest.raises(CRSError, match="to_crs\\('EPSG:27700'\\)"):
        area_points(strip_town.to_crs("EPSG:4326"))


def test_two_step_fca_by_hand(strip_town):
    # Centres at cells 0 and 4 with 60 and 90 places; reach 2.5 km.
    # A reaches cells 0,1,2 (600 under-5s): R_A = 0.1; B reaches cells 2,3,4 (1200): R_B = 0.075.
    xy = area_points(strip_town)
    centres = np.array([xy[0], xy[4]])
    o, d, m = pairs_within(xy, centres, 2500)
    access, ratio = two_step_fca(
        strip_town["under5"].to_numpy(float), np.array([60.0, 90.0]), o, d, m, max_metres=2500
    )
    assert ratio.tolist() == pytest.approx([0.1, 0.075])
    assert access.tolist() == pytest.approx([0.1, 0.1, 0.175, 0.075, 0.075])


def test_two_step_fca_all_within_reach_equals_supply_over_demand():
    town = toy_town(rows=2, columns=2, under5=[10, 20, 30, 40])
    xy = area_points(town)
    o, d, m = pairs_within(xy, xy[:1], 10_000)
    access, _ = two_step_fca(town["under5"].to_numpy(float), np.array([50.0]), o, d, m, max_metres=10_000)
    assert access == pytest.approx(np.full(4, 50 / 100))


def test_two_step_fca_matches_pysal_access(derby_areas):
    """Cross-check on real Derby areas against PySAL access's two_stage_fca."""
    from access import Access

    rng = np.random.default_rng(7)
    xy = area_points(derby_areas)
    sites = xy[rng.choice(len(xy), size=12, replace=False)]
    capacity = rng.integers(50, 400, size=12).astype(float)
    o, d, m = pairs_within(xy, sites, 1e7)  # every pair, so access sees the full cost table
    ours, _ = two_step_fca(
        derby_areas["under5"].to_numpy(float), capacity, o, d, m, max_metres=2500
    )
    demand = pd.DataFrame({"under5": derby_areas["under5"].to_numpy(float)}, index=pd.RangeIndex(len(xy), name="origin"))
    supply = pd.DataFrame({"capacity": capacity}, index=pd.RangeIndex(12, name="dest"))
    cost = pd.DataFrame({"origin": o, "dest": d, "metres": m})
    model = Access(
        demand_df=demand, demand_index=True, demand_value="under5",
        supply_df=supply, supply_index=True, supply_value="capacity",
        cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="metres",
    )
    theirs = model.two_stage_fca(name="fca", max_cost=2500, normalize=False)
    theirs = theirs.iloc[:, 0].reindex(range(len(xy))).fillna(0).to_numpy()
    assert np.count_nonzero(ours) > 20
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_one_nearest_rule_for_assessment_and_engine_with_many_ties():
    """Four centres at the same distance from the middle area: the first listed serves it, in
    the assessment and in the scenario engine alike, and a site opened at the same distance
    later does not take it (it is listed after them)."""
    from planning.analysis.scenarios import Scenario, ScenarioEngine
    from planning.analysis.sufficiency import assess_sufficiency
    from planning.inputs.areas import area_points

    from conftest import make_centres

    town = toy_town(rows=3, columns=3)
    x, y = area_points(town)[4]  # the middle area's point
    order = {"S": (x, y - 700), "E": (x + 700, y), "N": (x, y + 700), "W": (x - 700, y)}
    centres = make_centres(order)
    middle = town.index[4]
    assessed = assess_sufficiency(town, centres).areas
    assert assessed.loc[middle, "centre_id"] == "S"
    engine = ScenarioEngine(town, centres, area_candidates=False)
    current = engine.evaluate(Scenario(""))
    assert current.areas.loc[middle, "centre_id"] == "S"
    assert (current.areas["centre_id"] == assessed["centre_id"]).all()
    opened = engine.evaluate(Scenario("").open("X", easting=x - 495, northing=y - 495))
    assert opened.areas.loc[middle, "centre_id"] == "S"  # 700.0 m vs 700.04 m: not a tie
    closed = engine.evaluate(Scenario("").close("S"))
    assert closed.areas.loc[middle, "centre_id"] == "E"  # the next listed of the three ties


# -- one definition of "within reach" (issue 11, section 5) ------------------------------------


def _rural_strip():
    """Five 1 km cells in a row (points at 500 .. 4,500 m); the last two are rural.

    One centre, with 50 places, at the first cell's point. Reach 1 km, rural reach 3 km: by
    hand the distances are 0, 1,000, 2,000, 3,000, 4,000 m, so T00 and T01 (urban, <= 1 km) and
    T03 (rural, exactly 3 km) are within reach; T02 (urban, 2 km) and T04 (rural, 4 km) are not.
    """
    from planning.standards import Standards

    areas = toy_town(rows=1, columns=5, under5=[100, 200, 300, 400, 500])
    areas["rural"] = [False, False, False, True, True]
    x0, y0 = 430_000.0, 335_000.0
    centres = make_centres({"C1": (x0 + 500, y0 + 500)}, capacity=[50.0])
    standards = Standards().replace(reach_km=1.0, rural_reach_km=3.0)
    return areas, centres, standards, {"T00", "T01", "T03"}


def test_rural_reach_is_one_definition_in_assessment_2sfca_engine_and_optimiser():
    from planning.analysis.allocation import optimise
    from planning.analysis.scenarios import Scenario, ScenarioEngine
    from planning.analysis.sufficiency import assess_sufficiency

    areas, centres, standards, expected = _rural_strip()
    result = assess_sufficiency(areas, centres, standards=standards)
    table = result.areas
    assert set(table.index[table["within_reach"]]) == expected
    # 2SFCA: the one centre's catchment is exactly the covered areas (100 + 200 + 400 under-5s),
    # so each of them gets 50 / 700 places per under-5 and the others none.
    access = table["places_per_under5_2sfca"]
    assert set(table.index[access > 0]) == expected
    assert access[sorted(expected)].to_numpy() == pytest.approx([50 / 700] * 3)
    assert result.centres.loc["C1", "places_per_under5_in_reach"] == pytest.approx(50 / 700)

    engine = ScenarioEngine(areas, centres, standards=standards)
    evaluation = engine.evaluate(Scenario())
    assert set(evaluation.areas.index[evaluation.areas["within_reach"]]) == expected
    rebuilt = evaluation.to_result().areas["places_per_under5_2sfca"]
    assert set(rebuilt.index[rebuilt > 0]) == expected

    # The optimiser, held to the existing centre, covers the same areas: weights 100, 200, 400
    # of 1,500 under-5s.
    optimised = optimise(
        areas, centres, objective="coverage", p=1, standards=standards,
        lock_existing=True, weight="under5",
    )
    assert optimised.model.covered_share_ == pytest.approx(700 / 1500)
    assert optimised.model.objective_value_ == pytest.approx(700)
    after = optimised.comparison.after.areas
    assert set(after.index[after["within_reach"]]) == expected


def test_two_step_fca_takes_a_radius_per_area():
    # Area 0 (100 under-5s) is 2 km from centre 0; area 1 (300) is 2 km from centre 0 and 500 m
    # from centre 1. Radii 1 km and 2 km: area 0 reaches nothing, area 1 reaches both. By hand
    # R_0 = 30 / 300 = 0.1, R_1 = 10 / 300; A_0 = 0, A_1 = 0.1 + 1/30.
    origin = np.array([0, 1, 1])
    destination = np.array([0, 0, 1])
    metres = np.array([2000.0, 2000.0, 500.0])
    access, ratio = two_step_fca(
        np.array([100.0, 300.0]), np.array([30.0, 10.0]), origin, destination, metres,
        max_metres=np.array([1000.0, 2000.0]),
    )
    assert access.tolist() == pytest.approx([0.0, 0.1 + 1 / 30])
    assert ratio.tolist() == pytest.approx([0.1, 1 / 30])
