"""Location-allocation: hand-checked toys, invariants and a cross-check against spopt."""

import numpy as np
import pulp
import pytest

from planning import InfeasibleError, ValidationError
from planning.analysis.allocation import LocationAllocation, optimise
from planning.inputs.centres import read_centres, write_centres


# A line of five areas 1 km apart with weights 10, 1, 1, 1, 10; sites at each area's point.
LINE = np.arange(5) * 1000.0
COST = np.abs(LINE[:, None] - LINE[None, :])
WEIGHTS = np.array([10.0, 1, 1, 1, 10])


def test_coverage_by_hand():
    # Reach 1 km: one site covers itself and its neighbours. p = 1: a site at 1 or 3 covers
    # 10 + 1 + 1 = 12, the best possible. p = 2: sites at 1 and 3 (or 0/4 pairs) cover all 23.
    one = LocationAllocation("coverage", p=1, service_metres=1000).solve(COST, WEIGHTS)
    assert one.objective_value_ == 12 and one.selected_.tolist()[0] in (1, 3)
    two = LocationAllocation("coverage", p=2, service_metres=1000).solve(COST, WEIGHTS)
    assert two.objective_value_ == 23 and two.covered_share_ == 1.0


def test_median_by_hand():
    # p = 1: the weighted median of (10, 1, 1, 1, 10) is the middle area: cost
    # 10*2000 + 1*1000 + 0 + 1*1000 + 10*2000 = 42,000; a site at 0 would cost 10*4000 + 6000.
    one = LocationAllocation("median", p=1).solve(COST, WEIGHTS)
    assert one.selected_.tolist() == [2] and one.objective_value_ == pytest.approx(42_000)
    # p = 2: sites at 0 and 4 leave only the three 1-weights: 1000 + 2000 + 1000 = 4,000.
    two = LocationAllocation("median", p=2).solve(COST, WEIGHTS)
    assert sorted(two.selected_.tolist()) == [0, 4] and two.objective_value_ == pytest.approx(4_000)


def test_cover_all_by_hand():
    # Reach 1 km over five points 1 km apart: two sites (1 and 3) cover all.
    model = LocationAllocation("cover-all", service_metres=1000).solve(COST, WEIGHTS)
    assert model.objective_value_ == 2 and sorted(model.selected_.tolist()) == [1, 3]


def test_coverage_never_falls_as_p_grows():
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 10_000, size=(40, 2))
    cost = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(1, 100, size=40).astype(float)
    values = [
        LocationAllocation("coverage", p=p, service_metres=2000).solve(cost, weights).objective_value_
        for p in range(1, 8)
    ]
    assert values == sorted(values)


def test_locking_all_sites_returns_them():
    lock = np.array([True, False, True, False, True])
    model = LocationAllocation("median", p=3, lock=lock).solve(COST, WEIGHTS)
    assert sorted(model.selected_.tolist()) == [0, 2, 4]


