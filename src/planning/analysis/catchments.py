"""Catchments: which centre serves each small area, and the localities centres belong to."""

from __future__ import annotations

from typing import Any

import pandas as pd

from planning.analysis.distance import area_points, centre_points, nearest


def assign_catchments(
    areas: pd.DataFrame, centres: pd.DataFrame, *, distances: Any = None
) -> pd.DataFrame:
    """Assign every area to its nearest centre, measured from a point inside the area.

    Straight-line distance in EPSG:27700 from the area's point (see
    :func:`planning.analysis.distance.area_points`) to each centre, or, with ``distances`` (a
    provider such as :class:`planning.analysis.network_distance.NetworkDistances`), the
    distance its ``matrix`` gives (along the street network); ties go to the centre listed
    first. Centres outside the authority count (Childcare Act 2006 s.5A(3)).

    Returns
    -------
    DataFrame
        Aligned to ``areas.index``: ``centre_id``, ``distance_m``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from planning import toy_town
    >>> town = toy_town(rows=1, columns=3)
    >>> centres = gpd.GeoDataFrame(
    ...     index=pd.Index(["A"], name="centre_id"),
    ...     geometry=[shapely.Point(430_500, 335_500)], crs="EPSG:27700")
    >>> assign_catchments(town, centres)["distance_m"].tolist()
    [0.0, 1000.0, 2000.0]
    """
    origins, destinations = area_points(areas), centre_points(centres)
    matrix = distances.matrix(origins, destinations) if distances is not None else None
    index, metres = nearest(origins, destinations, distances=matrix)
    return pd.DataFrame(
        {"centre_id": centres.index.to_numpy()[index], "distance_m": metres},
        index=areas.index,
    )


def centre_localities(centres: pd.DataFrame) -> pd.Series:
    """Locality of each centre: the centres file's ``locality`` or, if blank, the centre's name."""
    names = centres["name"] if "name" in centres else pd.Series(centres.index, index=centres.index)
    if "locality" not in centres:
        return names.astype(str).rename("locality")
    locality = centres["locality"].astype("string").str.strip()
    return locality.mask(locality.isna() | (locality == ""), names.astype(str)).astype(str)
