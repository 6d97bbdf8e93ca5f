"""Distances from small areas to centres, walking time and the two-step floating catchment.

All distances are straight-line metres in British National Grid (EPSG:27700), and walking time
applies a circuity factor (see ``standards.yaml``); along a street network the distances are
:mod:`planning.analysis.network_distance`'s, which :func:`metres_between` also dispatches to.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from planning._errors import ValidationError
from planning.inputs.areas import area_points, centre_points

__all__ = [
    "area_points",
    "centre_points",
    "metres_between",
    "nearest",
    "nearest_distance",
    "pairs_within",
    "two_step_fca",
    "walking_minutes",
]


def nearest(
    origins: np.ndarray,
    destinations: np.ndarray,
    *,
    distances: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Index of, and straight-line distance to, the nearest destination for every origin.

    The one nearest-centre rule of the workbench, used by the assessment (through
    :func:`planning.analysis.catchments.assign_catchments`) and by the scenario engine: the
    nearest destination in metres, and on a tie (within a millimetre) the destination listed
    first, however many tie, so results depend neither on a tree's layout nor on which path
    computed them.

    Parameters
    ----------
    origins, destinations : ndarray
        ``(n, 2)`` and ``(m, 2)`` coordinates in metres (EPSG:27700).
    distances : ndarray, optional
        The ``(n, m)`` matrix of metres between them when the caller already holds it (the
        scenario engine keeps one for every site it has seen): the answer is read from it.
        Otherwise a k-d tree finds each origin's two nearest destinations, and only the origins
        whose two nearest tie are compared with every destination.

    Examples
    --------
    >>> origins = np.array([[0.0, 0.0], [10.0, 0.0]])
    >>> destinations = np.array([[5.0, 0.0], [0.0, 5.0], [-5.0, 0.0], [0.0, -5.0]])
    >>> index, metres = nearest(origins, destinations)
    >>> index.tolist(), metres.tolist()  # four tie for the first origin: the first listed wins
    ([0, 0], [5.0, 5.0])
    """
    if len(destinations) == 0:
        raise ValidationError("no centres: at least one centre is needed to measure access")
    if distances is not None:
        # argmin returns the first minimum; snap near-ties first so that they count as ties.
        best = distances.min(axis=1, keepdims=True)
        index = (distances <= best + _TIE_METRES).argmax(axis=1)
        return index.astype(np.int64), distances[np.arange(len(index)), index]
    tree = cKDTree(destinations)
    k = min(2, len(destinations))
    distance, index = tree.query(origins, k=k)
    if k == 1:
        return index.astype(np.int64), distance
    chosen = index[:, 0].astype(np.int64)
    tied = np.flatnonzero(distance[:, 1] - distance[:, 0] <= _TIE_METRES)
    if len(tied):
        # Two or more destinations at the same distance: compare with all of them (rare, so
        # the dense look-up costs nothing in practice).
        full = np.hypot(
            origins[tied, 0:1] - destinations[None, :, 0],
            origins[tied, 1:2] - destinations[None, :, 1],
        )
        chosen[tied], _ = nearest(origins[tied], destinations, distances=full)
    return chosen, distance[:, 0]


#: Distances within this many metres are a tie (coordinates are stored to 0.1 m at best).
_TIE_METRES = 1e-3


