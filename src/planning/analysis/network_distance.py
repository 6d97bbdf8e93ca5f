"""Distances along a street network: snapping, many-to-many shortest paths, barriers.

Every point (a small area's point, a centre, a scenario's new site) is snapped to its nearest
node of the graph (:class:`planning.inputs.network.StreetNetwork`); the distance from point
``a`` to point ``b`` is then

    ``d(a, b) = snap(a) + path(node(a), node(b)) + snap(b)``

in metres, where ``path`` is the shortest path along the graph (Dijkstra on a CSR matrix,
``scipy.sparse.csgraph.dijkstra``) and ``snap`` the straight line from a point to its node (the
walk to the street). Paths are searched only as far as the largest reach (``max_metres``):
pairs further apart are ``inf``, except that each origin's nearest destination is always found
(one multi-source Dijkstra from every destination at once), so that every area has a centre
and a distance however far it is.

:class:`NetworkDistances` is the distance provider that the assessment
(:func:`planning.analysis.sufficiency.assess_sufficiency`), the scenario engine and the
optimiser take as ``distances=``; walking minutes are then network metres at the walking speed
with no circuity factor (``circuity`` is 1).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from planning._errors import ValidationError
from planning.inputs.network import StreetNetwork
from planning.standards import Standards

__all__ = [
    "BARRIER_RATIO",
    "FAR_SNAP_METRES",
    "NetworkDistances",
    "SnapReport",
    "barrier_flags",
    "largest_reach_metres",
    "reach_by_band",
]

#: Points further than this from the nearest street are flagged (the snap may be misleading).
FAR_SNAP_METRES = 250.0

#: An area whose network distance to its centre exceeds this many times the straight line has a
#: barrier in the way (a river, a railway, a dual carriageway, an estate without through routes).
BARRIER_RATIO = 1.6

#: Below this straight-line distance the snap legs dominate the ratio: no barrier is flagged.
BARRIER_MIN_METRES = 200.0

#: The share of the authority's areas that must snap within FAR_SNAP_METRES of a street.
MIN_COVERED_SHARE = 0.8

#: Sources per Dijkstra call: bounds the dense (sources x nodes) block held in memory.
_BATCH = 64

#: Metres added to every edge from the virtual node of a group search, and taken off after.
_VIRTUAL_LEG = 1.0


def largest_reach_metres(standards: Standards, *, margin_m: float = 1_000.0) -> float:
    """How far paths are searched: the largest reach standard (urban, rural, short, walking
    minutes at the walking speed) plus a margin, so that a scenario that loosens a standard a
    little stays inside it."""
    walk_m = standards.walk_minutes * standards.walk_speed_kmh * 1_000.0 / 60.0
    return (
        max(standards.reach_m, standards.rural_reach_m, standards.short_reach_m, walk_m) + margin_m
    )


@dataclass(frozen=True)
class SnapReport:
    """Where points met the network: node, straight-line metres to it, and the far flag."""

    node: np.ndarray
    metres: np.ndarray

    @property
    def far(self) -> np.ndarray:
        """Points more than :data:`FAR_SNAP_METRES` from the nearest street."""
        return self.metres > FAR_SNAP_METRES


def barrier_flags(network_m: np.ndarray, straight_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratio of network to straight-line distance, and whether it marks a barrier.

    ``ratio = network_m / straight_m`` (NaN where the straight line is 0 or the network distance
    is not finite); ``barrier = ratio > 1.6`` where the straight line is at least 200 m.

    Examples
    --------
    >>> ratio, barrier = barrier_flags(np.array([1300.0, 2000.0]), np.array([1000.0, 1000.0]))
    >>> ratio.tolist(), barrier.tolist()
    ([1.3, 2.0], [False, True])
    """
    network_m = np.asarray(network_m, dtype=float)
    straight_m = np.asarray(straight_m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where((straight_m > 0) & np.isfinite(network_m), network_m / straight_m, np.nan)
    barrier = (straight_m >= BARRIER_MIN_METRES) & (np.nan_to_num(ratio) > BARRIER_RATIO)
    return ratio, barrier


class NetworkDistances:
    """Distances along a street network, for the assessment, the scenario engine and the optimiser.

    Parameters
    ----------
    network : StreetNetwork
        From :func:`planning.inputs.network.read_network`.
    max_metres : float
        How far shortest paths are searched (:func:`largest_reach_metres`); beyond it a pair is
        ``inf`` unless it is the origin's nearest destination.

    Examples
    --------
    A street of three nodes 100 m apart; points 10 m off its ends:

    >>> from scipy import sparse
    >>> street = StreetNetwork(
    ...     node_xy=np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0]]),
    ...     graph=sparse.csr_matrix(([100.0, 100.0], ([0, 1], [1, 2])), shape=(3, 3)),
    ...     directed=False, mode="walk", source="toy", sha256="")
    >>> NetworkDistances(street, max_metres=1000).matrix(
    ...     np.array([[0.0, 10.0]]), np.array([[200.0, -10.0]])).tolist()
    [[220.0]]
    """

    #: Walking minutes use network metres as they are.
    circuity = 1.0
    kind = "network"

    def __init__(self, network: StreetNetwork, *, max_metres: float) -> None:
        if max_metres <= 0:
            raise ValidationError("max_metres must be greater than 0")
        self.network = network
        self.max_metres = float(max_metres)
        self._tree = cKDTree(network.node_xy)

    @functools.cached_property
    def _towards_destinations(self) -> csr_matrix:
        """The graph a search from destinations walks: reversed on a directed (driving) graph,
        so that its paths run *to* the destinations; built once per provider."""
        graph = self.network.graph
        return graph.T.tocsr() if self.network.directed else graph

    def describe(self) -> str:
        """Which distance was used, for notes and reports."""
        return f"along {self.network.describe()}"

    def snap(self, points: np.ndarray) -> SnapReport:
        """The nearest node of every point and the straight-line metres to it."""
        points = np.asarray(points, dtype=float).reshape(-1, 2)
        if len(points) == 0:
            return SnapReport(np.array([], dtype=np.int64), np.array([], dtype=float))
        metres, node = self._tree.query(points)
        return SnapReport(node.astype(np.int64), metres)

    def check_covers(self, points: np.ndarray, *, what: str = "small areas") -> SnapReport:
        """Snap the authority's points; raise if the network does not cover the authority.

        Raises
        ------
        ValidationError
            When fewer than 80% of the points are within 250 m of a street (the message gives
            the share that snapped).
        """
        report = self.snap(points)
        if len(points) and (~report.far).mean() < MIN_COVERED_SHARE:
            near = int((~report.far).sum())
            raise ValidationError(
                f"{self.network.source}: the street network does not cover the authority: only "
                f"{near} of {len(points)} {what} ({near / len(points):.0%}) are within "
                f"{FAR_SNAP_METRES:.0f} m of a street in it (the median is "
                f"{np.median(report.metres):,.0f} m away); give an extract that covers the whole "
                "authority and its surroundings (a county extract), in the right place"
            )
        return report

    def _paths(self, sources: np.ndarray, targets: np.ndarray, limit: float) -> np.ndarray:
        """Shortest path metres from each unique source node to each target node."""
        out = np.empty((len(sources), len(targets)))
        graph = self.network.graph
        for start in range(0, len(sources), _BATCH):
            chunk = sources[start : start + _BATCH]
            found = dijkstra(graph, directed=self.network.directed, indices=chunk, limit=limit)
            out[start : start + len(chunk)] = found[:, targets]
        return out

    def matrix(
        self,
        origins: np.ndarray,
        destinations: np.ndarray,
        *,
        complete: bool = True,
        max_metres: float | None = None,
    ) -> np.ndarray:
        """Network metres from every origin to every destination (``inf`` beyond the limit).

        Parameters
        ----------
        origins, destinations : ndarray
            ``(n, 2)`` and ``(m, 2)`` points in EPSG:27700.
        complete : bool
            Also find each origin's nearest destination when none is within the limit.
        max_metres : float, optional
            Search limit; default the provider's; ``np.inf`` searches the whole graph.
        """
        origins = np.asarray(origins, dtype=float).reshape(-1, 2)
        destinations = np.asarray(destinations, dtype=float).reshape(-1, 2)
        n, m = len(origins), len(destinations)
        if n == 0 or m == 0:
            return np.empty((n, m))
        limit = self.max_metres if max_metres is None else float(max_metres)
        here, there = self.snap(origins), self.snap(destinations)
        # Search from the smaller set of unique nodes (on a directed graph, from the origins).
        o_nodes, o_back = np.unique(here.node, return_inverse=True)
        d_nodes, d_back = np.unique(there.node, return_inverse=True)
        if self.network.directed or len(o_nodes) <= len(d_nodes):
            paths = self._paths(o_nodes, d_nodes, limit)[o_back][:, d_back]
        else:
            paths = self._paths(d_nodes, o_nodes, limit)[d_back][:, o_back].T
        metres = here.metres[:, None] + paths + there.metres[None, :]
        if complete:
            missing = np.flatnonzero(~np.isfinite(metres).any(axis=1))
            if len(missing):
                index, far = self._nearest_anywhere(here, missing, there)
                metres[missing, index] = far
        return metres

    def nearest(
        self, origins: np.ndarray, destinations: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each origin's nearest destination along the network, at any distance, and its metres.

        One multi-source Dijkstra from every destination over the whole graph (no search
        limit), as :func:`planning.analysis.distance.nearest` is for straight lines. Between
        destinations at one node the first listed is taken.
        """
        origins = np.asarray(origins, dtype=float).reshape(-1, 2)
        destinations = np.asarray(destinations, dtype=float).reshape(-1, 2)
        if len(origins) == 0 or len(destinations) == 0:
            return np.zeros(len(origins), dtype=np.int64), np.full(len(origins), np.inf)
        here, there = self.snap(origins), self.snap(destinations)
        return self._nearest_anywhere(here, np.arange(len(origins)), there)

    def nearest_in_groups(
        self, origins: np.ndarray, destinations: np.ndarray, groups: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Per group of destinations, every origin's metres to the group's nearest, at any
        distance (``inf`` if none is connected or the group is empty).

        ``groups`` maps a name to a boolean mask over ``destinations`` (the sites offering one
        service). One Dijkstra per distinct mask over the whole graph, from a virtual node
        joined to each of the group's nodes by its snap leg, so that

            ``d(a, group) = snap(a) + min over b in group of (path(node(a), node(b)) + snap(b))``

        exactly, snap legs included (a multi-source search adds them only afterwards). This is
        the same figure as the smallest of :meth:`matrix` over the group with no search limit,
        but costs one search per group rather than one per destination: a county's service
        figures search about 12 groups instead of every one of its 70 sites.
        """
        origins = np.asarray(origins, dtype=float).reshape(-1, 2)
        destinations = np.asarray(destinations, dtype=float).reshape(-1, 2)
        here, there = self.snap(origins), self.snap(destinations)
        by_mask: dict[bytes, np.ndarray] = {}
        out: dict[str, np.ndarray] = {}
        for name, mask in groups.items():
            mask = np.asarray(mask, dtype=bool).reshape(len(destinations))
            key = mask.tobytes()
            if key not in by_mask:
                by_mask[key] = self._from_group(here, there, mask)
            out[name] = by_mask[key]
        return out

    def _from_group(self, here: SnapReport, there: SnapReport, mask: np.ndarray) -> np.ndarray:
        """Metres from each origin to the nearest destination in ``mask``: one Dijkstra from a
        virtual node (see :meth:`nearest_in_groups`)."""
        if not mask.any() or len(here.node) == 0:
            return np.full(len(here.node), np.inf)
        graph = self._towards_destinations
        n = graph.shape[0]
        # One edge per node (the CSR constructor would sum duplicates): the shortest snap leg
        # of the group's destinations there. Every edge carries _VIRTUAL_LEG more so that a
        # destination on its node (snap 0) is not an explicit zero, which csgraph drops;
        # it is taken off again below. A shortest path never returns to its source, so the
        # virtual node cannot join two destinations on an undirected graph.
        nodes, first = np.unique(there.node[mask], return_inverse=True)
        legs = np.full(len(nodes), np.inf)
        np.minimum.at(legs, first, there.metres[mask])
        indptr = np.append(graph.indptr, graph.indptr[-1] + len(nodes))
        augmented = csr_matrix(
            (
                np.concatenate([graph.data, legs + _VIRTUAL_LEG]),
                np.concatenate([graph.indices, nodes.astype(graph.indices.dtype)]),
                indptr,
            ),
            shape=(n + 1, n + 1),
        )
        found = dijkstra(augmented, directed=self.network.directed, indices=n)
        return here.metres + found[here.node] - _VIRTUAL_LEG

    def _nearest_anywhere(
        self, here: SnapReport, rows: np.ndarray, there: SnapReport
    ) -> tuple[np.ndarray, np.ndarray]:
        """Nearest destination of some origins with no limit: one multi-source Dijkstra.

        The search starts from every destination node at once (``min_only``); the destination
        listed first at the node reached is taken. Its snap leg is added afterwards, so between
        destinations whose paths differ by less than their snap legs the choice may not be the
        nearest by a few metres; it is only used for areas with no destination within reach.
        """
        sources = np.unique(there.node)
        found, _, source = dijkstra(
            self._towards_destinations,
            directed=self.network.directed,
            indices=sources,
            min_only=True,
            return_predecessors=True,
        )
        node = here.node[rows]
        reached = source[node]
        first: dict[int, int] = {}
        for position, at in enumerate(there.node):
            first.setdefault(int(at), position)
        index = np.array([first.get(int(at), 0) for at in reached], dtype=np.int64)
        metres = here.metres[rows] + found[node] + there.metres[index]
        return index, metres

    def pairs_within(
        self, origins: np.ndarray, destinations: np.ndarray, max_metres: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All pairs no more than ``max_metres`` apart along the network (a sparse cost table,
        as :func:`planning.analysis.distance.pairs_within`)."""
        matrix = self.matrix(
            origins, destinations, complete=False, max_metres=max(max_metres, self.max_metres)
        )
        origin, destination = np.nonzero(matrix <= max_metres)
        return (
            origin.astype(np.int64),
            destination.astype(np.int64),
            matrix[origin, destination],
        )


def reach_by_band(areas: pd.DataFrame, centres: pd.DataFrame) -> pd.DataFrame:
    """Side by side: the share of under-5s within reach in a straight line and along the network,
    by deprivation band.

    ``areas`` is a network assessment's area table (``under5``, ``deprivation_band``,
    ``reach_standard_m``, ``within_reach`` measured along the network, and the area point) and
    ``centres`` the centres it was measured to (every one, neighbours' included: a
    :class:`planning.analysis.sufficiency.SufficiencyResult`'s ``supply``). The straight-line
    column is the assessment's rule without a network: the nearest centre in a straight line
    within the area's reach standard.

    Returns
    -------
    DataFrame
        Indexed by ``deprivation_band`` (plus ``All``): ``under5``,
        ``share_within_reach_straight``, ``share_within_reach_network`` and ``difference``
        (network minus straight line), and ``barrier_areas`` when the table has ``barrier``.
    """
    from planning.analysis.distance import area_points, centre_points, nearest

    _, straight = nearest(area_points(areas), centre_points(centres))
    frame = pd.DataFrame(
        {
            "band": areas["deprivation_band"].astype(str).to_numpy(),
            "under5": areas["under5"].to_numpy(float),
            "straight": areas["under5"].to_numpy(float)
            * (straight <= areas["reach_standard_m"].to_numpy(float)),
            "network": areas["under5"].to_numpy(float) * areas["within_reach"].to_numpy(bool),
            "barrier": areas["barrier"].to_numpy(bool) if "barrier" in areas else False,
        }
    )
    sums = frame.groupby("band", sort=True)[["under5", "straight", "network", "barrier"]].sum()
    sums.loc["All"] = sums.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "under5": sums["under5"],
                "share_within_reach_straight": sums["straight"] / sums["under5"],
                "share_within_reach_network": sums["network"] / sums["under5"],
            }
        )
    table["difference"] = table["share_within_reach_network"] - table["share_within_reach_straight"]
    if "barrier" in areas:
        table["barrier_areas"] = sums["barrier"].astype(int)
    table.index.name = "deprivation_band"
    return table
