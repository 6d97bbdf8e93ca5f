"""Illustrative centres: the rule on a toy town, the shipped files, and resolving centres."""

from __future__ import annotations

import importlib.util
import tempfile

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planning import ValidationError, toy_town
from planning.inputs.illustrative import (
    UNDER5_PER_SITE,
    illustrative_centres,
    illustrative_centres_path,
    locality_names,
    resolve_centres,
)
from planning.inputs.centres import read_centres

from conftest import DATA, REPO


@pytest.fixture
def town() -> gpd.GeoDataFrame:
    """6x6 grid of 1 km cells, 4 x 1,580 under-5s in all; the west half in IMD decile 1."""
    under5 = np.full(36, 4 * UNDER5_PER_SITE / 36)
    deciles = np.tile([1, 1, 1, 9, 9, 9], 6)
    return toy_town(rows=6, columns=6, under5=under5, imd_decile=deciles)


def test_one_site_per_1580_under5s_at_area_points(town):
    sites = illustrative_centres(town)
    assert len(sites) == 4
    assert sites.index.tolist() == ["CC01", "CC02", "CC03", "CC04"]
    assert (sites["source"] == "illustrative").all() and sites["capacity"].isna().all()
    points = set(zip(town["point_easting"], town["point_northing"]))
    assert set(zip(sites.geometry.x, sites.geometry.y)) <= points  # snapped to where people live
    assert sites.geometry.y.is_monotonic_decreasing  # numbered north to south
    assert sites["name"].str.match(r"Illustrative site \d \(near Ward \d\)").all()
    assert sites.crs == town.crs


def test_localities_and_hubs_follow_derby_proportions(town):
    sites = illustrative_centres(town, 10)
    assert sites["locality"].nunique() == 3
    assert (sites["kind"] == "hub").sum() == 6
    assert (sites.loc[sites["kind"] == "hub", "services"] == "family hub core offer").all()
    # Hubs go where the deprived under-5s are: the west half of the town.
    hubs = sites[sites["kind"] == "hub"].geometry.x
    branches = sites[sites["kind"] == "branch"].geometry.x
    assert hubs.mean() < branches.mean()


def test_same_input_same_sites(town):
    first, second = illustrative_centres(town), illustrative_centres(town)
    assert first.equals(second)


def test_anchor_replaces_the_nearest_site(town):
    sites = illustrative_centres(town)
    target = sites.index[2]
    near = sites.geometry[target]
    anchors = gpd.GeoDataFrame(
        {"name": ["Known base"], "postcode": ["DE1 1AA"]},
        geometry=[shapely.Point(near.x + 10, near.y - 10)],
        crs=town.crs,
    )
    anchored = illustrative_centres(town, anchors=anchors)
    assert anchored.loc[target, "name"] == "Known base"
    assert anchored.loc[target, "postcode"] == "DE1 1AA"
    assert anchored.geometry[target].equals(anchors.geometry.iloc[0])
    assert anchored.drop(index=target)["name"].str.startswith("Illustrative").all()


def test_bad_inputs_are_reported(town):
    with pytest.raises(ValidationError, match="between 1 and the number of areas"):
        illustrative_centres(town, 37)
    with pytest.raises(ValidationError, match="under5"):
        illustrative_centres(town.drop(columns="under5"))
    with pytest.raises(ValidationError, match="no under-5s"):
        illustrative_centres(town.assign(under5=0.0))
    wgs84 = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(-1.5, 52.9)], crs=4326)
    with pytest.raises(ValidationError, match="to_crs"):
        illustrative_centres(town, anchors=wgs84)


def test_locality_names_are_unique():
    assert locality_names(np.array([[0.0, 5_000.0], [4_000.0, 0.0], [200.0, 0.0]])) == [
        "North", "East", "Central"
    ]  # fmt: skip
    # Both north on 4 points: 8-point names for all; numbered when those clash too.
    names = locality_names(np.array([[3_000.0, 5_000.0], [-3_000.0, 5_000.0]]))
    assert names == ["North East", "North West"]
    names = locality_names(np.array([[500.0, 5_000.0], [-500.0, 5_000.0]]))
    assert names == ["North 1", "North 2"]


def _script():
    path = REPO / "scripts" / "make_illustrative_centres.py"
    spec = importlib.util.spec_from_file_location("make_illustrative_centres", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("authority", ["Derby", "Thurrock"])
def test_shipped_files_are_what_the_script_writes(authority, tmp_path):
    out = tmp_path / "sites.csv"
    _script().main(["--authority", authority, "--out", str(out)])
    shipped = illustrative_centres_path(authority)
    assert shipped.parent == DATA / "centres"
    assert out.read_bytes() == shipped.read_bytes()


def test_thurrock_file_is_read_back_inside_thurrock():
    from planning import load_areas

    areas = load_areas("E06000034")
    centres = read_centres(illustrative_centres_path("E06000034"), areas=areas)
    assert len(centres) == round(areas["under5"].sum() / UNDER5_PER_SITE) == 8
    assert centres["in_authority"].all()
    assert (centres["source"] == "illustrative").all()


def test_resolve_centres(tmp_path, monkeypatch):
    given = tmp_path / "mine.csv"
    given.write_text("centre_id,name,easting,northing\nA,One,435000,335000\n")
    assert resolve_centres("Derby", given) == given
    with pytest.raises(ValidationError, match="not found"):
        resolve_centres("Derby", tmp_path / "missing.csv")
    assert resolve_centres("E06000015") == DATA / "centres" / "derby_illustrative.csv"
    assert resolve_centres("Thurrock").name == "thurrock_illustrative.csv"
    # No file shipped for Rutland: sites are made now, in the temporary folder.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made = resolve_centres("Rutland")
    assert made.parent == tmp_path / "planning-illustrative" and made.exists()
    assert "illustrative" in made.read_text()
    assert resolve_centres("Rutland").read_bytes() == made.read_bytes()
    assert [p.name for p in made.parent.iterdir()] == [made.name]  # no staging files left
