"""`planning scenario` and `planning optimise` on Derby."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import REPO


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "planning.apps.cli", *args], capture_output=True, text=True, cwd=REPO
    )


def test_scenario_command(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: Close Spondon\nactions:\n  - close: CC03\n"
        "  - open: {id: NEW1, name: Derwent, postcode: DE21 4ET}\n"
    )
    out = tmp_path / "out"
    done = run_cli("scenario", "--scenario", str(scenario), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == {
        "comparison.csv", "bands.csv", "areas_changed.csv", "loads.csv", "localities.csv",
        "scenario_centres.csv", "summary.json", ".planning-output.json",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert summary["actions"] == ["close CC03", "open NEW1 (Derwent) at DE21 4ET"]
    assert summary["authority"]["code"] == "E06000015"
    assert len(summary["inputs"]["scenario_sha256"]) == 64
    changed = pd.read_csv(out / "areas_changed.csv")
    assert summary["summary"][0].startswith(f"{changed.loc[changed.change == 'loses reach', 'under5'].sum():,.0f} under-5s")
    # The after network feeds straight back into `sufficiency`.
    again = run_cli("sufficiency", "--centres", str(out / "scenario_centres.csv"), "--out", str(tmp_path / "s2"))
    assert again.returncode == 0, again.stderr
    figures = json.loads((tmp_path / "s2" / "summary.json").read_text())["figures"]
    headline = pd.read_csv(out / "comparison.csv", index_col="figure")
    assert figures["share_within_reach"] == pytest.approx(headline.loc["Share of under-5s within reach", "after"])


def test_bad_scenario_file_exits_2(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: x\nactions:\n  - close: CC99\n")
    done = run_cli("scenario", "--scenario", str(scenario), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "unknown centre id 'CC99'" in done.stderr and str(scenario) in done.stderr
    assert not (tmp_path / "out").exists()


def test_optimise_command_and_infeasible(tmp_path):
    out = tmp_path / "opt"
    done = run_cli("optimise", "--p", "6", "--objective", "coverage", "--out", str(out))
    assert done.returncode == 0, done.stderr
    chosen = pd.read_csv(out / "scenario_centres.csv")
    assert len(chosen) == 6
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["sites_chosen"] == 6 and summary["model"]["candidates"] == 162
    bad = run_cli("optimise", "--p", "3", "--objective", "cover-all", "--out", str(tmp_path / "bad"))
    assert bad.returncode == 2
    assert "needs at least 6 sites; p = 3 is short by 3" in bad.stderr
    assert not (tmp_path / "bad").exists()


def test_optimise_says_what_it_closes_and_opens_without_the_solver_banner(tmp_path):
    out = tmp_path / "opt"
    done = run_cli("optimise", "--p", "8", "--objective", "coverage", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "HiGHS" not in done.stdout + done.stderr  # the solver's banner is not ours to print
    current = pd.read_csv(REPO / "src/planning/data/centres/derby_illustrative.csv", index_col=0)
    chosen = pd.read_csv(out / "scenario_centres.csv", index_col=0)
    closed = [i for i in current.index if i not in chosen.index]
    assert f"Closes {len(closed)}: " + "; ".join(
        f"{i} {current.loc[i, 'name']}" for i in closed) in done.stdout
    assert f"Opens {len(set(chosen.index) - set(current.index))}:" in done.stdout
    headline = pd.read_csv(out / "comparison.csv", index_col="figure")
    before, after = headline.loc["Under-5s per centre", ["before", "after"]]
    assert f"Under-5s per centre: {before:,.0f} -> {after:,.0f}" in done.stdout
    # Derby's own, and the neighbouring centres its families are nearest to.
    before, after = headline.loc["Centres serving the area", ["before", "after"]]
    assert f"Centres serving the area: {before:,.0f} -> {after:,.0f}" in done.stdout
    assert after >= len(chosen)


def test_optimise_cover_all_says_p_is_a_maximum(tmp_path):
    done = run_cli("optimise", "--p", "12", "--objective", "cover-all", "--out", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    assert "--p 12 is a maximum, not a target (6 are enough)" in done.stdout