def test_equity_constraint_moves_the_site():
    # Unconstrained p = 1 coverage picks 1 or 3; requiring the deprived area 4 covered picks 3.
    deprived = np.array([False, False, False, False, True])
    model = LocationAllocation("coverage", p=1, service_metres=1000, min_deprived_share=1.0)
    model.solve(COST, WEIGHTS, under5=WEIGHTS, deprived=deprived)
    assert model.selected_.tolist() in ([3], [4])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(objective="cover-all", p=1, service_metres=1000), "needs at least 2 sites; p = 1 is short by 1"),
        (dict(objective="coverage", p=1, service_metres=1000, min_deprived_share=1.0,
              deprived=np.array([True, False, False, False, True])),
         "at most 50.0% of under-5s in the 30% most deprived areas"),
        (dict(objective="median", p=1, lock=np.array([True, True, False, False, False])),
         "locking the 2 existing centres needs p >= 2; p = 1 is short by 1"),
        (dict(objective="median", p=1, load_band=(0, 10)), "need p >= 3"),
        (dict(objective="cover-all", service_metres=10), None),
    ],
)
def test_infeasible_requests_say_why(kwargs, message):
    deprived = kwargs.pop("deprived", None)
    model = LocationAllocation(kwargs.pop("objective"), **kwargs)
    if message is None:  # cover-all at 10 m only works with every site: feasible, 5 sites
        assert model.solve(COST, WEIGHTS).objective_value_ == 5
        return
    with pytest.raises(InfeasibleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        model.solve(COST, WEIGHTS, under5=WEIGHTS, deprived=deprived)


def test_unreachable_area_in_cover_all_is_named():
    cost = COST.copy()
    cost[4, :] = 9_000
    with pytest.raises(InfeasibleError, match="1 area\\(s\\) are beyond 1 km of every candidate"):
        LocationAllocation("cover-all", service_metres=1000).solve(cost, WEIGHTS)


def test_bad_objective():
    with pytest.raises(ValidationError, match="valid: coverage, median, cover-all"):
        LocationAllocation("maximin", p=1).solve(COST, WEIGHTS)


@pytest.fixture(scope="module")
def small_instance(derby_areas):
    rng = np.random.default_rng(11)
    areas = derby_areas.iloc[rng.choice(len(derby_areas), 40, replace=False)]
    xy = areas[["point_easting", "point_northing"]].to_numpy()
    sites = xy[rng.choice(40, 25, replace=False)] + rng.normal(0, 200, size=(25, 2))
    cost = np.hypot(xy[:, None, 0] - sites[None, :, 0], xy[:, None, 1] - sites[None, :, 1])
    return cost, areas["under5"].to_numpy(float)


# spopt builds its variables the way PuLP 3.3 deprecates; that warning is spopt's, not ours.
@pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning")
def test_matches_spopt_optimum(small_instance):
    """Same input to spopt's MCLP, p-median and LSCP: the optimal objectives must agree."""
    from spopt.locate import LSCP, MCLP, PMedian

    cost, weights = small_instance
    solver = pulp.HiGHS(msg=False)
    ours = LocationAllocation("coverage", p=4, service_metres=1500).solve(cost, weights)
    theirs = MCLP.from_cost_matrix(cost, weights, service_radius=1500, p_facilities=4).solve(solver)
    assert ours.objective_value_ == pytest.approx(pulp.value(theirs.problem.objective))
    ours = LocationAllocation("median", p=4).solve(cost, weights)
    theirs = PMedian.from_cost_matrix(cost, weights, p_facilities=4).solve(solver)
    assert ours.objective_value_ == pytest.approx(pulp.value(theirs.problem.objective), rel=1e-6)
    ours = LocationAllocation("cover-all", service_metres=2500).solve(cost, weights)
    theirs = LSCP.from_cost_matrix(cost, service_radius=2500).solve(solver)
    assert ours.objective_value_ == pytest.approx(pulp.value(theirs.problem.objective))


def test_optimise_derby_writes_a_usable_centres_file(tmp_path, derby_areas, derby_centres_file):
    centres = read_centres(derby_centres_file, areas=derby_areas)
    result = optimise(derby_areas, centres, objective="coverage", p=8, lock_existing=False)
    assert len(result.chosen) == 8
    assert len(result.sites) == 10 + 152
    path = write_centres(result.chosen, tmp_path / "chosen.csv")
    again = read_centres(path, areas=derby_areas)
    assert len(again) == 8 and set(again.index) == set(result.chosen.index)
    # The comparison's after-network is exactly the chosen one.
    assert set(result.comparison.after.centres.index) == set(result.chosen.index)
    assert result.comparison.after.figures["share_within_reach"] == pytest.approx(
        result.model.covered_share_, abs=0.02
    ) or result.comparison.after.figures["share_within_reach"] >= 0.9


def test_max_closures_keeps_enough_existing_sites():
    # Sites 0 and 4 are "existing"; p = 1 median alone would pick the middle site 2 (closing
    # both). Allowing one closure forces one existing site to stay open.
    existing = np.array([True, False, False, False, True])
    free = LocationAllocation("median", p=1).solve(COST, WEIGHTS)
    assert free.selected_.tolist() == [2]
    capped = LocationAllocation("median", p=1, existing=existing, max_closures=1).solve(COST, WEIGHTS)
    assert capped.selected_.tolist()[0] in (0, 4)
    with pytest.raises(InfeasibleError, match="closing at most 0 of 2 existing centres keeps 2 open"):
        LocationAllocation("median", p=1, existing=existing, max_closures=0).solve(COST, WEIGHTS)


def test_ties_keep_current_centres():
    # Reach 4 km: any single site covers everything, so every network ties; the existing
    # site (3) is kept rather than an arbitrary new one.
    existing = np.array([False, False, False, True, False])
    model = LocationAllocation("coverage", p=1, service_metres=4000, existing=existing)
    assert model.solve(COST, WEIGHTS).selected_.tolist() == [3]


def test_assignment_breaks_ties_as_the_assessment_does():
    # Area 0 is 1,000 m from site 0 and 1,000 m less half a millimetre from site 1: a tie to the
    # workbench's nearest-centre rule (within a millimetre), so the first listed site serves it,
    # as planning.analysis.distance.nearest and the scenario engine decide. Area 1 ties three
    # ways exactly and also goes to site 0; area 2 is clearly nearest site 2.
    from planning.analysis.distance import nearest

    cost = np.array(
        [
            [1000.0, 999.9995, 3000.0],
            [500.0, 500.0, 500.0],
            [3000.0, 3000.0, 10.0],
        ]
    )
    model = LocationAllocation("coverage", p=3, service_metres=1000).solve(cost, np.ones(3))
    assert model.selected_.tolist() == [0, 1, 2]
    expected, _ = nearest(np.zeros((3, 2)), np.zeros((3, 2)), distances=cost)
    assert expected.tolist() == [0, 0, 2]
    assert model.assignment_.tolist() == [0, 0, 2]


def test_cover_all_uses_each_areas_own_radius():
    # Reach 1 km for areas 0-2 and 3 km for the rural areas 3 and 4 (LINE: 0 .. 4 km): one site
    # at area 1 covers 0, 1, 2 (<= 1 km) and 3, 4 (2 and 3 km, within 3 km): one site suffices;
    # with 1 km everywhere two are needed.
    radius = np.array([1000.0, 1000.0, 1000.0, 3000.0, 3000.0])
    model = LocationAllocation("cover-all", service_metres=radius).solve(COST, WEIGHTS)
    assert model.selected_.tolist() == [1]
    assert model.covered_share_ == 1.0
    with pytest.raises(ValidationError, match="one per area"):
        LocationAllocation("cover-all", service_metres=radius[:2]).solve(COST, WEIGHTS)


# -- the sparse programme: pruning is exact -----------------------------------------------------


def _brute_force(cost, weights, p, radius=None):
    """Best objective over every p-subset of sites (coverage if a radius is given, else median)."""
    from itertools import combinations

    best = None
    for subset in combinations(range(cost.shape[1]), p):
        sub = cost[:, list(subset)]
        if radius is None:
            value = float((weights * sub.min(axis=1)).sum())
            best = value if best is None else min(best, value)
        else:
            value = float(weights[(sub <= radius[:, None]).any(axis=1)].sum())
            best = value if best is None else max(best, value)
    return best


@pytest.fixture(scope="module")
def clustered():
    # Two dense clusters and a few remote areas, so an area's nearest open site is often not
    # among its few nearest candidates (the pruned p-median must widen its lists).
    rng = np.random.default_rng(7)
    points = np.vstack(
        [rng.normal(0, 300, (8, 2)), rng.normal(6_000, 300, (8, 2)), rng.uniform(-9e3, 9e3, (4, 2))]
    )
    cost = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))[:, :14]
    weights = rng.integers(1, 60, len(points)).astype(float)
    return cost, weights


