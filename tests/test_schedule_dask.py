"""Scheduled reports as Dask tasks (issue 15): a real LocalCluster with two worker processes.

A good Derby report and a Thurrock report whose centres file is broken run through the command
line with ``--executor dask --workers 2``: the same failure semantics (the failed report
publishes nothing, the other is published), manifests, index and progress lines as the
process pool.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import pytest

from conftest import DATA

pytest.importorskip("dask.distributed")

DERBY_CENTRES = DATA / "centres" / "derby_illustrative.csv"
DATE = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def dask_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    (folder / "thurrock_centres.csv").write_text("centre_id,name\nT1,Grays\n")
    schedule = folder / "schedule.yaml"
    schedule.write_text(
        "runs:\n"
        "  - authority: Derby\n"
        f"    centres: {DERBY_CENTRES}\n"
        "  - authority: Thurrock\n"
        "    centres: thurrock_centres.csv\n"
    )
    root = folder / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "planning.apps.cli", "report", "--schedule", str(schedule),
         "--out", str(root), "--executor", "dask", "--workers", "2", "--date", DATE.isoformat()],
        capture_output=True, text=True, cwd=folder, timeout=600,
    )
    return root, done


@pytest.mark.slow
def test_dask_schedule_publishes_the_good_report_and_keeps_the_failed_one(dask_run):
    root, done = dask_run
    assert done.returncode == 1, done.stderr
    assert "2 report(s)" in done.stdout and "1 published, 1 failed" in done.stdout
    assert re.search(r"\] Derby \(E06000015\) 2026-11-24: published in [\d.]+ s", done.stderr)
    assert re.search(r"\] Thurrock \(E06000034\) 2026-11-24: FAILED after [\d.]+ s", done.stderr)
    manifest = json.loads((root / "derby" / "2026-11-24" / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["verdict"] in {"Red", "Amber", "Green"}
    assert (root / "derby" / "2026-11-24" / "sufficiency-derby-2026-11-24.html").is_file()
    # The failed report published nothing and is kept with a readable error.
    assert not (root / "thurrock").exists() or not any((root / "thurrock").iterdir())
    [failed] = list((root / "failed" / "thurrock").iterdir())
    error = (failed / "error.txt").read_text()
    assert "Nothing was published" in error and "thurrock_centres.csv" in error
    assert json.loads((failed / "manifest.json").read_text())["status"] == "failed"
    index = (root / "index.html").read_text()
    assert "Derby (E06000015)" in index and "Thurrock (E06000034)" in index


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(f"- authority: Derby\n  centres: {DERBY_CENTRES}\n")
    done = subprocess.run(
        [sys.executable, "-m", "planning.apps.cli", "report", "--schedule", str(schedule),
         "--out", str(tmp_path / "reports"), "--dask", "tcp://127.0.0.1:9"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "error: could not reach the Dask scheduler at 'tcp://127.0.0.1:9'" in done.stderr
    assert not (tmp_path / "reports" / "derby").exists()


def test_uncertainty_batch_runs_on_dask_and_agrees_with_a_plain_run():
    """Issue 16: every authority's draws can go through the national batch's Dask path; a
    real two-worker LocalCluster gives exactly the answers of a run in this process (same
    seed)."""
    from planning.outputs.schedule import dask_executor, uncertainty_batch

    codes = ["E06000015", "E06000034", "E06000017"]  # Derby, Thurrock, Rutland
    here = uncertainty_batch(codes, draws=200, seed=7)
    with dask_executor(workers=2) as executor:
        there = uncertainty_batch(codes, draws=200, seed=7, executor=executor)
    columns = ["verdict", "likely", "p_green", "p_amber", "p_red", "robust", "fragile_verdicts"]
    assert list(there.index) == codes
    assert there[columns].equals(here[columns])
    total = here[["p_green", "p_amber", "p_red"]].sum(axis=1)
    assert (abs(total - 1) < 1e-9).all()
