"""Inputs that look valid but aren't (issue 10, section 4): encodings, folders, separators,
sites far from the authority, GeoPackage layers, formula-like names and geocoding at scale."""

from __future__ import annotations

import codecs
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planning import ValidationError
from planning.apps.cli import main
from planning.standards import load_standards
from planning.apps.dashboard.model import Dashboard
from planning.inputs.centres import (
    MAX_SITE_DISTANCE_M,
    _postcode_table,
    distance_from_authority,
    far_from_authority,
    lookup_postcodes,
    read_centres,
    safe_csv_frame,
    write_centres,
    write_csv,
)
from planning.analysis.scenarios import Scenario, ScenarioEngine, load_scenario
from planning.outputs.schedule import load_schedule

CENTRES = "id,name,easting,northing\nA,Caf\u00e9 Hub,436000,335000\nB,Branch,433000,336000\n"
STANDARDS = "# Standards for Derby: caf\u00e9 notes\nreach:\n  distance_km: 2.0\n"
SCENARIO = "name: Caf\u00e9 closes\nactions:\n  - close: CC03\n"


def write_bytes(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- encodings ------------------------------------------------------------------------------

ACCEPTED = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode("utf-8"),
    "utf-16 LE with BOM": lambda text: text.encode("utf-16"),  # Notepad's "Unicode"
    "utf-16 BE with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
}


@pytest.mark.parametrize("encoding", ACCEPTED)
def test_centres_csv_in_each_accepted_encoding_reads_the_same(tmp_path, encoding):
    path = write_bytes(tmp_path, "centres.csv", ACCEPTED[encoding](CENTRES))
    centres = read_centres(path)
    assert centres.index.tolist() == ["A", "B"]
    assert centres.loc["A", "name"] == "Caf\u00e9 Hub"
    assert centres.geometry.x.tolist() == [436_000, 433_000]


@pytest.mark.parametrize("encoding", ACCEPTED)
def test_standards_and_scenario_yaml_in_each_accepted_encoding(tmp_path, encoding):
    standards = load_standards(write_bytes(tmp_path, "s.yaml", ACCEPTED[encoding](STANDARDS)))
    assert standards.reach_km == 2.0
    scenario = load_scenario(write_bytes(tmp_path, "sc.yaml", ACCEPTED[encoding](SCENARIO)))
    assert scenario.name == "Caf\u00e9 closes"


@pytest.mark.parametrize(
    "load, name, text",
    [
        (load_standards, "standards.yaml", STANDARDS),
        (load_scenario, "scenario.yaml", SCENARIO),
        (lambda path: load_schedule(path), "schedule.yaml", "# caf\u00e9\n- authority: Derby\n"),
    ],
)
def test_windows_1252_yaml_is_refused_with_the_file_line_and_fix(tmp_path, load, name, text):
    path = write_bytes(tmp_path, name, text.encode("cp1252"))
    with pytest.raises(ValidationError) as info:
        load(path)
    message = str(info.value)
    assert name in message and "line 1 is not UTF-8 (byte 0xE9)" in message
    assert "save it as UTF-8" in message


def test_utf16_without_a_bom_is_refused(tmp_path):
    path = write_bytes(tmp_path, "centres.csv", CENTRES.encode("utf-16-le"))
    with pytest.raises(ValidationError, match="centres.csv: looks like UTF-16.*save it as UTF-8"):
        read_centres(path)


def test_csv_neither_utf8_nor_windows_1252_is_refused(tmp_path):
    # 0x81 is undefined in Windows-1252 and invalid as UTF-8: no reading of it is right.
    data = b"id,name,easting,northing\nA,Caf\x81,436000,335000\n"
    path = write_bytes(tmp_path, "centres.csv", data)
    with pytest.raises(ValidationError) as info:
        read_centres(path)
    message = str(info.value)
    assert "centres.csv: line 2 is not UTF-8 (byte 0x81)" in message
    assert "or Windows-1252" in message and "save it as UTF-8" in message


def test_windows_1252_csv_names_the_encoding_used(tmp_path):
    """GIAS extracts and Excel's plain CSV are Windows-1252: read, with a warning saying so."""
    path = write_bytes(tmp_path, "gias.csv", CENTRES.encode("cp1252"))
    with pytest.warns(UserWarning, match="gias.csv is not UTF-8; read it as Windows-1252"):
        centres = read_centres(path)
    assert centres.loc["A", "name"] == "Caf\u00e9 Hub"


