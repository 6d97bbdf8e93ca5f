"""Importing children's centres from a DfE "Get Information about Schools" (GIAS) extract.

The tests build a small extract with the register's real column names, written in
Windows-1252 as GIAS publishes it, with names that only survive the right decoding.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
import shapely

from planning._errors import ValidationError
from planning.apps.cli import main
from planning.inputs.areas import list_authorities
from planning.inputs.gias import DROP_REASONS, import_gias, is_gias_extract, la_name_key
from planning.inputs.centres import lookup_postcodes, read_centres

# The columns of a GIAS "all establishment data" extract, in the register's order (a subset).
HEADER = [
    "URN", "LA (code)", "LA (name)", "EstablishmentNumber", "EstablishmentName",
    "TypeOfEstablishment (code)", "TypeOfEstablishment (name)", "EstablishmentTypeGroup (code)",
    "EstablishmentTypeGroup (name)", "EstablishmentStatus (code)", "EstablishmentStatus (name)",
    "OpenDate", "CloseDate", "Street", "Town", "Postcode", "Easting", "Northing",
]  # fmt: skip

CENTRE = ("47", "Children's centre")
LINKED = ("48", "Children's centre linked site")
SCHOOL = ("01", "Community school")
OPEN, CLOSED = ("1", "Open"), ("2", "Closed")
PROPOSED_CLOSE, PROPOSED_OPEN = ("3", "Open, but proposed to close"), ("4", "Proposed to open")
DERBY, DERBYSHIRE, THURROCK = ("831", "Derby"), ("830", "Derbyshire"), ("883", "Thurrock")

# urn, authority, name, type, status, postcode, easting, northing
ROWS = [
    ("20001", DERBY, "St Mary’s Children’s Centre", CENTRE, OPEN, "DE22 3AA", "434507",
     "335886"),
    ("20002", DERBY, "Café Corner", LINKED, OPEN, "", "437658", "337766"),
    ("20003", DERBY, "Alvaston Children's Centre", CENTRE, PROPOSED_CLOSE, "", "438660", "332823"),
    ("20004", DERBY, "Normanton Children's Centre", CENTRE, CLOSED, "", "435500", "334000"),
    ("20005", DERBY, "Sinfin Primary School", SCHOOL, OPEN, "", "436421", "333546"),
    ("20006", DERBYSHIRE, "Chesterfield Children's Centre", CENTRE, OPEN, "", "438500", "371000"),
    ("20007", DERBY, "Big Building linked site", LINKED, OPEN, "de23 6wy", "", ""),
    ("20008", DERBY, "Mickleover Children's Centre", CENTRE, OPEN, "", "", ""),
    ("20009", THURROCK, "Grays Children's Centre", CENTRE, OPEN, "", "561500", "178000"),
    ("20010", DERBY, "Chellaston Children's Centre", CENTRE, PROPOSED_OPEN, "", "437470", "330856"),
    ("20011", DERBY, "Lost Children's Centre", CENTRE, OPEN, "DE99 9QQ", "", ""),
]  # fmt: skip
KEPT = ["20001", "20002", "20003", "20007"]
DROPPED = {
    "in another authority": 2,  # Derbyshire's and Thurrock's centres
    "not a children's centre": 1,  # the school
    "status not kept": 2,  # closed, proposed to open
    "no easting/northing or postcode": 1,
    "postcode not found": 1,
}
BIG_BUILDING = (435054.0, 334727.0)  # DE23 6WY in the ONS Postcode Directory


def gias_text(rows=ROWS, header=HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for urn, (la_code, la_name), name, (t_code, t_name), (s_code, s_name), pc, e, n in rows:
        closed = s_name == "Closed"
        writer.writerow(
            [urn, la_code, la_name, "1000", name, t_code, t_name, "10", "Children's Centres",
             s_code, s_name, "01-04-2006", "31-03-2019" if closed else "", "High Street",
             la_name, pc, e, n][: len(header)]
        )  # fmt: skip
    return out.getvalue()


def write_gias(folder: Path, *, encoding: str = "cp1252", name: str = "", **kwargs) -> Path:
    path = folder / (name or "edubasealldata20250117.csv")
    path.write_bytes(gias_text(**kwargs).encode(encoding))
    return path


@pytest.fixture
def extract(tmp_path) -> Path:
    return write_gias(tmp_path)


def test_fixture_is_windows_1252_not_utf8(extract):
    data = extract.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert "’".encode("cp1252") in data and "é".encode("cp1252") in data


def test_import_keeps_open_centres_of_the_authority(extract):
    result = import_gias(extract, authority="Derby")
    centres = result.centres
    assert list(centres.index) == KEPT  # URNs as centre ids, in file order
    assert centres.crs.to_epsg() == 27700
    assert centres.loc["20001", "name"] == "St Mary’s Children’s Centre"
    assert centres.loc["20002", "name"] == "Café Corner"
    assert centres["kind"].to_dict() == {
        "20001": "", "20002": "branch", "20003": "", "20007": "branch",
    }  # fmt: skip
    assert (centres.loc["20001"].geometry.x, centres.loc["20001"].geometry.y) == (434507, 335886)
    assert centres.loc["20007"].geometry.coords[0] == pytest.approx(BIG_BUILDING)
    assert centres.loc["20007", "location_from"] == "postcode"
    assert centres.loc["20007", "postcode"] == "DE23 6WY"
    assert centres.loc["20001", "location_from"] == "easting_northing"
    assert result.extract_date == dt.date(2025, 1, 17)
    assert result.encoding == "Windows-1252"
    assert set(centres["source"]) == {
        "DfE GIAS 2025-01-17", "DfE GIAS 2025-01-17; open, but proposed to close"
    }
    assert result.proposed_to_close == ("20003",)
    assert result.authorities == ("Derby (E06000015; DfE LA 831)",)
    assert result.rows_read == len(ROWS)


def test_dropped_rows_say_why(extract):
    result = import_gias(extract, authority="E06000015")
    assert result.dropped_counts().to_dict() == DROPPED
    assert list(result.dropped_counts().index) == [r for r in DROP_REASONS if r in DROPPED]
    reasons = result.dropped.set_index("urn")["reason"]
    assert reasons["20004"] == reasons["20010"] == "status not kept"
    assert reasons["20005"] == "not a children's centre"
    assert reasons["20008"] == "no easting/northing or postcode"
    assert reasons["20011"] == "postcode not found"
    assert result.dropped.set_index("urn").loc["20004", "row"] == 5  # header = row 1
    assert len(result.centres) + len(result.dropped) == len(ROWS)


def test_statuses_choose_what_is_kept(extract):
    only_open = import_gias(extract, authority="Derby", statuses=["open"])
    assert "20003" not in only_open.centres.index
    assert only_open.dropped_counts()["status not kept"] == 3
    closed_too = import_gias(extract, authority="Derby", statuses=["1", "2", "3"])
    assert "20004" in closed_too.centres.index
    with pytest.raises(ValidationError, match="'Shut' is not a GIAS establishment status"):
        import_gias(extract, authority="Derby", statuses=["Shut"])


def test_authority_by_ons_code_name_or_dfe_number(extract):
    ids = [list(import_gias(extract, authority=a).centres.index)
           for a in ("E06000015", "derby", "831")]  # fmt: skip
    assert ids == [KEPT, KEPT, KEPT]
    assert import_gias(extract, authority="831").authorities == (
        "Derby (E06000015; DfE LA 831)",
    )
    county = import_gias(extract, authority=["Derbyshire", "Thurrock"])
    assert list(county.centres.index) == ["20006", "20009"]


def test_authority_missing_from_file_is_refused_with_suggestions(extract):
    with pytest.raises(ValidationError) as error:
        import_gias(extract, authority="Leicester")
    message = str(error.value)
    assert "edubasealldata20250117.csv" in message and "'Leicester'" in message
    assert "Derby (831)" in message and "LA (code)" in message


def test_la_name_key_matches_register_styles_and_keeps_authorities_apart():
    names = list_authorities()["name"]
    assert names.map(la_name_key).is_unique
    assert la_name_key("Bristol, City of") == la_name_key("Bristol")
    assert la_name_key("St Helens") == la_name_key("St. Helens")
    assert la_name_key("Durham") == la_name_key("County Durham")
    assert la_name_key("Telford & Wrekin") == la_name_key("Telford and Wrekin")
    assert la_name_key("Kingston Upon Hull, City of") == la_name_key(
        "Kingston upon Hull, City of"
    )


def test_within_takes_centres_near_an_area_from_a_national_extract(extract, derby_areas):
    boundary = derby_areas.union_all()
    national = import_gias(extract, within=derby_areas)
    assert list(national.centres.index) == KEPT
    assert national.dropped_counts()["outside the given area"] == 2
    # A 40 km buffer reaches Chesterfield (about 36 km north of Derby) but not Thurrock.
    near = import_gias(extract, within=boundary.buffer(40_000))
    assert set(near.centres.index) == {*KEPT, "20006"}
    both = import_gias(extract, authority="Derbyshire", within=shapely.box(0, 0, 1, 1))
    assert len(both.centres) == 0 and both.dropped_counts()["outside the given area"] == 1


def test_grid_outside_england_and_repeated_urns_are_dropped(tmp_path):
    rows = [
        ROWS[0],
        ("20001", DERBY, "Same URN again", CENTRE, OPEN, "", "436000", "334000"),
        ("20012", DERBY, "Degrees not metres", CENTRE, OPEN, "", "-1.47", "52.92"),
        ("20013", DERBY, "Not located by GIAS", LINKED, OPEN, "DE23 6WY", "0", "0"),
    ]  # fmt: skip
    result = import_gias(write_gias(tmp_path, rows=rows), authority="Derby")
    assert list(result.centres.index) == ["20001", "20013"]
    assert result.centres.loc["20001", "name"] == "St Mary’s Children’s Centre"  # the first
    assert result.centres.loc["20013", "location_from"] == "postcode"  # 0, 0 means unknown
    assert result.dropped_counts().to_dict() == {
        "easting/northing not in England": 1, "duplicate URN": 1,
    }  # fmt: skip
    assert result.dropped.set_index("urn").loc["20012", "detail"] == "-1.47, 52.92"


def test_gias_extracts_are_told_from_centres_files(extract, tmp_path, derby_centres_file):
    assert is_gias_extract(extract)
    assert is_gias_extract(write_gias(tmp_path, encoding="utf-8-sig", name="national.csv"))
    assert not is_gias_extract(derby_centres_file)
    assert not is_gias_extract(tmp_path / "missing.csv")


def test_utf8_with_bom_reads_the_same_names(tmp_path):
    result = import_gias(write_gias(tmp_path, encoding="utf-8-sig"), authority="Derby")
    assert result.encoding == "UTF-8"
    assert result.centres.loc["20001", "name"] == "St Mary’s Children’s Centre"
    assert list(result.centres.index) == KEPT


def test_cli_import_writes_a_centres_file_that_reads_back(extract, tmp_path, capsys,
                                                          derby_areas):  # fmt: skip
    out = tmp_path / "derby_centres.csv"
    code = main(["centres", "import", "--gias", str(extract), "--authority", "Derby",
                 "--out", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "Kept 4 children's centres" in printed and "2 linked sites (kind=branch)" in printed
    assert "Dropped 7: 2 in another authority; 1 not a children's centre; 2 status not kept " \
        "(1 'Closed', 1 'Proposed to open'); 1 no easting/northing or postcode; " \
        "1 postcode not found." in printed
    assert "1 kept are 'Open, but proposed to close' (URN 20003)" in printed
    # The authority's own centres that were dropped are named, so each can be checked.
    assert "dropped URN 20004 Normanton Children's Centre: status not kept (Closed)" in printed
    assert ("dropped URN 20011 Lost Children's Centre: postcode not found (DE99 9QQ: not in the "
            "ONS Postcode Directory)") in printed
    assert "Chesterfield" not in printed and "Sinfin Primary" not in printed
    back = read_centres(out, areas=derby_areas)
    imported = import_gias(extract, authority="Derby").centres
    assert list(back.index) == KEPT
    assert back["in_authority"].all()
    columns = ["name", "postcode", "kind", "source", "locality"]
    pd.testing.assert_frame_equal(back[columns], imported[columns])
    assert back.geometry.geom_equals(imported.geometry).all()
    written = out.read_text(encoding="utf-8")
    assert written.count("St Mary’s Children’s Centre") == 2  # as name and as its own locality


def test_imported_centres_run_a_sufficiency_assessment(extract, tmp_path, capsys):
    centres = tmp_path / "derby_centres.csv"
    assert main(["centres", "import", "--gias", str(extract), "--authority", "E06000015",
                 "--out", str(centres)]) == 0  # fmt: skip
    out = tmp_path / "run"
    assert main(["sufficiency", "--authority", "Derby", "--centres", str(centres),
                 "--out", str(out)]) == 0  # fmt: skip
    table = pd.read_csv(out / "centres.csv", dtype={"centre_id": str}).set_index("centre_id")
    assert list(table.index[~table["neighbour"]]) == KEPT
    assert table["under5_residents"].sum() == pytest.approx(15_795)


def test_cli_refuses_to_overwrite_without_force(extract, tmp_path, capsys):
    out = tmp_path / "centres.csv"
    out.write_text("my own notes\n")
    args = ["centres", "import", "--gias", str(extract), "--authority", "Derby", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"--out {out} already exists" in err and "--force" in err
    assert out.read_text() == "my own notes\n"
    assert main([*args, "--force"]) == 0
    assert out.read_text(encoding="utf-8").startswith("centre_id,name,")
    assert main(["centres", "import", "--gias", str(extract), "--authority", "Derby",
                 "--out", str(extract), "--force"]) == 2  # fmt: skip
    assert "is the GIAS extract being read" in capsys.readouterr().err
    assert extract.read_bytes().decode("cp1252").startswith("URN,")


def test_cli_missing_columns_name_file_column_and_fix(tmp_path, capsys):
    table = list(csv.reader(io.StringIO(gias_text())))
    gone = HEADER.index("Easting")
    table = [row[:gone] + row[gone + 1 :] for row in table]  # no Easting column
    table[0] = [{"LA (name)": "LA(name)"}.get(h, h) for h in table[0]]  # a near miss
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(table)
    path = tmp_path / "extract.csv"
    path.write_bytes(text.getvalue().encode("cp1252"))
    code = main(["centres", "import", "--gias", str(path), "--authority", "Derby",
                 "--out", str(tmp_path / "c.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "c.csv").exists()
    assert err.startswith("error: extract.csv: 3 problems")
    assert "missing column 'LA (name)' (did you mean 'LA(name)'? rename it to 'LA (name)')" in err
    assert "missing column 'Easting'" in err
    assert "edubasealldata" in err  # the fix: which file to download


@pytest.mark.parametrize(
    ("content", "expected", "fix"),
    [
        (b"", "extract.csv: is empty", "give the GIAS 'all establishment data' extract"),
        (b"\r\n\r\n", "extract.csv: is empty", "give the GIAS 'all establishment data' extract"),
        ("URN,EstablishmentName\r\n1,Caf\u00e9".encode("cp1252") + b"\x81\r\n",
         "extract.csv: line 2 is not UTF-8",
         "or Windows-1252): save it as UTF-8"),
        (b"PK\x03\x04\x00\x00binary", "extract.csv: is a ZIP archive (an Excel .xlsx",
         "Save As 'CSV UTF-8 (Comma delimited)'"),
    ],
)  # fmt: skip
def test_cli_unreadable_files_exit_2(tmp_path, capsys, content, expected, fix):
    path = tmp_path / "extract.csv"
    path.write_bytes(content)
    code = main(["centres", "import", "--gias", str(path), "--authority", "Derby",
                 "--out", str(tmp_path / "c.csv")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and not (tmp_path / "c.csv").exists()
    assert expected in err and fix in err


def test_lookup_agrees_with_the_fixture_postcodes():
    # The fixture relies on these two facts about the ONS Postcode Directory.
    found = lookup_postcodes(["DE23 6WY", "DE99 9QQ"])
    assert tuple(found.iloc[0][["easting", "northing"]]) == BIG_BUILDING
    assert found["status"].iloc[1] != "found"
