"""The `planning` command on Derby, and its bad-input paths."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from planning.apps.cli import main

from conftest import REPO


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planning.apps.cli", *args], capture_output=True, text=True, cwd=REPO
    )


def test_authorities_lists_all(capsys):
    assert main(["authorities"]) == 0
    out = capsys.readouterr().out
    assert "E06000015" in out and "Derby" in out and "Thurrock" in out
    assert "153 English upper-tier authorities" in out


@pytest.fixture(scope="module")
def derby_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "derby"
    done = run_cli("sufficiency", "--authority", "Derby", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_sufficiency_writes_every_output(derby_out, derby_areas):
    out, stdout = derby_out
    assert {p.name for p in out.iterdir()} == {
        "areas.csv", "centres.csv", "localities.csv", "wards.csv", "areas.gpkg", "summary.json",
        ".planning-output.json",  # the marker that lets a later run replace this folder
    }
    areas = pd.read_csv(out / "areas.csv", index_col="area_code")
    assert len(areas) == 152 and set(areas.index) == set(derby_areas.index)
    for column in ["need_index", "deprivation_band", "centre_id", "distance_m", "within_reach",
                   "idaci_estimated", "under5", "idaci_children", "walk_minutes"]:
        assert column in areas.columns
    assert areas["idaci_estimated"].sum() == 2
    centres = pd.read_csv(out / "centres.csv", index_col="centre_id")
    # The council's ten sites, and the one Derbyshire site nearest to some Derby families.
    own = centres[~centres["neighbour"]]
    assert len(own) == 10 and len(centres) == 11
    # Each Derby under-5 is in exactly one centre's residents' load; loads also carry
    # Derbyshire families who live nearer a Derby site.
    assert centres["under5_residents"].sum() == 15_795
    assert (centres["under5"] == centres["under5_residents"] + centres["under5_other_authorities"]).all()
    assert centres.loc[own.index, "under5_other_authorities"].sum() > 0
    assert (centres["source"] == "illustrative").all()
    assert "ILLUSTRATIVE" in stdout


def test_summary_has_provenance(derby_out):
    out, _ = derby_out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["authority"] == {"code": "E06000015", "name": "Derby"}
    assert summary["verdict"] in {"Red", "Amber", "Green"}
    assert summary["reasons"] and summary["reasons"][0].startswith(summary["verdict"])
    assert summary["standards"]["reach_km"] == 2.5
    assert summary["figures"]["under5"] == 15_795
    assert len(summary["inputs"]["centres_sha256"]) == 64
    assert len(summary["inputs"]["data_sha256"]) == 64
    assert "Open Government Licence" in summary["attribution"]
    assert any("ILLUSTRATIVE" in n for n in summary["notes"])
    # Derby's three localities, and the Derby families served from a Derbyshire site.
    assert set(summary["localities"]) == {"East", "South", "West", "Served from Derbyshire"}


def test_gpkg_has_areas_and_centres_layers(derby_out):
    import geopandas as gpd

    out, _ = derby_out
    areas = gpd.read_file(out / "areas.gpkg", layer="areas")
    centres = gpd.read_file(out / "areas.gpkg", layer="centres")
    # Derby's ten, and the one Derbyshire site nearest to some Derby families.
    assert len(areas) == 152 and len(centres) == 11 and (~centres["neighbour"]).sum() == 10
    assert areas.crs.to_epsg() == 27700


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--authority", "Derbyy"], "Did you mean 'Derby'"),
        (["--centres", "no/such/file.csv"], "no/such/file.csv"),
        (["--standards", "no/such.yaml"], "does not exist"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, extra, message):
    out = tmp_path / "out"
    done = run_cli("sufficiency", *extra, "--out", str(out))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # no staging folder left behind


def test_bad_centres_file_leaves_previous_output_intact(tmp_path):
    out = tmp_path / "out"
    assert run_cli("sufficiency", "--out", str(out)).returncode == 0
    before = (out / "summary.json").read_text()
    bad = tmp_path / "centres.csv"
    bad.write_text("centre_id,name,postcode\nA,One,DE99 9QQ\n")
    done = run_cli("sufficiency", "--centres", str(bad), "--out", str(out))
    assert done.returncode == 2
    assert "centres.csv: row 2: postcode" in done.stderr and "DE99 9QQ" in done.stderr
    assert (out / "summary.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["centres.csv", "out"]


def test_other_authority_defaults_to_its_own_illustrative_sites(tmp_path):
    out = tmp_path / "thurrock"
    done = run_cli("sufficiency", "--authority", "Thurrock", "--out", str(out))
    assert done.returncode == 0, done.stderr
    centres = pd.read_csv(out / "centres.csv", index_col="centre_id")
    assert (centres["source"] == "illustrative").all()
    own = centres[~centres["neighbour"]]
    assert own["in_authority"].all() and len(own) == 8  # Thurrock's sites, not Derby's
    assert not centres.loc[centres["neighbour"], "in_authority"].any()
    # Every Thurrock under-5 is in exactly one centre's residents' load.
    assert centres["under5_residents"].sum() == pd.read_csv(out / "areas.csv")["under5"].sum()
    assert "ILLUSTRATIVE" in done.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sufficiency"], "error: planning sufficiency: the following arguments are required: "
                          "--out; `planning sufficiency --help` lists the options"),
        (["optimise", "--objective", "nearest", "--out", "x"],
         "error: planning optimise: argument --objective: invalid choice: 'nearest'"),
    ],
)
def test_usage_errors_have_the_one_error_style(capsys, argv, message):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "usage:" not in err


@pytest.mark.parametrize("command", ["sufficiency", "report", "synthetic-registrations"])
def test_missing_centres_file_never_suggests_none(capsys, tmp_path, command):
    """`--centres None` is a file called None on the command line: the fix is to leave it out."""
    out = tmp_path / "out_synthetic.csv"
    assert main([command, "--centres", "None", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --centres None: no such file;")
    assert "leave out --centres for the authority's illustrative sites" in err
    assert "or None" not in err and not out.exists()


def test_standards_write_gives_a_copy_to_edit(capsys, tmp_path):
    from planning.standards import load_standards

    copy = tmp_path / "my_standards.yaml"
    assert main(["standards", "--write", str(copy)]) == 0
    assert f"--standards {copy}" in capsys.readouterr().out
    same = {"source": ""}
    assert load_standards(copy).describe() | same == load_standards().describe() | same
    assert main(["standards", "--write", str(copy)]) == 2  # never replaced without --force
    assert "--force to replace it" in capsys.readouterr().err
    assert main(["standards"]) == 0 and "reach:" in capsys.readouterr().out


def test_output_folders_are_readable_by_colleagues(tmp_path):
    """Published like a folder made with mkdir (0755 under umask 022), not mkdtemp's 0700."""
    import os
    import stat

    from planning._files import atomic_directory

    old = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "out") as staging:
            (staging / "areas.csv").write_text("area_code\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755
