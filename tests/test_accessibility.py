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
