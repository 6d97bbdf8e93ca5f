"""Scheduled reports: Papermill and nbconvert really run (no mocks).

One schedule with a good Derby report and a Thurrock report whose centres file is broken runs
through the command line with two workers; later runs of Derby alone check "what changed", that a
same-date re-run replaces its report atomically, and that a failure never replaces a report.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from planning import ValidationError
from planning.outputs.changes import compare_figures
from planning.apps.cli import main
from planning.standards import file_sha256
from planning.outputs.maps import assert_offline
from planning.outputs.report import find_chromium
from planning.outputs.schedule import load_schedule, report_spec, run_schedule

from conftest import DATA

DERBY_CENTRES = DATA / "centres" / "derby_illustrative.csv"
FIRST, SECOND = dt.date(2026, 11, 24), dt.date(2026, 11, 25)
CHROMIUM = find_chromium()


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# ---------------------------------------------------------------------------------------------
# Schedule files (fast)


def test_schedule_errors_name_file_entry_key_and_fix(tmp_path):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        "- authority: Derbyy\n"
        "- authority: Thurrock\n"
        "  centers: thurrock.csv\n"
        "- authority: E06000034\n"
        "  centres: missing.csv\n"
        "  formats: [html, docx]\n"
    )
    with pytest.raises(ValidationError) as caught:
        load_schedule(schedule)
    message = str(caught.value)
    assert message.startswith(f"{schedule}: ")
    assert "entry 1: unknown authority 'Derbyy'" in message and "Did you mean 'Derby'" in message
    assert "entry 2: unknown key 'centers'; did you mean 'centres'?" in message
    assert "entry 2 (Thurrock): 'centres' is missing" in message
    assert "entry 3 (Thurrock): centres file 'missing.csv' not found" in message
    assert "entry 3: 'formats' item 2 is 'docx'; valid: html, pdf" in message
    assert "entry 2 (Thurrock) and entry 3 (Thurrock) both write" in message


def test_bad_scenario_is_rejected_before_anything_runs(tmp_path):
    (tmp_path / "bad.yaml").write_text("name: x\nactions:\n  - demolish: CC03\n")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("- authority: Derby\n  scenario: bad.yaml\n")
    with pytest.raises(ValidationError, match="entry 1 \\(Derby\\): 'scenario': .*unknown action 'demolish'"):
        load_schedule(schedule)


def test_schedule_yaml_error_gives_line(tmp_path):
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("- authority: Derby\n  formats: [html\n")
    with pytest.raises(ValidationError, match=r"schedule.yaml line \d+: not valid YAML"):
        load_schedule(schedule)


def test_schedule_defaults_and_relative_paths(tmp_path):
    (tmp_path / "centres").mkdir()
    (tmp_path / "centres" / "thurrock.csv").write_text("centre_id,name,postcode\n")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        "defaults: {out: published}\n"
        "runs:\n"
        "  - authority: Derby\n"
        "  - authority: thurrock\n"
        "    centres: centres/thurrock.csv\n"
        "    out: elsewhere\n"
    )
    root = tmp_path / "reports"
    derby, thurrock = load_schedule(schedule, out=root)
    assert derby.authority == "E06000015" and derby.centres is None
    # A run's 'out' is read from the reports folder (--out), so it stays inside it.
    assert derby.out == root / "published" and derby.formats == ("html",)
    assert thurrock.authority == "E06000034" and thurrock.name == "Thurrock"
    # Input files are read from the schedule file's folder.
    assert thurrock.centres == tmp_path / "centres" / "thurrock.csv"
    assert thurrock.out == root / "elsewhere"
    assert thurrock.folder(FIRST) == root / "elsewhere" / "thurrock" / "2026-11-24"


def test_cli_refuses_schedule_with_single_report_options(capsys):
    assert main(["report", "--schedule", "x.yaml", "--authority", "Derby"]) == 2
    assert "give either --schedule or --authority" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# What changed (fast, on figures as written to figures.json)


def figures(**changes) -> dict:
    base = {
        "verdict": "Amber",
        "reasons": ["Amber: 1,580 under-5s per centre, above the 600-1,200 range",
                    "Green: 100% of all under-5s live within 2.5 km of a centre"],
        "figures": {"under5": 15795.0, "share_within_reach": 0.9, "centres": 10},
        "localities": {"East": {"rag": "Amber", "under5": 3019.0, "centres": 2}},
        "centres": {
            "CC01": {"name": "One", "locality": "East", "easting": 1.0, "northing": 2.0,
                     "load_status": "within range"},
            "CC02": {"name": "Two", "locality": "East", "easting": 5.0, "northing": 5.0,
                     "load_status": "above range"},
        },
        "standards": {"reach_km": 2.5, "source": "a.yaml"},
        "inputs": {"centres_sha256": "a" * 64, "data_sha256": "b" * 64},
        "data_vintages": {"deprivation": "IoD2025"},
        "notes": [],
        "report_date": "2026-11-24",
    }
    for key, value in changes.items():
        base[key] = value
    return base


def test_identical_figures_have_no_changes_and_float_noise_is_ignored():
    noisy = figures(figures={"under5": 15795.0000001, "share_within_reach": 0.90000001,
                             "centres": 10})
    table = compare_figures(figures(), noisy)
    assert isinstance(table, pd.DataFrame) and table.empty
    assert list(table.columns) == ["section", "item", "before", "after"]


def test_changes_list_verdict_first_then_figures_and_centres():
    after = figures(
        verdict="Red",
        reasons=["Red: 1,900 under-5s per centre, far above the 600-1,200 range",
                 "Green: 95% of all under-5s live within 2.5 km of a centre"],
        figures={"under5": 15795.0, "share_within_reach": 0.85, "centres": 9},
        centres={"CC02": {"name": "Two", "locality": "East", "easting": 5.0, "northing": 305.0,
                          "load_status": "far above range"}},
        standards={"reach_km": 2.0, "source": "b.yaml"},
        inputs={"centres_sha256": "c" * 64, "data_sha256": "b" * 64},
    )
    table = compare_figures(figures(), after)
    assert table.iloc[0].tolist() == ["Verdict", "Authority verdict", "Amber", "Red"]
    rows = {(r.section, r.item): (r.before, r.after) for r in table.itertuples()}
    assert rows[("Figures", "Under-5s within reach")] == ("90.0%", "85.0%")
    assert rows[("Figures", "Centres serving residents")] == ("10", "9")
    assert rows[("Centres", "CC01 One")] == ("listed (East)", "closed")
    assert rows[("Centres", "CC02 Two: location")] == ("", "moved 300 m")
    assert rows[("Centres", "CC02 Two: load status")] == ("above range", "far above range")
    assert rows[("Standards", "reach_km")] == ("2.5", "2.0")
    assert rows[("Inputs", "Centres file")] == ("a" * 12, "c" * 12)
    assert ("Figures", "Under-5s") not in rows  # unchanged figures are not listed
    # The same rule with new numbers is one row, not a removal and an addition.
    assert rows[("Reasons", "Reason")] == (
        "Green: 100% of all under-5s live within 2.5 km of a centre",
        "Green: 95% of all under-5s live within 2.5 km of a centre",
    )
    assert rows[("Reasons", "Reason no longer applies")][0].startswith("Amber: 1,580")
    assert rows[("Reasons", "New reason")][1].startswith("Red: 1,900")
    sections = table["section"].drop_duplicates().tolist()
    assert sections == ["Verdict", "Centres", "Figures", "Reasons", "Standards", "Inputs"]


# ---------------------------------------------------------------------------------------------
# Real runs: Papermill + nbconvert (+ Chromium when present)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """Derby (good), Derby with a scenario (the consultation evidence pack, published beside
    that day's report) and Thurrock (broken centres), run through the command line with two
    workers."""
    folder = tmp_path_factory.mktemp("schedule")
    (folder / "thurrock_centres.csv").write_text("centre_id,name\nT1,Grays\n")
    (folder / "scenario.yaml").write_text("name: Close Spondon\nactions:\n  - close: CC03\n")
    formats = "[html, pdf]" if CHROMIUM else "[html]"
    schedule = folder / "schedule.yaml"
    schedule.write_text(
        "runs:\n"
        "  - authority: Derby\n"
        f"    centres: {DERBY_CENTRES}\n"
        f"    formats: {formats}\n"
        "  - authority: Derby\n"
        f"    centres: {DERBY_CENTRES}\n"
        "    scenario: scenario.yaml\n"
        "  - authority: Thurrock\n"
        "    centres: thurrock_centres.csv\n"
    )
    root = folder / "reports"
    done = subprocess.run(
        [sys.executable, "-m", "planning.apps.cli", "report", "--schedule", str(schedule),
         "--out", str(root), "--workers", "2", "--date", FIRST.isoformat()],
        capture_output=True, text=True, cwd=folder, timeout=300,
    )
    return folder, root, done


@pytest.mark.slow
def test_exit_status_and_summary_say_one_failed(first_run):
    _, root, done = first_run
    assert done.returncode == 1, done.stderr
    assert "3 report(s)" in done.stdout and "2 published, 1 failed" in done.stdout
    assert "without encryption" not in done.stderr  # the kernel talks over Unix sockets
    assert f"Index: {root / 'index.html'}" in done.stdout
    # One progress line per authority on stderr, with timing.
    assert re.search(r"\] Derby \(E06000015\) 2026-11-24: published in [\d.]+ s", done.stderr)
    assert re.search(r"\] Thurrock \(E06000034\) 2026-11-24: FAILED after [\d.]+ s", done.stderr)


@pytest.mark.slow
def test_good_report_is_published_with_manifest(first_run):
    folder, root, _ = first_run
    report = root / "derby" / "2026-11-24"
    names = {p.name for p in report.iterdir()}
    assert {"sufficiency-derby-2026-11-24.html", "sufficiency-derby-2026-11-24.ipynb",
            "manifest.json", "figures.json"} <= names
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["authority"]["code"] == "E06000015"
    assert "scenario" not in manifest["parameters"] and "scenario" not in manifest
    text = text_of((report / "sufficiency-derby-2026-11-24.html").read_text())
    assert "Consultation evidence" not in text
    assert manifest["parameters"]["report_date"] == "2026-11-24"
    assert manifest["inputs"]["centres"]["sha256"] == file_sha256(DERBY_CENTRES)
    assert len(manifest["inputs"]["data"]["sha256"]) == 64
    assert "deprivation" in manifest["data_vintages"]
    assert manifest["versions"]["planning"] and manifest["versions"]["papermill"]
    assert manifest["duration_seconds"] > 0 and manifest["finished"] >= manifest["started"]
    assert manifest["verdict"] in {"Red", "Amber", "Green"} and manifest["changes"] is None
    page = (report / "sufficiency-derby-2026-11-24.html").read_text()
    text = text_of(page)
    assert "What changed since the last report" in text and "No earlier report" in text
    assert text.index("What changed") < text.index("Headline figures")
    assert "run_sufficiency" not in page and "report_figures" not in page  # no code
    assert_offline(page)


@pytest.mark.slow
def test_scenario_report_is_published_beside_the_days_report_never_over_it(first_run):
    folder, root, _ = first_run
    assert sorted(p.name for p in (root / "derby").iterdir()) == [
        "2026-11-24", "2026-11-24-scenario-scenario"]  # fmt: skip
    report = root / "derby" / "2026-11-24-scenario-scenario"
    stem = "sufficiency-derby-2026-11-24-scenario-scenario"
    assert {f"{stem}.html", f"{stem}.ipynb"} <= {p.name for p in report.iterdir()}
    manifest = json.loads((report / "manifest.json").read_text())
    assert manifest["scenario"] == {"file": "scenario.yaml", "name": "Close Spondon"}
    assert manifest["parameters"]["scenario"] == str(folder / "scenario.yaml")
    assert manifest["inputs"]["scenario"]["sha256"] == file_sha256(folder / "scenario.yaml")
    assert "Consultation evidence: Close Spondon" in text_of((report / f"{stem}.html").read_text())
    index = (root / "index.html").read_text()
    assert f'href="derby/2026-11-24-scenario-scenario/{stem}.html"' in index
    assert text_of(index).count("Scenario, not the current network: Close Spondon") == 1


@pytest.mark.slow
def test_bad_report_is_kept_in_failed_with_a_readable_error(first_run):
    _, root, _ = first_run
    assert not (root / "thurrock").exists() or not any((root / "thurrock").iterdir())
    [failed] = list((root / "failed" / "thurrock").iterdir())
    assert failed.name.startswith("2026-11-24-")
    error = (failed / "error.txt").read_text()
    assert "Thurrock (E06000034) dated 2026-11-24 FAILED while executing the notebook" in error
    assert "Nothing was published" in error
    assert "ValidationError" in error and "thurrock_centres.csv" in error and "row 2" in error
    assert "\x1b[" not in error  # no terminal colour codes
    notebook = json.loads((failed / "sufficiency-thurrock-2026-11-24.ipynb").read_text())
    assert any(o.get("output_type") == "error" for c in notebook["cells"]
               for o in c.get("outputs", []))
    manifest = json.loads((failed / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "row 2" in manifest["error"]


@pytest.mark.slow
def test_index_lists_every_run_with_status_and_links(first_run):
    _, root, _ = first_run
    page = (root / "index.html").read_text()
    assert_offline(page)
    assert "<script" not in page
    text = text_of(page)
    assert "Derby (E06000015)" in text and "Thurrock (E06000034)" in text
    assert "2 published, 1 failed" in text
    for href in re.findall(r'href="([^"]+)"', page):
        assert (root / html.unescape(href)).exists(), href
    assert 'href="derby/2026-11-24/sufficiency-derby-2026-11-24.html"' in page


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed (make system-deps)")
def test_pdf_is_printed_with_chromium(first_run):
    _, root, _ = first_run
    pdf = root / "derby" / "2026-11-24" / "sufficiency-derby-2026-11-24.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf.stat().st_size > 10_000


@pytest.fixture(scope="module")
def second_run(first_run):
    """Derby again the next day, in this process (so filterwarnings=error applies): compared
    with the day's report before, never with the scenario report beside it."""
    folder, root, _ = first_run
    spec = report_spec("Derby", out=root)
    [outcome] = run_schedule([spec], date=SECOND, progress=False)
    return root, outcome


@pytest.mark.slow
def test_second_run_shows_nothing_changed(second_run):
    root, outcome = second_run
    assert outcome.ok, outcome.error
    assert outcome.changes == 0 and outcome.previous_date == "2026-11-24"
    text = text_of(outcome.html.read_text())
    assert "What changed since the report of 24 November 2026" in text
    assert "Nothing changed" in text
    assert text.index("Nothing changed") < text.index("Headline figures")
    manifest = json.loads((outcome.folder / "manifest.json").read_text())
    assert manifest["changes"] == [] and manifest["previous"]["report_date"] == "2026-11-24"
    index = (root / "index.html").read_text()
    assert index.index("<td>2026-11-25</td>") < index.index("<td>2026-11-24</td>")  # newest first
    assert "no change since 2026-11-24" in index


@pytest.fixture(scope="module")
def rerun_same_date(second_run, tmp_path_factory):
    """Derby on the same date again with one centre closed: replaces that date's report."""
    root, _ = second_run
    fewer = tmp_path_factory.mktemp("centres") / "derby_minus_cc01.csv"
    lines = DERBY_CENTRES.read_text().splitlines()
    fewer.write_text("\n".join(line for line in lines if not line.startswith("CC01,")) + "\n")
    spec = report_spec("Derby", centres=fewer, out=root)
    [outcome] = run_schedule([spec], date=SECOND, progress=False)
    return root, outcome


@pytest.mark.slow
def test_same_date_rerun_replaces_report_and_lists_changes(rerun_same_date):
    root, outcome = rerun_same_date
    assert outcome.ok, outcome.error
    assert outcome.previous_date == "2026-11-25" and outcome.changes > 0
    assert sorted(p.name for p in (root / "derby").iterdir()) == [
        "2026-11-24", "2026-11-24-scenario-scenario", "2026-11-25"]  # fmt: skip
    manifest = json.loads((outcome.folder / "manifest.json").read_text())
    closed = [c for c in manifest["changes"] 
              if c["section"] == "Centres" and c["after"] == "closed"]
    assert [c["item"] for c in closed] == ["CC01 Illustrative site 1 (near Allestree)"]
    assert any(c["item"] == "Centres file" for c in manifest["changes"])
    text = text_of(outcome.html.read_text())
    assert "What changed since the report of 25 November 2026" in text and "closed" in text


@pytest.mark.slow
def test_failed_rerun_never_replaces_the_published_report(rerun_same_date, tmp_path):
    root, published = rerun_same_date
    before = (published.folder / "manifest.json").read_text()
    bad = tmp_path / "centres.csv"
    bad.write_text("centre_id,name\nA,One\n")
    [outcome] = run_schedule(
        [report_spec("Derby", centres=bad, out=root)], date=SECOND, progress=False
    )
    assert not outcome.ok and "row 2" in outcome.error
    assert outcome.folder.parent == root / "failed" / "derby"
    assert (published.folder / "manifest.json").read_text() == before
    leftovers = [p.name for p in (root / "derby").iterdir() if p.name.startswith(".")]
    assert leftovers == []
