"""Warm kernels for scheduled reports (issue 15, "lighter reports"): real Papermill, no mocks.

A small probe notebook records, in its figures.json, the kernel's process id, the names a
previous report left (none, if the namespace is reset), its working folder and its execution
count; some authorities make it fail or hang. The last test runs the real report notebook and
checks that a report run in a warm kernel after another authority's equals a cold run of it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import nbformat
import psutil
import pytest

from planning.outputs.schedule import report_spec, run_schedule
from planning.outputs.warm_kernel import close_warm_kernels

DATE = dt.date(2026, 11, 24)
DERBY, LEICESTER, NOTTINGHAM, ROCHDALE = "E06000015", "E06000016", "E06000018", "E08000005"
FAILS, HANGS = LEICESTER, "E08000010"  # Wigan

PROBE = """\
import json, os, time
left = sorted(name for name in globals() if name.startswith("left_by_"))
left_by_previous_report = authority
with open("kernel_pid.txt", "w") as out:  # in the working (staging) folder, kept on failure
    out.write(str(os.getpid()))
if authority == "{fails}":
    raise RuntimeError("this report fails on purpose")
if authority == "{hangs}":
    time.sleep(120)
with open(figures_out, "w") as out:
    json.dump({{"figures": {{}}, "verdict": "Green", "kernel_pid": os.getpid(), "left": left,
               "cwd": os.getcwd(), "count": get_ipython().execution_count}}, out)
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """A report notebook with Papermill's parameters cell and the probe cell."""
    path = tmp_path_factory.mktemp("probe") / "probe.ipynb"
    parameters = nbformat.v4.new_code_cell(
        'authority = None\nreport_date = None\nfigures_out = None\nprevious = None\n'
        "centres = None\nstandards = None"
    )
    parameters.metadata["tags"] = ["parameters"]
    cell = nbformat.v4.new_code_cell(PROBE.format(fails=FAILS, hangs=HANGS))
    notebook = nbformat.v4.new_notebook(cells=[parameters, cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path


def run(codes, out, probe, **options):
    specs = [report_spec(code, out=out) for code in codes]
    return run_schedule(specs, date=DATE, notebook=probe, progress=False, **options)


def probed(outcome) -> dict:
    return json.loads((outcome.folder / "figures.json").read_text())


def gone(pid: int, wait: float = 10.0) -> bool:
    """Whether the process has ended (or is a zombie awaiting its parent)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_reports_of_one_worker_share_one_kernel_and_never_see_each_others_names(tmp_path, probe):
    cold = run([DERBY], tmp_path / "cold", probe, warm_kernels=False)
    outcomes = run([DERBY, NOTTINGHAM, ROCHDALE], tmp_path / "warm", probe)
    assert [o.status for o in outcomes] == ["ok", "ok", "ok"]
    seen = [probed(o) for o in outcomes]
    pids = {s["kernel_pid"] for s in seen}
    assert len(pids) == 1  # the warm path is used: one kernel for the three reports
    assert all(s["left"] == [] for s in seen)  # the namespace was emptied between reports
    # numbered from 1 as in a kernel of its own; run in the report's staging folder
    assert {s["count"] for s in seen} == {probed(cold[0])["count"]}
    assert all(s["cwd"].startswith(str(tmp_path / "warm")) for s in seen)
    assert gone(pids.pop())  # closed at the end of the schedule


@pytest.mark.slow
def test_failed_report_publishes_nothing_and_the_next_one_gets_a_fresh_kernel(tmp_path, probe):
    outcomes = run([DERBY, LEICESTER, NOTTINGHAM], tmp_path, probe)
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert "fails on purpose" in outcomes[1].error
    assert not (tmp_path / "leicester" / DATE.isoformat()).exists()  # nothing published
    before, after = probed(outcomes[0]), probed(outcomes[2])
    assert after["left"] == []
    assert after["kernel_pid"] != before["kernel_pid"]  # the failed report's kernel went
    assert gone(before["kernel_pid"])


@pytest.mark.slow
def test_hung_report_is_stopped_its_kernel_killed_and_the_next_report_published(tmp_path, probe):
    started = time.monotonic()
    outcomes = run([HANGS, DERBY], tmp_path, probe, cell_timeout=5)
    assert time.monotonic() - started < 90
    assert [o.status for o in outcomes] == ["failed", "ok"]
    assert "timed out" in outcomes[0].error.lower() or "timeout" in outcomes[0].error.lower()
    # the stopped run's notebook is kept, as a cold run's is
    assert list(outcomes[0].folder.glob("*.ipynb"))
    hung = int((outcomes[0].folder / "kernel_pid.txt").read_text())
    assert gone(hung)  # killed, not left sleeping
    assert probed(outcomes[1])["kernel_pid"] != hung


@pytest.mark.slow
def test_pool_workers_run_their_reports_in_one_kernel_each(tmp_path, probe):
    codes = [DERBY, NOTTINGHAM, ROCHDALE, "E06000016", "E06000053", "E06000033"]
    outcomes = run([c for c in codes if c != FAILS], tmp_path, probe, workers=2)
    assert all(o.ok for o in outcomes)
    seen = [probed(o) for o in outcomes]
    pids = {s["kernel_pid"] for s in seen}
    assert len(pids) <= 2 < len(outcomes)  # two workers, one kernel each
    assert all(s["left"] == [] for s in seen)
    assert all(gone(pid) for pid in pids)  # each worker closed its kernel as it exited


@pytest.mark.slow
def test_dask_workers_run_their_reports_in_one_kernel_each_and_close_them(tmp_path, probe):
    pytest.importorskip("dask.distributed")
    from planning.outputs.schedule import dask_executor

    codes = [DERBY, NOTTINGHAM, ROCHDALE, "E06000053", "E06000033"]
    specs = [report_spec(code, out=tmp_path) for code in [*codes, FAILS]]
    with dask_executor(workers=2) as executor:
        outcomes = run_schedule(specs, date=DATE, notebook=probe, progress=False,
                                executor=executor)
    assert [o.status for o in outcomes] == ["ok"] * len(codes) + ["failed"]
    seen = [probed(o) for o in outcomes[:-1]]
    pids = {s["kernel_pid"] for s in seen}
    assert len(pids) <= 3 < len(seen)  # two workers, one kernel each (one replaced at most)
    assert all(s["left"] == [] for s in seen)
    assert all(gone(pid) for pid in pids)  # closed on every worker at the end


def normalised(text: str) -> str:
    """Without what differs between any two runs: folium's element ids, Papermill's cell ids,
    object addresses in plain-text reprs, and timings."""
    text = re.sub(r"[0-9a-f]{32}", "ID", text)
    text = re.sub(r"cell-id=[0-9a-f]{8}", "cell-id=X", text)
    return re.sub(r" at 0x[0-9a-f]+>", " at ADDRESS>", text)


def cell_outputs(path) -> list:
    notebook = nbformat.read(path, as_version=4)
    return [
        (cell.get("execution_count"), normalised(json.dumps(cell.get("outputs"), sort_keys=True)))
        for cell in notebook.cells
    ]


@pytest.mark.slow
def test_report_in_a_warm_kernel_after_another_authority_equals_a_cold_run(tmp_path):
    cold = run_schedule([report_spec(DERBY, out=tmp_path / "cold")], date=DATE, progress=False,
                        warm_kernels=False)[0]
    leicester, warm = run_schedule(
        [report_spec(LEICESTER, out=tmp_path / "warm"), report_spec(DERBY, out=tmp_path / "warm")],
        date=DATE, progress=False,
    )
    assert cold.ok and leicester.ok and warm.ok
    for name in ("figures", "html"):
        a = (cold.folder / cold.files[name]).read_text()
        b = (warm.folder / warm.files[name]).read_text()
        assert normalised(a) == normalised(b), name
    assert cell_outputs(cold.folder / cold.files["notebook"]) == cell_outputs(
        warm.folder / warm.files["notebook"]
    )
    assert close_warm_kernels() == 0  # the schedule closed its kernel
