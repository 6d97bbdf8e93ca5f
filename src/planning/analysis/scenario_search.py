"""The scenario engine's searches along a street network, beyond the largest reach.

Along a street network (:class:`planning.analysis.network_distance.NetworkDistances`) the
scenario engine's distance matrix holds paths searched only as far as the largest reach
(``inf`` beyond, except each area's nearest site). :class:`StreetSearch` keeps how far, and
with how many sites, each area has been searched since, and searches further when a scenario
leaves an area with no open site within the reach, so its nearest is exact: what a fresh
assessment finds. The matrix itself is the engine's
(:attr:`planning.analysis.scenarios.ScenarioEngine.distance`), passed in and updated in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from planning.analysis.distance import nearest as nearest_centre

if TYPE_CHECKING:
    from planning.analysis.network_distance import NetworkDistances

__all__ = ["StreetSearch"]


#: A street route is at least this share of the straight line between its ends (1 in theory;
#: the margin covers lengths measured on the ellipsoid and rounded, as in an osmnx GraphML).
_STREET_SLACK = 0.9


class StreetSearch:
    """How far each area's paths have been searched along the streets, and the searches that
    extend them.

    Parameters
    ----------
    distances : NetworkDistances
        The street network's distances, searched as far as ``distances.max_metres`` at first.
    area_xy : ndarray
        The ``(n, 2)`` points of the engine's areas: the rows of its distance matrix.

    The methods take the engine's distance matrix (``distance``: areas x sites, written in
    place) and its sites' points (``site_xy``, one row per column), which grow as new sites are
    seen.
    """

    def __init__(self, distances: NetworkDistances, area_xy: np.ndarray) -> None:
        self.distances = distances
        self.area_xy = area_xy
        # For each area, how many sites' distances were searched beyond the reach, and how far
        # (see :meth:`settle_far_areas`).
        self.sites = np.zeros(len(area_xy), dtype=np.int64)
        self.radius = np.zeros(len(area_xy))

    def past_one_closure(self, distance: np.ndarray, site_xy: np.ndarray, *, current: int) -> None:
        """Search each area far enough to know its two nearest current sites (the first
        ``current`` columns), once, at set-up (in place).

        Paths are searched as far as the largest reach; an area with one current site or none
        within it would need a longer search the first time its nearest centre closes
        (:meth:`settle_far_areas`), tens of milliseconds on a county's streets, when a
        councillor first switches that centre off. Searching those areas now, twice the reach
        and doubling until each has two current sites known, makes every single closure read
        known distances: the nearest remaining site is within the searched radius, so it is
        exact. It costs the engine's set-up what the first closures would have cost.
        """
        columns = np.arange(current)  # the current centres are the first columns
        if len(columns) < 2:
            return
        rows = np.flatnonzero(np.isfinite(distance[:, columns]).sum(axis=1) < 2)
        self.further(
            distance,
            site_xy,
            rows,
            2 * self.distances.max_metres,
            lambda found: np.isfinite(found[:, columns]).sum(axis=1) >= 2,
        )

    def further(
        self,
        distance: np.ndarray,
        site_xy: np.ndarray,
        rows: np.ndarray,
        radius: float,
        enough: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        """Search the areas ``rows`` to every site as far as ``radius`` along the streets,
        doubling it (up to 32 times the reach, then with no limit) for the rows where
        ``enough(found)`` is still false; keep every distance found (exact: an earlier, longer
        search's stay too) and record how far, and with how many sites, each row was searched.
        A search costs about its radius squared, so each row stops as soon as it has enough."""
        while len(rows):
            found = self.distances.matrix(
                self.area_xy[rows], site_xy, complete=False, max_metres=radius
            )
            distance[rows] = np.where(np.isfinite(found), found, distance[rows])
            self.sites[rows] = len(site_xy)
            self.radius[rows] = radius
            if np.isinf(radius):
                break
            rows = rows[~enough(found)]
            radius = 2 * radius if radius < 32 * self.distances.max_metres else np.inf

    def settle_far_areas(
        self,
        distance: np.ndarray,
        site_xy: np.ndarray,
        columns: np.ndarray,
        nearest: np.ndarray,
        metres: np.ndarray,
    ) -> np.ndarray:
        """Make each area's nearest open site (of the sites ``columns``) exact beyond the
        searched reach (``nearest`` and ``metres`` in place); return the areas searched again.

        Paths are searched only as far as the largest reach (``distances.max_metres``): within
        it every distance is known, so a nearest site found within it is the nearest. An area
        whose nearest open site is further (a closure left none nearby, or its only site was
        always far) may have a nearer site whose distance was never searched (``inf``): its
        distances to every site are searched again as far as its nearest found, once (kept,
        so the next scenario reads them), and its nearest is chosen again. This is what a
        fresh assessment finds (:meth:`NetworkDistances.matrix` with ``complete``).

        Only an open site whose distance is unknown can be nearer, and not one whose straight
        line alone exceeds the area's nearest by more than :data:`_STREET_SLACK` allows: along
        the streets it can only be further (a street is never shorter than the straight line
        between its ends), so a far-off new site costs no search.

        The areas searched again have new distances to the current network too: the engine's
        cached nearest current centres of those rows are to be chosen again (a tie beyond the
        reach may now be seen).
        """
        far = np.flatnonzero(metres > self.distances.max_metres)
        if not len(far):
            return far
        # An open site might be nearer when its distance is unknown (inf: beyond what was
        # searched for this area) and its straight line is not already too long.
        unknown = ~np.isfinite(distance[np.ix_(far, columns)])
        unsearched = (columns[None, :] >= self.sites[far, None]) | (
            self.radius[far, None] < metres[far, None]
        )
        straight = np.hypot(
            self.area_xy[far, 0, None] - site_xy[columns, 0][None, :],
            self.area_xy[far, 1, None] - site_xy[columns, 1][None, :],
        )
        stale = (unknown & unsearched & (straight * _STREET_SLACK <= metres[far, None])).any(axis=1)
        rows = far[stale]
        for group in (rows[np.isfinite(metres[rows])], rows[~np.isfinite(metres[rows])]):
            if not len(group):
                continue
            # As far as the furthest nearest found; for areas with no open site known, twice
            # the reach, then doubling until each has one.
            radius = float(metres[group].max()) + 1.0
            if not np.isfinite(radius):
                radius = 2 * self.distances.max_metres
            self.further(
                distance,
                site_xy,
                group,
                radius,
                lambda found: np.isfinite(found[:, columns]).any(axis=1),
            )
        nearest[far], metres[far] = nearest_centre(
            self.area_xy[far],
            site_xy[columns],
            distances=distance[np.ix_(far, columns)],
        )
        return rows