@pytest.mark.parametrize("k", [1, 2, 5, None, 14])
def test_pruned_median_is_the_exact_optimum_whatever_k(clustered, k):
    cost, weights = clustered
    model = LocationAllocation("median", p=3, nearest_sites=k).solve(cost, weights)
    assert model.objective_value_ == pytest.approx(_brute_force(cost, weights, 3), rel=1e-9)
    # The reported assignment is a chosen site for every area, and the objective is its cost.
    assert set(model.assignment_) <= set(model.selected_)
    assert model.objective_value_ == pytest.approx(
        (weights * cost[np.arange(len(weights)), model.assignment_]).sum()
    )
    if k == 1:
        assert model.rounds_ > 1 and model.nearest_sites_ > 1  # the widening was exercised


def test_coverage_on_pairs_within_reach_is_the_exact_optimum(clustered):
    cost, weights = clustered
    radius = np.where(np.arange(len(weights)) < 16, 500.0, 4_000.0)  # looser for remote areas
    for p in (1, 2, 4):
        model = LocationAllocation("coverage", p=p, service_metres=radius).solve(cost, weights)
        assert model.objective_value_ == pytest.approx(_brute_force(cost, weights, p, radius))


@pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning")
def test_derby_median_equals_spopt(derby_areas, derby_centres_file):
    """Derby's 152 LSOAs x 162 candidate sites, p = 10: the sparse pruned p-median reaches
    spopt's dense optimum."""
    spopt = pytest.importorskip("spopt.locate")
    from planning.analysis.allocation import candidate_sites

    sites = candidate_sites(derby_areas, read_centres(derby_centres_file, areas=derby_areas))
    xy = derby_areas[["point_easting", "point_northing"]].to_numpy()
    cost = np.hypot(
        xy[:, None, 0] - sites.geometry.x.to_numpy()[None, :],
        xy[:, None, 1] - sites.geometry.y.to_numpy()[None, :],
    )
    weights = derby_areas["under5"].to_numpy(float)
    ours = LocationAllocation("median", p=10).solve(cost, weights)
    assert ours.nearest_sites_ < cost.shape[1]  # it was pruned
    theirs = spopt.PMedian.from_cost_matrix(cost, weights, p_facilities=10).solve(
        pulp.HiGHS(msg=False, gapRel=0.0)
    )
    assert ours.objective_value_ == pytest.approx(pulp.value(theirs.problem.objective), rel=1e-7)


