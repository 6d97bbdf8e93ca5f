"""Scheduled reports never destroy what they did not create and stop cleanly on a signal
(issue 10, sections 1 and 2). The signal tests start the real command (Papermill, real kernels,
a real process pool) and send it a real SIGTERM or SIGINT.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from planning import ValidationError
from planning._files import STAGING_MARKER
from planning.apps.cli import main
from planning.outputs.schedule import load_schedule, prepare_schedule, report_spec, write_index

from conftest import DATA

DATE = dt.date(2026, 11, 24)
DERBY_CENTRES = DATA / "centres" / "derby_illustrative.csv"
THURROCK_CENTRES = DATA / "centres" / "thurrock_illustrative.csv"


def write_schedule(folder: Path, body: str) -> Path:
    path = folder / "schedule.yaml"
    path.write_text(body)
    return path


def test_run_out_outside_reports_folder_is_refused_unless_allowed(tmp_path):
    outside = tmp_path / "elsewhere"
    body = f"runs:\n  - authority: Derby\n    out: {outside}\n"
    with pytest.raises(ValidationError, match="outside the reports folder") as caught:
        load_schedule(write_schedule(tmp_path, body), out=tmp_path / "reports")
    assert "allow_out_outside" in str(caught.value)
    escape = "runs:\n  - authority: Derby\n    out: ../../escaped\n"
    with pytest.raises(ValidationError, match="outside the reports folder"):
        load_schedule(write_schedule(tmp_path, escape), out=tmp_path / "reports")
    allowed = "allow_out_outside: true\n" + body
    (spec,) = load_schedule(write_schedule(tmp_path, allowed), out=tmp_path / "reports")
    assert spec.out == outside


@pytest.mark.parametrize("root", ["/", "home", "data"])
def test_reports_root_may_not_be_a_protected_folder(root, tmp_path):
    from planning import settings

    folder = {"/": Path("/"), "home": Path.home(), "data": settings.DATA_DIR}[root]
    with pytest.raises(ValidationError, match="never written there"):
        report_spec("Derby", out=folder)


def test_foreign_index_page_is_never_overwritten(tmp_path, capsys):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<html>the council's own home page</html>")
    with pytest.raises(ValidationError, match="not written by this tool"):
        write_index(root)
    # The whole schedule is refused before anything runs.
    schedule = write_schedule(tmp_path, f"runs:\n  - authority: Derby\n    centres: {DERBY_CENTRES}\n")
    code = main(["report", "--schedule", str(schedule), "--out", str(root), "--date", "2026-11-24"])
    assert code == 2
    assert "index.html" in capsys.readouterr().err
    assert (root / "index.html").read_text() == "<html>the council's own home page</html>"
    assert sorted(p.name for p in root.iterdir()) == ["index.html"]


def test_our_own_index_is_rewritten(tmp_path):
    write_index(tmp_path)
    first = (tmp_path / "index.html").read_text()
    assert 'name="generator"' in first
    write_index(tmp_path)  # no error: the page is ours


def test_report_folder_with_a_users_file_is_refused_up_front(tmp_path):
    spec = report_spec("Derby", out=tmp_path / "reports")
    folder = spec.folder(DATE)
    folder.mkdir(parents=True)
    (folder / "minutes.docx").write_text("x")
    with pytest.raises(ValidationError, match="minutes.docx"):
        prepare_schedule([spec], date=DATE)
    forced = report_spec("Derby", out=tmp_path / "reports", force=True)
    prepare_schedule([forced], date=DATE)  # --force allows it
    assert (folder / "minutes.docx").exists()  # checking never deletes


def test_stale_staging_in_reports_is_cleaned_at_start_and_said(tmp_path, caplog):
    spec = report_spec("Derby", out=tmp_path / "reports")
    stale = spec.out / spec.slug / ".2026-11-20.partial-deadbeef"
    stale.mkdir(parents=True)
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    (stale / STAGING_MARKER).write_text(json.dumps({"pid": child.pid, "host": os.uname()[1]}))
    with caplog.at_level("WARNING"):
        prepare_schedule([spec], date=DATE)
    assert not stale.exists()
    assert any(stale.name in record.getMessage() for record in caplog.records)


# ---------------------------------------------------------------------------------------------
# A real signal to a real schedule


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def wait_for_staging(root: Path, count: int, process: subprocess.Popen, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the schedule ended before the signal: {process.communicate()}")
        staging = list(root.glob("*/.*.partial-*"))
        if len(staging) >= count:
            return staging
        time.sleep(0.2)
    pytest.fail("no report started within the time limit")


def wait_for_kernels(process: subprocess.Popen, count: int, timeout: float = 120):
    """The process tree once ``count`` Jupyter kernels run in it (they must die on the stop)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tree = descendants(process.pid)
        kernels = []
        for child in tree:
            try:
                if "ipykernel_launcher" in " ".join(child.cmdline()):
                    kernels.append(child)
            except psutil.Error:
                continue
        if len(kernels) >= count:
            return tree
        if process.poll() is not None:
            pytest.fail(f"the schedule ended before the signal: {process.communicate()}")
        time.sleep(0.2)
    pytest.fail("no kernel started within the time limit")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "workers"), [(signal.SIGTERM, 2), (signal.SIGINT, 2), (signal.SIGTERM, 1)],
    ids=["SIGTERM-2-workers", "SIGINT-2-workers", "SIGTERM-1-worker"],
)
def test_a_signal_stops_workers_and_nothing_is_published_after_it(sig, workers, tmp_path):
    schedule = write_schedule(
        tmp_path,
        "runs:\n"
        f"  - authority: Derby\n    centres: {DERBY_CENTRES}\n"
        f"  - authority: Thurrock\n    centres: {THURROCK_CENTRES}\n",
    )
    root = tmp_path / "reports"
    process = subprocess.Popen(
        [sys.executable, "-m", "planning.apps.cli", "report", "--schedule", str(schedule),
         "--out", str(root), "--workers", str(workers), "--date", DATE.isoformat()],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    try:
        wait_for_staging(root, workers, process)
        tree = wait_for_kernels(process, workers)
        process.send_signal(sig)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + sig, stderr
    assert f"Stopped by {signal.Signals(sig).name}" in stderr
    assert "unfinished Derby" in stderr and "unfinished Thurrock" in stderr
    assert "Traceback" not in stderr
    # Every worker and kernel is gone, now and a little later nothing has been published.
    time.sleep(3)
    alive = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, [p.cmdline() for p in alive]
    assert not list(root.glob("*/????-??-??")), "a report was published after the stop"
    assert not list(root.glob("*/.*.partial-*")), "a staging folder was left behind"


def test_folder_given_as_schedule_is_one_clear_error(tmp_path, capsys):
    (tmp_path / "runs.yaml").write_text("- authority: Derby\n")
    code = main(["report", "--schedule", str(tmp_path), "--out", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 2 and "is a folder, not a schedule file" in err and "runs.yaml" in err
    assert not (tmp_path / "reports").exists()
