"""Shared fixtures: the toy town (answers computed by hand) and Derby's real data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planning import load_areas, toy_town

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def make_centres(points: dict[str, tuple[float, float]], **columns: list) -> gpd.GeoDataFrame:
    """Centres frame from {id: (easting, northing)} plus optional columns."""
    ids = list(points)
    frame = pd.DataFrame({"name": [f"Centre {i}" for i in ids], **columns}, index=pd.Index(ids, name="centre_id"))
    return gpd.GeoDataFrame(
        frame, geometry=[shapely.Point(*points[i]) for i in ids], crs="EPSG:27700"
    )


@pytest.fixture
def strip_town() -> gpd.GeoDataFrame:
    """Five 1 km cells in a row; points at x0+500 .. x0+4500; under-5s 100..500; deciles 1,2,5,8,10."""
    return toy_town(rows=1, columns=5, under5=[100, 200, 300, 400, 500], imd_decile=[1, 2, 5, 8, 10])


@pytest.fixture(scope="session")
def derby_areas() -> gpd.GeoDataFrame:
    return load_areas("E06000015")


@pytest.fixture(scope="session")
def derby_centres_file() -> Path:
    return REPO / "data" / "centres" / "derby_illustrative.csv"