def test_load_band_reports_the_solved_assignment():
    # Weights 10, 1, 1, 1, 10 on the line, p = 2, every site's load within 11-12: the loads as
    # solved are inside the band and add up to all the demand.
    model = LocationAllocation("median", p=2, load_band=(11, 12)).solve(COST, WEIGHTS)
    loads = model.loads_[model.selected_]
    assert ((loads >= 11 - 1e-6) & (loads <= 12 + 1e-6)).all()
    assert model.loads_.sum() == pytest.approx(WEIGHTS.sum())


def test_optimise_with_load_bands_reports_the_band_it_solved():
    # A 4 x 4 town of 300 under-5s per cell (4,800 in all) and one centre in a corner; p = 5
    # sites within the 600-1,200 band. The chosen frame reports the loads the band was held to.
    from conftest import make_centres
    from planning import toy_town

    town = toy_town(rows=4, columns=4, under5=300.0)
    x0, y0 = 430_000.0, 335_000.0
    centres = make_centres({"C1": (x0 + 500, y0 + 500)})
    result = optimise(town, centres, objective="median", p=5, load_bands=True)
    solved = result.chosen["under5_assigned"]
    assert len(solved) == 5 and solved.between(600 - 1e-6, 1_200 + 1e-6).all()
    assert solved.sum() == pytest.approx(4_800)
    assert result.assignment.index.equals(town.index)
    assert set(result.assignment) <= set(result.chosen.index)


def test_running_out_of_time_says_so():
    # 300 areas x 300 sites, p-median, a millisecond: HiGHS stops before any network is found.
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 20_000, size=(300, 2))
    cost = np.hypot(*(points[:, None, :] - points[None, :, :]).transpose(2, 0, 1))
    model = LocationAllocation("median", p=20, nearest_sites=300, time_limit=1e-3)
    with pytest.raises(InfeasibleError, match="no network within its time limit of 0.001 s"):
        model.solve(cost, np.ones(300))
