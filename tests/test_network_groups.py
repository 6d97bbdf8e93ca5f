"""Nearest site of each service along the streets, one search per service
(:meth:`NetworkDistances.nearest_in_groups`), against the smallest of the per-site matrix with
no search limit, and against hand-worked answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from planning.analysis.network_distance import NetworkDistances
from planning.inputs.network import StreetNetwork


def street(node_xy: np.ndarray, edges: list[tuple[int, int, float]], *, directed: bool):
    rows, columns, metres = zip(*edges)
    graph = sparse.csr_matrix((metres, (rows, columns)), shape=(len(node_xy), len(node_xy)))
    return NetworkDistances(
        StreetNetwork(node_xy=node_xy, graph=graph, directed=directed, mode="walk",
                      source="test", sha256=""),
        max_metres=500.0,
    )  # fmt: skip


def random_town(seed: int, *, directed: bool) -> NetworkDistances:
    """A 30 x 30 grid with 100 m blocks, streets of random length (100-300 m: detours), a
    tenth of the blocks missing, and (directed) a third of the streets one way."""
    rng = np.random.default_rng(seed)
    side = 30
    xy = np.array([(x * 100.0, y * 100.0) for y in range(side) for x in range(side)])
    edges = []
    for y in range(side):
        for x in range(side):
            here = y * side + x
            for there in ([here + 1] if x + 1 < side else []) + (
                [here + side] if y + 1 < side else []
            ):
                if rng.random() < 0.1:
                    continue
                metres = float(rng.uniform(100, 300))
                edges.append((here, there, metres))
                if directed and rng.random() > 1 / 3:
                    edges.append((there, here, metres))
    if directed:  # a ring road both ways keeps every corner reachable from every other
        ring = [i for i in range(side)] + [side * y + side - 1 for y in range(side)]
        ring += [side * (side - 1) + x for x in range(side)] + [side * y for y in range(side)]
        for a, b in zip(ring, ring[1:]):
            if a != b:
                edges += [(a, b, 100.0), (b, a, 100.0)]
    return street(xy, edges, directed=directed)


@pytest.mark.parametrize("directed", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_search_per_group_equals_the_smallest_of_the_whole_matrix(seed, directed):
    distances = random_town(seed, directed=directed)
    rng = np.random.default_rng(100 + seed)
    areas = rng.uniform(-50, 2_950, size=(60, 2))
    sites = rng.uniform(-50, 2_950, size=(25, 2))
    sites[5] = sites[4] + [3.0, 0.0]  # two sites on one node, with different snap legs
    sites[6] = distances.network.node_xy[77]  # a site on its node: a snap leg of 0
    groups = {f"g{i}": rng.random(len(sites)) < share for i, share in enumerate([0.1, 0.3, 0.8])}
    groups["two on one node"] = np.isin(np.arange(len(sites)), [4, 5])
    groups["on its node"] = np.arange(len(sites)) == 6
    groups["same as g0"] = groups["g0"].copy()
    groups["none"] = np.zeros(len(sites), dtype=bool)
    found = distances.nearest_in_groups(areas, sites, groups)
    every = distances.matrix(areas, sites, complete=False, max_metres=np.inf)
    assert np.isfinite(every).all()
    for name, mask in groups.items():
        expected = every[:, mask].min(axis=1) if mask.any() else np.full(len(areas), np.inf)
        np.testing.assert_allclose(found[name], expected, rtol=0, atol=1e-6, err_msg=name)


def test_by_hand_with_snap_legs_and_a_one_way_street():
    """Three nodes on a line, 100 m apart, the second street one way eastbound (1 -> 2).
    Sites: S at 40 m north of node 0, T at 10 m north of node 2, U at 90 m north of node 2.
    By hand, from a point on node 1: to S 100 + 40 = 140 m, to T (against the one-way street
    when driving: no way) 100 + 10 = 110 m walking. Groups {S, T} and {S, U}."""
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]])
    sites = np.array([[0.0, 40.0], [200.0, 10.0], [200.0, 90.0]])
    here = np.array([[100.0, 0.0]])
    groups = {"S or T": np.array([True, True, False]), "S or U": np.array([True, False, True])}
    walk = street(xy, [(0, 1, 100.0), (1, 2, 100.0)], directed=False)
    walked = walk.nearest_in_groups(here, sites, groups)
    assert walked["S or T"][0] == pytest.approx(110.0)
    assert walked["S or U"][0] == pytest.approx(140.0)  # U is 190 m: S is nearer
    drive = street(xy, [(0, 1, 100.0), (1, 0, 100.0), (2, 1, 100.0)], directed=True)
    driven = drive.nearest_in_groups(here, sites, groups)
    # Node 1 cannot reach node 2 (the street runs 2 -> 1 only): S at 140 m for both.
    assert driven["S or T"][0] == pytest.approx(140.0)
    assert driven["S or U"][0] == pytest.approx(140.0)