def metres_between(
    origins: np.ndarray,
    sites: np.ndarray,
    distances: Any = None,
    *,
    max_metres: float | None = None,
) -> np.ndarray:
    """Metres from every origin to every site, ``(n, m)``: straight lines, or along a street
    network when ``distances`` is one (a
    :class:`planning.analysis.network_distance.NetworkDistances`), searched as far as
    ``max_metres`` (default the network's own search limit; ``np.inf``: at any distance) and
    ``inf`` beyond it."""
    origins = np.asarray(origins, dtype=float).reshape(-1, 2)
    sites = np.asarray(sites, dtype=float).reshape(-1, 2)
    if distances is None:
        return np.hypot(*(origins[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    if len(sites) == 0:
        return np.empty((len(origins), 0))
    return distances.matrix(origins, sites, complete=False, max_metres=max_metres)


def nearest_distance(distance: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per area (row) the smallest distance over the columns where ``mask`` is true; inf if
    none."""
    if not mask.any():
        return np.full(distance.shape[0], np.inf)
    return distance[:, mask].min(axis=1)


def pairs_within(
    origins: np.ndarray, destinations: np.ndarray, max_metres: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All origin-destination pairs no more than ``max_metres`` apart.

    Returns ``(origin_index, destination_index, metres)`` as flat arrays (a sparse cost table).
    """
    if len(destinations) == 0 or len(origins) == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=float)
    matrix = cKDTree(origins).sparse_distance_matrix(
        cKDTree(destinations), max_distance=max_metres, output_type="coo_matrix"
    )
    # sparse_distance_matrix drops pairs at distance exactly 0; add them back.
    same = cKDTree(origins).query_ball_tree(cKDTree(destinations), r=0.0)
    zero_o = np.array([i for i, js in enumerate(same) for _ in js], dtype=np.int64)
    zero_d = np.array([j for js in same for j in js], dtype=np.int64)
    origin = np.concatenate([matrix.row.astype(np.int64), zero_o])
    destination = np.concatenate([matrix.col.astype(np.int64), zero_d])
    metres = np.concatenate([matrix.data, np.zeros(len(zero_o))])
    keys = origin * max(len(destinations), 1) + destination
    _, first = np.unique(keys, return_index=True)
    return origin[first], destination[first], metres[first]


def walking_minutes(
    metres: np.ndarray | pd.Series, *, speed_kmh: float = 4.0, circuity: float = 1.3
) -> np.ndarray | pd.Series:
    """Walking time in minutes: ``metres * circuity / (speed_kmh * 1000 / 60)``.

    With no road network, the straight-line distance is stretched by a circuity factor (about 1.3
    in English towns) and walked at a pram-pushing 4 km/h (DOMAIN.md).
    """
    if speed_kmh <= 0 or circuity <= 0:
        raise ValidationError("walking speed and circuity must be greater than 0")
    return metres * circuity / (speed_kmh * 1_000.0 / 60.0)


def two_step_fca(
    demand: np.ndarray,
    supply: np.ndarray,
    origin: np.ndarray,
    destination: np.ndarray,
    metres: np.ndarray,
    *,
    max_metres: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment area accessibility (Luo and Wang, 2003).

    Step 1, for each centre ``j``: ``R_j = S_j / sum_{i: d_ij <= d0_i} P_i`` (places per child
    in its catchment). Step 2, for each area ``i``: ``A_i = sum_{j: d_ij <= d0_i} R_j``.
    ``P`` is demand (under-5s), ``S`` supply (capacity), ``d0_i`` = ``max_metres``: one radius,
    or one per area (the area's reach standard, as
    :func:`planning.analysis.sufficiency.area_reach_standard` gives, so that an area counts
    towards a centre exactly when the reach flags call that centre within its reach).

    Returns
    -------
    (area_access, centre_ratio)
        ``A_i`` per origin (0 where no centre is within reach) and ``R_j`` per destination
        (NaN where no demand lies within reach).
    """
    radius = np.broadcast_to(np.asarray(max_metres, dtype=float), (len(demand),))
    inside = metres <= radius[origin]
    origin, destination = origin[inside], destination[inside]
    demand_in_reach = np.bincount(destination, weights=demand[origin], minlength=len(supply))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand_in_reach > 0, supply / demand_in_reach, np.nan)
    contribution = np.nan_to_num(ratio[destination], nan=0.0)
    access = np.bincount(origin, weights=contribution, minlength=len(demand))
    return access, ratio