def test_a_workbook_renamed_csv_is_named(tmp_path):
    path = write_bytes(tmp_path, "centres.csv", b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(ValidationError, match="centres.csv: is a ZIP archive .*Excel"):
        read_centres(path)


@pytest.mark.parametrize(
    "option, name, data",
    [
        ("--standards", "standards.yaml", STANDARDS.encode("cp1252")),
        ("--standards", "standards.yaml", STANDARDS.encode("utf-16-le")),
        ("--centres", "centres.csv", b"id,name,easting,northing\nA,\x81,436000,335000\n"),
    ],
)
def test_cli_undecodable_file_exits_2_without_a_traceback(tmp_path, capsys, option, name, data):
    path = write_bytes(tmp_path, name, data)
    assert main(["sufficiency", option, str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and name in err and "UTF-8" in err
    assert not (tmp_path / "out").exists()


# --- a folder where a file is expected ------------------------------------------------------


def test_folder_as_centres_file_says_it_is_a_folder(tmp_path):
    (tmp_path / "derby.csv").write_text(CENTRES, encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_centres(tmp_path)
    assert f"{tmp_path}: is a folder, not a centres file" in str(info.value)
    assert "it holds derby.csv" in str(info.value)


@pytest.mark.parametrize("load", [load_standards, load_scenario])
def test_folder_as_yaml_file_is_a_clear_error(tmp_path, load):
    with pytest.raises(ValidationError, match="is a folder, not a"):
        load(tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        ["sufficiency", "--standards", "{folder}"],
        ["sufficiency", "--centres", "{folder}"],
        ["scenario", "--scenario", "{folder}"],
        ["optimise", "--candidates", "{folder}"],
        ["reach", "--registrations", "{folder}"],
    ],
    ids=["standards", "centres", "scenario", "candidates", "registrations"],
)
def test_cli_folder_for_a_file_exits_2_without_a_traceback(tmp_path, capsys, args):
    folder = tmp_path / "inputs"
    folder.mkdir()
    argv = [a.replace("{folder}", str(folder)) for a in args]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder}: is a folder, not a ")
    assert not (tmp_path / "out").exists()


# --- separators -----------------------------------------------------------------------------


def test_semicolon_separated_csv_gets_a_hint(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text("id;name;latitude;longitude\nA;Hub;52,92;-1,47\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        read_centres(path)
    message = str(info.value)
    assert "centres.csv: looks semicolon-separated" in message
    assert "save it as comma-separated CSV" in message


def test_semicolons_inside_a_comma_csv_are_fine(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text(
        "id,name,easting,northing,services\nA,Hub,436000,335000,stay and play;midwifery\n",
        encoding="utf-8",
    )
    assert read_centres(path).loc["A", "services"] == "stay and play;midwifery"


# --- GeoPackage layers ----------------------------------------------------------------------


@pytest.fixture
def two_layers(tmp_path) -> Path:
    path = tmp_path / "many.gpkg"
    for layer, ids in (("centres", ["CC01", "CC02"]), ("schools", ["S1"])):
        gpd.GeoDataFrame(
            {"id": ids, "name": [f"{layer} {i}" for i in ids]},
            geometry=[shapely.Point(436_000 + 500 * i, 335_000) for i in range(len(ids))],
            crs=27700,
        ).to_file(path, layer=layer)
    return path


def test_unknown_layer_lists_the_layers(two_layers):
    with pytest.raises(ValidationError, match="many.gpkg: has no layer 'centre'; its layers are "
                       "centres, schools"):
        read_centres(two_layers, layer="centre")


def test_several_layers_message_names_the_cli_option(two_layers):
    with pytest.raises(ValidationError, match="--layer NAME"):
        read_centres(two_layers)


def test_cli_layer_option_picks_the_layer(tmp_path, two_layers, capsys):
    out = tmp_path / "out"
    assert main(["sufficiency", "--centres", str(two_layers), "--layer", "centres",
                 "--out", str(out)]) == 0  # fmt: skip
    written = pd.read_csv(out / "centres.csv")
    assert written.loc[~written["neighbour"], "centre_id"].tolist() == ["CC01", "CC02"]


# --- far from the authority: one rule for centres files, scenarios and the dashboard ---------

TRURO = {"latitude": 50.263, "longitude": -5.051}  # Cornwall, some 380 km from Derby
CHANNEL = {"latitude": 50.0, "longitude": -1.0}  # in the sea, inside England's box


def test_distance_is_zero_inside_and_grows_outside(derby_areas):
    x, y = derby_areas.geometry.union_all().representative_point().coords[0]
    metres = distance_from_authority(derby_areas, [x, x + 50_000, np.nan], [y, y, y])
    assert metres[0] == 0
    assert 30_000 < metres[1] < 50_000 and np.isnan(metres[2])
    assert far_from_authority(derby_areas, [x], [y]) == [None]


@pytest.mark.parametrize("where", [TRURO, CHANNEL], ids=["another region", "the sea"])
def test_centre_far_from_the_authority_is_refused_with_the_distance(tmp_path, derby_areas, where):
    path = tmp_path / "centres.csv"
    path.write_text(
        "id,name,latitude,longitude\nA,Near,52.92,-1.47\n"
        f"B,Far,{where['latitude']},{where['longitude']}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationError) as info:
        read_centres(path, areas=derby_areas)
    message = str(info.value)
    assert message.startswith("centres.csv: row 3: centre B is ")
    assert " km from Derby; choose a site within 10 km of the authority" in message
    assert "row 2" not in message
    # Without the authority's areas there is nothing to measure from: read as before.
    assert len(read_centres(path)) == 2


def test_neighbours_centre_near_the_border_is_kept(tmp_path, derby_areas):
    path = tmp_path / "centres.csv"
    path.write_text(
        "id,name,easting,northing\nN,Neighbour,446000,335000\nD,Derby,435054,334727\n",
        encoding="utf-8",
    )
    centres = read_centres(path, areas=derby_areas)  # half outside: no warning
    assert not centres.loc["N", "in_authority"] and centres.loc["D", "in_authority"]
    assert 0 < distance_from_authority(derby_areas, [446_000], [335_000])[0] < MAX_SITE_DISTANCE_M


def test_a_file_whose_centres_are_mostly_outside_is_warned_about(tmp_path, derby_areas):
    # Issue 11 section 4: most listed centres outside the authority is usually the wrong file.
    path = tmp_path / "centres.csv"
    path.write_text(
        "id,name,easting,northing\nN1,Neighbour 1,446000,335000\nN2,Neighbour 2,446000,334000\n"
        "D,Derby,435054,334727\n",
        encoding="utf-8",
    )
    with pytest.warns(UserWarning, match="2 of 3 centres lie outside the authority"):
        read_centres(path, areas=derby_areas)


@pytest.fixture(scope="module")
def derby_centres(derby_areas, derby_centres_file):
    return read_centres(derby_centres_file, areas=derby_areas)


@pytest.mark.parametrize("action", ["open", "move"])
def test_scenario_site_far_from_the_authority_is_refused(derby_areas, derby_centres, action):
    engine = ScenarioEngine(derby_areas, derby_centres, area_candidates=False)
    scenario = (
        Scenario("far").open("NEW1", name="Truro", **TRURO)
        if action == "open"
        else Scenario("far").move("CC05", **TRURO)
    )
    with pytest.raises(ValidationError) as info:
        engine.evaluate(scenario)
    message = str(info.value)
    assert "action 1" in message and "latitude 50.263, longitude -5.051" in message
    assert " km from Derby; choose a site within 10 km of the authority" in message


def test_the_three_places_give_the_same_distance(tmp_path, derby_areas, derby_centres):
    """Centres file, scenario and dashboard use one rule, so they quote the same figure."""
    path = tmp_path / "centres.csv"
    path.write_text(f"id,name,latitude,longitude\nB,Far,{TRURO['latitude']},"
                    f"{TRURO['longitude']}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError) as from_file:
        read_centres(path, areas=derby_areas)
    engine = ScenarioEngine(derby_areas, derby_centres, area_candidates=False)
    with pytest.raises(ValidationError) as from_scenario:
        engine.evaluate(Scenario("far").open("NEW1", **TRURO))
    board = Dashboard(derby_areas, derby_centres, authority_code="E06000015",
                      authority_name="Derby")  # fmt: skip
    with pytest.raises(ValidationError) as from_dashboard:
        board.add_site(**TRURO)

    def distance(error: pytest.ExceptionInfo) -> str:
        return str(error.value).split(" is ")[-1].split(" km from")[0]

    figures = {distance(e) for e in (from_file, from_scenario, from_dashboard)}
    assert len(figures) == 1 and float(figures.pop().replace(",", "")) > 300


# --- formula-like names in CSV outputs ------------------------------------------------------


def test_safe_csv_frame_neutralises_formula_text_only():
    frame = pd.DataFrame(
        {
            "name": ["=HYPERLINK(\"http://x\")", "+44 1332", "-cmd", "@SUM(A1)", "Hub", None],
            "number_as_text": ["-1.5", "+2", "3", "-4e3", "", "x"],
            "count": [-1, 2, 3, 4, 5, 6],
            "band": pd.Categorical(["-ve", "ok", "ok", "ok", "ok", "ok"]),
        },
        index=pd.Index(["=A1", "b", "c", "d", "e", "f"], name="locality"),
    )
    safe = safe_csv_frame(frame)
    assert safe["name"].tolist()[:5] == [
        "'=HYPERLINK(\"http://x\")", "'+44 1332", "'-cmd", "'@SUM(A1)", "Hub"
    ]
    assert pd.isna(safe["name"].iloc[5])
    assert safe["number_as_text"].tolist() == frame["number_as_text"].tolist()
    assert safe["count"].tolist() == frame["count"].tolist()
    assert safe["band"].tolist()[:2] == ["'-ve", "ok"]
    assert safe.index[0] == "'=A1" and safe.index.name == "locality"
    assert frame.loc["=A1", "name"].startswith("=")  # the input is not changed


def test_write_csv_neutralises(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"name": ["=1+1"]}), path, index=False)
    assert path.read_text(encoding="utf-8").splitlines()[1] == "'=1+1"


def test_written_centres_cannot_run_as_formulas_and_read_back_as_given(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text(
        'id,name,easting,northing,locality\nA,"=HYPERLINK(""http://x"",""Hub"")",436000,335000,'
        "@North\nB,-Branch,433000,336000,+South\n",
        encoding="utf-8",
    )
    centres = read_centres(path)
    out = write_centres(centres, tmp_path / "out.csv")
    cells = pd.read_csv(out, dtype=str, keep_default_na=False)
    for column in ("name", "locality"):
        assert not cells[column].str.match(r"[=+\-@]").any()
    assert cells["name"].tolist() == ['\'=HYPERLINK("http://x","Hub")', "'-Branch"]
    again = read_centres(out)
    assert again["name"].tolist() == centres["name"].tolist()
    assert again["locality"].tolist() == ["@North", "+South"]


# --- geocoding at scale ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def many_postcodes() -> list[str]:
    codes = _postcode_table("D").index.to_numpy(str)
    codes = codes[np.char.startswith(codes, "DE")]
    chosen = np.random.default_rng(7).choice(codes, size=50_000)
    typed = [f"{c[:-3]} {c[-3:]}".lower() if i % 2 else c for i, c in enumerate(chosen)]
    return typed + ["DE99 9ZZ", "not a postcode", "de23 6wy"]


def test_geocoding_fifty_thousand_postcodes_in_one_look_up(many_postcodes):
    # Speed is measured in benchmarks/bench_geocode.py; here: the same answers at scale.
    found = lookup_postcodes(many_postcodes)
    assert found.index.tolist() == many_postcodes
    assert found["status"].iloc[-3:].tolist() == ["unknown", "invalid", "found"]
    assert found.iloc[-1][["postcode", "easting", "northing"]].tolist() == [
        "DE23 6WY", 435054.0, 334727.0
    ]
    # Same answer as one postcode at a time, on a sample.
    sample = many_postcodes[::5_000]
    one_by_one = pd.concat([lookup_postcodes([p]) for p in sample])
    pd.testing.assert_frame_equal(found.iloc[::5_000], one_by_one)


def test_unknown_postcodes_keep_file_row_and_fix(tmp_path):
    path = tmp_path / "centres.csv"
    path.write_text(
        "id,name,postcode\nA,a,DE23 6WY\nB,b,DE99 9ZZ\nC,c,XX\n", encoding="utf-8"
    )
    with pytest.raises(ValidationError) as info:
        read_centres(path)
    message = str(info.value)
    assert "row 3: postcode 'DE99 9ZZ' is not in the ONS Postcode Directory; check it" in message
    assert "row 4: postcode 'XX' is not a valid UK postcode" in message
