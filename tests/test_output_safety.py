"""Output folders never destroy what the workbench did not create (issue 10, section 1).

Every command that writes a folder goes through one helper (``planning._files``): these tests
drive it through the real command line as a careless or hostile user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from planning import settings
from planning._files import (
    OUTPUT_MARKER,
    STAGING_MARKER,
    atomic_directory,
    check_output_folder,
    input_label,
    json_safe,
    write_json,
)
from planning._errors import ValidationError
from planning.apps.cli import main
from planning.runs.sufficiency import run_sufficiency, write_sufficiency_outputs

from conftest import DATA, REPO

DERBY_CENTRES = DATA / "centres" / "derby_illustrative.csv"
WRITERS = [
    ["sufficiency"],
    ["scenario", "--scenario", "{scenario}"],
    ["optimise", "--p", "3", "--objective", "coverage"],
]


def strict_json(path: Path) -> object:
    """Parse as any strict JSON parser would: NaN and Infinity are not JSON."""

    def refuse(token: str) -> None:
        raise ValueError(f"{path}: {token} is not valid JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def no_staging_left(folder: Path) -> bool:
    return not [p for p in folder.parent.glob(".*") if ".partial-" in p.name or ".old-" in p.name]


@pytest.fixture
def scenario_file(tmp_path):
    path = tmp_path / "inputs" / "close.yaml"
    path.parent.mkdir()
    path.write_text("name: Close one\nactions:\n  - close: CC03\n")
    return path


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("command", WRITERS, ids=lambda c: c[0])
def test_folder_with_a_users_file_is_refused_and_kept(command, tmp_path, scenario_file, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "precious.txt").write_text("x")
    args = [a.format(scenario=scenario_file) for a in command]
    code, text = run_cli([*args, "--out", str(folder)], capsys)
    assert code == 2
    assert "precious.txt" in text and "--force" in text
    assert (folder / "precious.txt").read_text() == "x"
    assert sorted(p.name for p in folder.iterdir()) == ["precious.txt"]
    assert no_staging_left(folder)


def test_force_replaces_a_users_folder(tmp_path, capsys):
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "precious.txt").write_text("x")
    code, _ = run_cli(["sufficiency", "--out", str(folder), "--force"], capsys)
    assert code == 0
    assert not (folder / "precious.txt").exists() and (folder / "summary.json").is_file()


def test_own_earlier_output_is_replaced_but_not_once_a_user_adds_or_edits_a_file(
    tmp_path, capsys
):
    folder = tmp_path / "out"
    assert run_cli(["sufficiency", "--out", str(folder)], capsys)[0] == 0
    marker = json.loads((folder / OUTPUT_MARKER).read_text())
    assert marker["written_by"] == "planning"
    assert set(marker["files"]) == {
        "areas.csv", "centres.csv", "localities.csv", "wards.csv", "areas.gpkg", "summary.json"
    }
    # An earlier output of this tool is replaced (same run again).
    assert run_cli(["sufficiency", "--out", str(folder)], capsys)[0] == 0
    # A note the user left in it is theirs: refused.
    (folder / "notes.txt").write_text("committee comments")
    code, text = run_cli(["sufficiency", "--out", str(folder)], capsys)
    assert code == 2 and "notes.txt" in text
    assert (folder / "notes.txt").exists()
    (folder / "notes.txt").unlink()
    # A table the user edited is theirs too.
    with open(folder / "areas.csv", "a", encoding="utf-8") as fh:
        fh.write("my edit\n")
    code, text = run_cli(["sufficiency", "--out", str(folder)], capsys)
    assert code == 2 and "areas.csv" in text
    assert (folder / "areas.csv").read_text().endswith("my edit\n")


def test_empty_folder_is_used(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    assert run_cli(["sufficiency", "--out", str(folder)], capsys)[0] == 0
    assert (folder / "summary.json").is_file()


@pytest.mark.parametrize(
    "where",
    ["root", "home", "cwd", "repo", "package", "data", "data/centres", "parent of cwd"],
)
def test_protected_folders_are_refused_even_with_force(where, tmp_path, monkeypatch, capsys):
    import planning

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    target = {
        "root": Path("/"),
        "home": Path.home(),
        "cwd": Path("."),
        "repo": REPO,
        "package": Path(planning.__file__).parent,
        "data": settings.DATA_DIR,
        "data/centres": settings.DATA_DIR / "centres",
        "parent of cwd": tmp_path,
    }[where]
    before = sorted(p.name for p in Path(target).iterdir())
    code, text = run_cli(["sufficiency", "--out", str(target), "--force"], capsys)
    assert code == 2, text
    assert "never replaces" in text and "Traceback" not in text
    assert sorted(p.name for p in Path(target).iterdir()) == before
    assert not list(Path(target).resolve().parent.glob(".*partial-*"))


def test_folder_holding_an_input_file_is_refused(tmp_path, capsys):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    centres = inputs / "centres.csv"
    centres.write_bytes(DERBY_CENTRES.read_bytes())
    code, text = run_cli(
        ["sufficiency", "--centres", str(centres), "--out", str(inputs), "--force"], capsys
    )
    assert code == 2 and "input file" in text and "centres.csv" in text
    assert sorted(p.name for p in inputs.iterdir()) == ["centres.csv"]
    # ... and so is any folder above it.
    code, text = run_cli(
        ["sufficiency", "--centres", str(centres), "--out", str(tmp_path), "--force"], capsys
    )
    assert code == 2 and centres.exists()


def test_inputs_are_named_without_the_folders_of_this_machine(tmp_path, monkeypatch, capsys):
    work = tmp_path / "work"
    (work / "mine").mkdir(parents=True)
    monkeypatch.chdir(work)
    own = work / "mine" / "centres.csv"
    own.write_bytes(DERBY_CENTRES.read_bytes())
    # The packaged default is named by its place in the package, not where it is installed.
    assert run_cli(["sufficiency", "--out", "default"], capsys)[0] == 0
    text = (work / "default" / "summary.json").read_text(encoding="utf-8")
    named = json.loads(text)["inputs"]["centres_file"]
    assert named == "planning/data/centres/derby_illustrative.csv"
    assert str(REPO) not in text and str(tmp_path) not in text
    # The user's own file under the current folder: relative to it.
    assert run_cli(["sufficiency", "--centres", str(own), "--out", "own"], capsys)[0] == 0
    summary = json.loads((work / "own" / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["centres_file"] == "mine/centres.csv"
    # ... and so named, it still protects the folder that holds it.
    code, text = run_cli(["sufficiency", "--centres", str(own), "--out", "mine", "--force"], capsys)
    assert code == 2 and "input file" in text
    assert sorted(p.name for p in (work / "mine").iterdir()) == ["centres.csv"]
    # A file elsewhere keeps the absolute path the user chose.
    elsewhere = tmp_path / "other.csv"
    elsewhere.write_text("x")
    assert input_label(elsewhere) == str(elsewhere.resolve())
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)  # PLANNING_DATA_DIR
    assert input_label(elsewhere) == "other.csv"


def test_out_below_a_regular_file_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, text = run_cli(["sufficiency", "--out", str(tmp_path / "file" / "sub")], capsys)
    assert code == 2
    assert text.count("\n") == 1 and "is a file" in text and "Traceback" not in text
    code, text = run_cli(["sufficiency", "--out", str(tmp_path / "file")], capsys)
    assert code == 2 and "is a file, not a folder" in text
    assert (tmp_path / "file").read_text() == "x"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_staging_from_a_killed_run_is_cleaned_and_said(tmp_path, capsys):
    out = tmp_path / "out"
    stale = tmp_path / ".out.partial-abc12345"
    stale.mkdir()
    (stale / "areas.csv").write_text("half")
    (stale / STAGING_MARKER).write_text(json.dumps({"pid": dead_pid(), "host": os.uname()[1]}))
    live = tmp_path / ".out.partial-live0000"  # another run still writing: left alone
    live.mkdir()
    (live / STAGING_MARKER).write_text(json.dumps({"pid": os.getpid(), "host": os.uname()[1]}))
    foreign = tmp_path / ".out.partial-users000"  # no owner marker: not provably ours
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    done = subprocess.run(
        [sys.executable, "-m", "planning.apps.cli", "sufficiency", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    assert "interrupted run" in done.stderr and stale.name in done.stderr
    assert live.exists() and (foreign / "keep.txt").exists()


def test_failed_write_leaves_neither_output_nor_staging(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), atomic_directory(out) as staging:
        (staging / "half.csv").write_text("x")
        raise RuntimeError("disk full")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_check_rechecks_inputs_given_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "standards.yaml").write_text("reach_km: 2.5\n")
    with pytest.raises(ValidationError, match="input file"):
        check_output_folder("in", inputs=["in/standards.yaml"], force=True)


def test_summary_json_is_strict_json_even_with_missing_figures(tmp_path):
    run = run_sufficiency()
    run.result.authority["share_in_reach_of_nothing"] = float("nan")
    run.result.authority["ratio_undefined"] = float("inf")
    out = write_sufficiency_outputs(run, tmp_path / "out")
    summary = strict_json(out / "summary.json")
    assert summary["figures"]["share_in_reach_of_nothing"] is None  # type: ignore[index]
    assert summary["figures"]["ratio_undefined"] is None  # type: ignore[index]


def test_json_safe_handles_numpy_pandas_and_non_finite(tmp_path):
    import numpy as np
    import pandas as pd

    value = {
        "a": np.float64("nan"), "b": np.int64(3), "c": pd.NA, "d": [np.inf, 1.5],
        "e": np.bool_(True), "f": Path("x/y"), "g": pd.Timestamp("2026-11-29"),
    }
    path = write_json(tmp_path / "v.json", value)
    assert strict_json(path) == {
        "a": None, "b": 3, "c": None, "d": [None, 1.5], "e": True, "f": "x/y",
        "g": "2026-11-29T00:00:00",
    }
    assert json_safe((1, 2)) == [1, 2]


def test_synthetic_extract_never_overwrites_a_real_file(tmp_path, capsys):
    real = tmp_path / "registrations_synthetic.csv"  # a real extract unluckily named
    real.write_text("area_code,age\nE01013482,2\n")
    code, text = run_cli(
        ["synthetic-registrations", "--out", str(real), "--seed", "1"], capsys
    )
    assert code == 2 and "never overwritten" in text
    assert real.read_text() == "area_code,age\nE01013482,2\n"
    made = tmp_path / "demo_synthetic.csv"
    assert run_cli(["synthetic-registrations", "--out", str(made)], capsys)[0] == 0
    first = made.read_text()
    assert run_cli(["synthetic-registrations", "--out", str(made)], capsys)[0] == 0  # ours
    assert made.read_text() == first
