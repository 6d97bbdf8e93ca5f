"""Reading, checking and writing centres files (planning.inputs.centres)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely

from planning import settings
from planning._errors import CRSError, ValidationError
from planning.inputs.areas import load_areas
from planning.inputs.centres import (
    CENTRES_COLUMNS,
    CENTRES_CSV_COLUMNS,
    lookup_postcodes,
    read_centres,
    validate_centres,
    write_centres,
)

HEADER = "centre_id,name,postcode,easting,northing,latitude,longitude,capacity,kind\n"


@pytest.fixture(scope="module")
def derby() -> gpd.GeoDataFrame:
    return load_areas("E06000015")


def write(tmp_path: Path, text: str, name: str = "centres.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read_error(path: Path, error: type[Exception] = ValidationError) -> str:
    with pytest.raises(error) as info:
        read_centres(path)
    return str(info.value)


def geojson(tmp_path: Path, features: list[dict], name: str = "centres.geojson") -> Path:
    collection = {"type": "FeatureCollection", "features": features}
    return write(tmp_path, json.dumps(collection), name)


def feature(centre_id: str, geometry: dict | None, **properties: object) -> dict:
    return {
        "type": "Feature",
        "properties": {"id": centre_id, "name": f"Centre {centre_id}", **properties},
        "geometry": geometry,
    }


# --- reading good files -------------------------------------------------------------------


def test_reads_each_location_kind_and_defaults(tmp_path: Path, derby: gpd.GeoDataFrame) -> None:
    path = write(
        tmp_path,
        "ID,Name,Post Code,Lat,Lng,Easting,Northing,Capacity,Hub or Branch,Services,Locality\n"
        "A1,Base,de23 6wy,,,,,20,HUB,stay and play;health visiting,South\n"
        "A2,By degrees,,52.92,-1.47,,,,Branch,,\n"
        "A3,By grid,,,,436000,335000,1.5,,,\n"
        "007,Outside,,,,446000,335000,,,,\n",  # 4.7 km beyond the boundary
    )
    centres = read_centres(path, areas=derby)
    assert list(centres.columns) == [*CENTRES_COLUMNS, "geometry"]
    assert centres.index.name == "centre_id"
    assert centres.index.tolist() == ["A1", "A2", "A3", "007"]  # ids stay text
    assert centres.crs == settings.WORKING_CRS
    assert centres["location_from"].tolist() == [
        "postcode",
        "latlon",
        "easting_northing",
        "easting_northing",
    ]
    assert centres["postcode"].tolist() == ["DE23 6WY", "", "", ""]
    assert centres["kind"].tolist() == ["hub", "branch", "", ""]
    assert centres.loc["A1", "services"] == "stay and play;health visiting"
    # Blank locality: the centre is its own locality.
    assert centres["locality"].tolist() == ["South", "By degrees", "By grid", "Outside"]
    assert centres.loc["A1", "capacity"] == 20.0
    assert np.isnan(centres.loc["A2", "capacity"])
    assert centres["source"].tolist() == ["", "", "", ""]
    assert centres["in_authority"].tolist() == [True, True, True, False]


def test_in_authority_is_na_without_areas(tmp_path: Path) -> None:
    centres = read_centres(write(tmp_path, "id,name,easting,northing\nA,a,436000,335000\n"))
    assert str(centres["in_authority"].dtype) == "boolean"
    assert centres["in_authority"].isna().all()


def test_blank_spreadsheet_rows_are_skipped_and_row_numbers_kept(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + ",,,,,,,,\nA,a,,436000,335000,,,,\n,,,,,,,,\nB,b,,,,,,,\n")
    message = read_error(path)
    assert "row 5: no location" in message  # header = 1, blank = 2, A = 3, blank = 4, B = 5


def test_postcode_geocoding_places_the_big_building_in_derby(derby: gpd.GeoDataFrame) -> None:
    found = lookup_postcodes(["de23 6wy"]).iloc[0]
    assert found["status"] == "found" and found["postcode"] == "DE23 6WY"
    point = shapely.Point(found["easting"], found["northing"])
    # Independent checks: 17-19 Lower Dale Road is in Derby's Arboretum ward, a few hundred
    # metres from the rough grid reference read off a map (434,500, 334,700).
    containing = derby[derby.covers(point)]
    assert len(containing) == 1
    assert containing["ward_name"].iloc[0] == "Arboretum"
    assert point.distance(shapely.Point(434_500, 334_700)) < 700
    # ONSPD gives unit postcodes to 1 m.
    assert (found["easting"], found["northing"]) == pytest.approx((435_054, 334_727), abs=1)


def test_latlon_matches_pyproj(tmp_path: Path) -> None:
    latitude, longitude = 52.9166, -1.4760
    centres = read_centres(
        write(tmp_path, f"id,name,latitude,longitude\nA,a,{latitude},{longitude}\n")
    )
    transformer = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    easting, northing = transformer.transform(longitude, latitude)
    point = centres.geometry.iloc[0]
    assert (point.x, point.y) == pytest.approx((easting, northing), abs=0.01)
    # And it is a plausible Derby grid reference, not a swapped or unprojected one.
    assert 430_000 < point.x < 440_000 and 330_000 < point.y < 340_000


def test_geojson_in_wgs84_is_reprojected(tmp_path: Path, derby: gpd.GeoDataFrame) -> None:
    path = geojson(
        tmp_path,
        [
            feature("G1", {"type": "Point", "coordinates": [-1.4760, 52.9166]}, capacity=12),
            # No geometry: falls back to the postcode attribute.
            feature("G2", None, postcode="DE23 6WY", kind="Hub"),
        ],
    )
    centres = read_centres(path, areas=derby)
    assert centres.crs == settings.WORKING_CRS
    assert centres["location_from"].tolist() == ["geometry", "postcode"]
    expected = gpd.GeoSeries([shapely.Point(-1.4760, 52.9166)], crs="EPSG:4326").to_crs(27700)
    assert centres.geometry.iloc[0].distance(expected.iloc[0]) < 0.01
    assert centres.loc["G1", "capacity"] == 12.0
    assert centres.loc["G2", "kind"] == "hub"
    assert centres["in_authority"].all()


def test_geopackage_in_british_national_grid(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"centre_id": ["P1", "P2"], "name": ["one", "two"], "capacity": [10.0, np.nan]},
        geometry=[shapely.Point(436_000, 335_000), shapely.Point(433_000, 336_000)],
        crs="EPSG:27700",
    )
    path = tmp_path / "centres.gpkg"
    frame.to_file(path)
    centres = read_centres(path)
    assert centres.index.tolist() == ["P1", "P2"]
    assert centres.geometry.x.tolist() == [436_000, 433_000]
    assert np.isnan(centres.loc["P2", "capacity"])


def test_geopackage_with_several_layers_needs_a_layer(tmp_path: Path) -> None:
    path = tmp_path / "many.gpkg"
    for layer, x in (("centres", 436_000), ("other", 433_000)):
        gpd.GeoDataFrame(
            {"id": ["L1"], "name": [layer]}, geometry=[shapely.Point(x, 335_000)], crs=27700
        ).to_file(path, layer=layer)
    message = read_error(path)
    assert "many.gpkg" in message and "centres, other" in message and "layer=" in message
    assert read_centres(path, layer="other").loc["L1", "name"] == "other"


# --- round trip ---------------------------------------------------------------------------


def test_write_then_read_is_identical(tmp_path: Path, derby: gpd.GeoDataFrame) -> None:
    source = write(
        tmp_path,
        "centre_id,name,postcode,easting,northing,capacity,services,locality,kind,source\n"
        "CC01,Base,DE23 6WY,435054,334727,40,family hub core offer;stay and play,South,hub,test\n"
        "CC02,\"Branch, with comma\",,436421.25,333546.125,,,South,branch,test\n"
        "CC03,Café,,437000.3333,335000.1,2.5,,,,\n",
        "source.csv",
    )
    first = read_centres(source, areas=derby)
    out = write_centres(first, tmp_path / "out.csv")
    assert pd.read_csv(out, dtype=str).columns.tolist() == list(CENTRES_CSV_COLUMNS)
    second = read_centres(out, areas=derby)
    pd.testing.assert_frame_equal(pd.DataFrame(second), pd.DataFrame(first))
    # And writing again gives the same bytes.
    again = write_centres(second, tmp_path / "again.csv")
    assert again.read_bytes() == out.read_bytes()


def test_round_trip_of_postcode_and_latlon_rows_keeps_the_points(tmp_path: Path) -> None:
    first = read_centres(
        write(tmp_path, "id,name,postcode,lat,lon\nA,a,DE23 6WY,,\nB,b,,52.9,-1.5\n")
    )
    second = read_centres(write_centres(first, tmp_path / "out.csv"))
    assert second["location_from"].tolist() == ["easting_northing", "easting_northing"]
    columns = [c for c in first.columns if c != "location_from"]
    pd.testing.assert_frame_equal(pd.DataFrame(second[columns]), pd.DataFrame(first[columns]))


def test_write_centres_needs_csv_suffix(tmp_path: Path) -> None:
    centres = read_centres(write(tmp_path, "id,name,easting,northing\nA,a,436000,335000\n"))
    with pytest.raises(ValidationError, match=r"out\.geojson.*\.csv"):
        write_centres(centres, tmp_path / "out.geojson")


# --- bad files: one ValidationError naming the file, the row and the fix ------------------


def test_missing_file(tmp_path: Path) -> None:
    message = read_error(tmp_path / "nowhere.csv")
    assert "nowhere.csv" in message and "not found" in message and "check the path" in message


def test_unsupported_suffix(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, "x", "centres.xlsx"))
    assert "centres.xlsx" in message and "CSV UTF-8" in message


@pytest.mark.parametrize("text", ["", HEADER, "\n"], ids=["zero-bytes", "header-only", "blank"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    message = read_error(write(tmp_path, text))
    assert "centres.csv: is empty" in message and "one row per centre" in message


def test_empty_geojson(tmp_path: Path) -> None:
    message = read_error(geojson(tmp_path, []))
    assert "centres.geojson: is empty" in message


def test_missing_name_column_suggests_near_match(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, "id,nme,easting,northing\nA,a,436000,335000\n"))
    assert "centres.csv" in message
    assert "missing column 'name'" in message and "rename it to 'name'" in message
    assert "'nme'" in message


def test_missing_id_column(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, "centreid,name,easting,northing\nA,a,436000,335000\n"))
    assert "missing column 'centre_id' (or 'id')" in message
    assert "found 'centreid': rename it to 'centre_id'" in message


def test_row_without_location(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, HEADER + "A,a,,436000,335000,,,,\nB,b,,,,,,,\n"))
    assert message.startswith("centres.csv: row 3: no location")
    assert "give easting and northing, latitude and longitude, or a postcode" in message


def test_half_a_coordinate_pair(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, HEADER + "A,a,,436000,,,,,\n"))
    assert "row 2: easting is given but northing is blank; give both" in message


def test_blank_id_and_name(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, HEADER + ",,,436000,335000,,,,\n"))
    assert "row 2: centre_id is blank; give each centre its own id" in message
    assert "row 2: name is blank" in message


def test_duplicate_ids_name_both_rows(tmp_path: Path) -> None:
    text = HEADER + "A,a,,436000,335000,,,,\nB,b,,436000,335000,,,,\nA,c,,436000,335000,,,,\n"
    message = read_error(write(tmp_path, text))
    assert "centres.csv: rows 2 and 4: centre_id 'A' is used 2 times" in message
    assert "give each centre its own id" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("lots", "row 2: capacity 'lots' is not a number; give a number"),
        ("-3", "row 2: capacity '-3' is negative; give the number of places (0 or more)"),
    ],
)
def test_bad_capacity(tmp_path: Path, value: str, expected: str) -> None:
    message = read_error(write(tmp_path, HEADER + f"A,a,,436000,335000,,,{value},\n"))
    assert message.startswith("centres.csv: ") and expected in message


def test_non_numeric_coordinate(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, HEADER + "A,a,,,,52.9N,-1.47,,\n"))
    assert "row 2: latitude '52.9N' is not a number" in message


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            {"latitude": "40.7", "longitude": "-74.0"},
            "latitude 40.7 and longitude -74.0 are outside England",
        ),
        (
            {"latitude": "-1.47", "longitude": "52.92"},
            "latitude -1.47 and longitude 52.92 look swapped",
        ),
        (
            {"easting": "700000", "northing": "100000"},
            "easting 700000 and northing 100000 are outside England",
        ),
        ({"easting": "-1.47", "northing": "52.92"}, "look like longitude/latitude in degrees"),
        ({"easting": "435", "northing": "334.7"}, "look like kilometres"),
        (
            {"latitude": "435000", "longitude": "334000"},
            "are not degrees: they look like British National Grid metres",
        ),
    ],
    ids=["latlon-outside", "latlon-swapped", "grid-outside", "grid-degrees", "grid-km", "deg-bng"],
)
def test_coordinates_not_in_england(tmp_path: Path, cells: dict[str, str], expected: str) -> None:
    columns = HEADER.strip().split(",")
    row = ",".join({"centre_id": "A", "name": "a", **cells}.get(c, "") for c in columns)
    message = read_error(write(tmp_path, HEADER + row + "\n"))
    assert message.startswith("centres.csv: row 2: ") and expected in message
    assert "; " in message.split(expected)[1]  # a fix follows


def test_unknown_postcode(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, HEADER + "A,a,DE99 9QQ,,,,,,\n"))
    assert message == (
        "centres.csv: row 2: postcode 'DE99 9QQ' is not in the ONS Postcode Directory; "
        "check it or give latitude/longitude"
    )


def test_postcode_without_grid_reference_is_not_found(tmp_path: Path) -> None:
    assert lookup_postcodes(["DA10 9ZZ"])["status"].iloc[0] == "no_grid_reference"
    message = read_error(write(tmp_path, HEADER + "A,a,DA10 9ZZ,,,,,,\n"))
    assert "row 2: postcode 'DA10 9ZZ'" in message and "without a grid reference" in message
    assert "give latitude/longitude" in message


def test_malformed_postcode(tmp_path: Path) -> None:
    message = read_error(write(tmp_path, HEADER + "A,a,n/a,,,,,,\n"))
    assert "row 2: postcode 'n/a' is not a valid UK postcode" in message


def test_unknown_kind(tmp_path: Path) -> None:
    text = "id,name,easting,northing,hub_or_branch\nA,a,436000,335000,spoke\n"
    message = read_error(write(tmp_path, text))
    assert "row 2: hub_or_branch 'spoke' is not a known kind; use one of hub, branch" in message


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    text = HEADER + "A,a,,,,,,lots,\nA,b,DE99 9QQ,,,,,,spoke\n"
    message = read_error(write(tmp_path, text))
    assert message.startswith("centres.csv: 5 problems:")
    for part in ("row 2: no location", "row 2: capacity", "row 3: kind 'spoke'",
                 "rows 2 and 3: centre_id 'A'", "row 3: postcode 'DE99 9QQ'"):
        assert part in message


def test_geojson_with_non_point_geometry(tmp_path: Path) -> None:
    square = [[[-1.48, 52.91], [-1.47, 52.91], [-1.47, 52.92], [-1.48, 52.91]]]
    path = geojson(
        tmp_path,
        [
            feature("G1", {"type": "Point", "coordinates": [-1.476, 52.9166]}),
            feature("G2", {"type": "Polygon", "coordinates": square}),
        ],
    )
    message = read_error(path)
    assert message.startswith("centres.geojson: feature 2: geometry is a Polygon")
    assert "must be a single Point" in message


def test_geojson_with_grid_coordinates_but_no_crs_member(tmp_path: Path) -> None:
    # RFC 7946 GeoJSON is longitude/latitude, so metres in it are a mistake to report.
    path = geojson(tmp_path, [feature("G1", {"type": "Point", "coordinates": [436000, 335000]})])
    message = read_error(path)
    assert "centres.geojson: feature 1: point (436000, 335000)" in message
    assert "British National Grid" in message and "EPSG:27700" in message


def test_geojson_with_swapped_axes(tmp_path: Path) -> None:
    path = geojson(tmp_path, [feature("G1", {"type": "Point", "coordinates": [52.9166, -1.476]})])
    message = read_error(path)
    assert "feature 1" in message and "look swapped" in message


def test_geopackage_without_crs(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["P1"], "name": ["one"]}, geometry=[shapely.Point(436_000, 335_000)]
    )
    path = tmp_path / "nocrs.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio: "'crs' was not provided"
        frame.to_file(path)
    message = read_error(path, CRSError)
    assert "nocrs.gpkg: has no coordinate reference system" in message
    assert "EPSG:27700" in message


def test_misspelt_optional_column_warns(tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,easting,northing,capcity\nA,a,436000,335000,5\n")
    with pytest.warns(UserWarning, match="column 'capcity' was ignored.*'capacity'"):
        centres = read_centres(path)
    assert np.isnan(centres.loc["A", "capacity"])


def test_excel_windows_1252_csv_is_read_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("id,name,easting,northing\nA,Caf\u00e9,436000,335000\n".encode("cp1252"))
    with pytest.warns(UserWarning, match="excel.csv is not UTF-8.*CSV UTF-8"):
        centres = read_centres(path)
    assert centres.loc["A", "name"] == "Caf\u00e9"


# --- frames built in code -----------------------------------------------------------------


def frame(crs: object = "EPSG:27700", **columns: object) -> gpd.GeoDataFrame:
    data = {"name": ["a", "b"], "capacity": [1.0, 2.0], **columns}
    return gpd.GeoDataFrame(
        data,
        index=pd.Index(["A", "B"], name="centre_id"),
        geometry=[shapely.Point(436_000, 335_000), shapely.Point(433_000, 336_000)],
        crs=crs,
    )


def test_validate_centres_accepts_a_good_frame() -> None:
    validate_centres(frame())


@pytest.mark.parametrize(
    ("crs", "expected"),
    [
        (None, "no coordinate reference system"),
        ("EPSG:4326", "geographic"),
        ("EPSG:3857", "not the working CRS"),
    ],
)
def test_validate_centres_wrong_crs(crs: str | None, expected: str) -> None:
    with pytest.raises(CRSError, match=expected) as info:
        validate_centres(frame(crs), source="my centres")
    assert str(info.value).startswith("my centres: ") and "to_crs" in str(info.value)


def test_validate_centres_collects_frame_problems() -> None:
    bad = frame(capacity=[-1.0, 2.0])
    bad.index = pd.Index(["A", "A"], name="centre_id")
    bad.loc[bad.index[1:], "geometry"] = None
    bad = bad.set_geometry(
        [shapely.Point(436_000, 335_000), shapely.box(0, 0, 1, 1)], crs="EPSG:27700"
    )
    with pytest.raises(ValidationError) as info:
        validate_centres(bad)
    message = str(info.value)
    assert message.startswith("centres: 3 problems")
    assert "duplicate centre ids A" in message
    assert "Polygon, not Point" in message
    assert "negative" in message


# --- the shipped illustrative file --------------------------------------------------------


def test_shipped_derby_file_reads_cleanly(derby: gpd.GeoDataFrame) -> None:
    centres = read_centres(settings.DEFAULT_CENTRES, areas=derby)
    assert len(centres) == 10
    assert centres.index.tolist() == [f"CC{i:02d}" for i in range(1, 11)]
    assert (centres["source"] == "illustrative").all()
    assert (centres["kind"] == "hub").sum() == 6 and (centres["kind"] == "branch").sum() == 4
    assert centres["in_authority"].all()
    assert centres["locality"].nunique() == 3
    base = centres[centres["name"] == "The Big Building (locality base)"]
    assert len(base) == 1 and base["postcode"].iloc[0] == "DE23 6WY"
    found = lookup_postcodes(["DE23 6WY"]).iloc[0]
    assert base.geometry.iloc[0].equals(shapely.Point(found["easting"], found["northing"]))
    assert set(centres["services"]) == {"family hub core offer", ""}


def test_areas_in_another_crs_are_refused_when_reading(tmp_path: Path) -> None:
    # Centres are read into EPSG:27700; areas in another CRS would be compared wrongly.
    from planning import toy_town

    areas = toy_town(rows=1, columns=2).drop(columns=["point_easting", "point_northing"])
    path = write(tmp_path, "id,name,easting,northing\nA,a,430500,335500\n")
    with pytest.raises(CRSError, match=r"areas are in EPSG:3857 but centres are in EPSG:27700"):
        read_centres(path, areas=areas.to_crs("EPSG:3857"))

