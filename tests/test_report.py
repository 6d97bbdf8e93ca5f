"""The default report: Papermill really executes the notebook and nbconvert renders it."""

import datetime as dt
import html
import json
import re

import pytest

from planning import PlanningError
from planning.outputs.maps import assert_offline
from planning.outputs.schedule import run_report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def derby_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    path = run_report("Derby", out_root=root, date=dt.date(2026, 11, 24))
    return root, path


def test_report_is_published_under_authority_and_date(derby_report):
    root, path = derby_report
    assert path == root / "derby" / "2026-11-24" / "sufficiency-derby-2026-11-24.html"
    assert {p.name for p in path.parent.iterdir()} >= {
        "sufficiency-derby-2026-11-24.html",
        "sufficiency-derby-2026-11-24.ipynb",
        "manifest.json",
    }
    assert [p.name for p in root.iterdir()] == ["derby"]  # no staging folders left


def test_report_has_figures_verdict_and_no_code(derby_report):
    _, path = derby_report
    page = path.read_text()
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "Children's centre sufficiency: Derby (E06000015)" in text
    assert "24 November 2026" in text
    assert "15,795" in text  # under-5s
    assert "ILLUSTRATIVE" in text and "--centres FILE" in text
    assert re.search(r"(Red|Amber|Green): \d+", text)
    assert "Open Government Licence" in text
    # No code cells: neither the imports nor the calls appear.
    assert "run_sufficiency" not in page and "import planning" not in page


def test_report_is_self_contained(derby_report):
    _, path = derby_report
    page = path.read_text()
    assert_offline(page)
    assert "leaflet" in page.lower()
    # The map's polygons are embedded (LSOA codes appear in the GeoJSON).
    assert "E01013453" in html.unescape(page)


def test_executed_notebook_used_the_parameters(derby_report):
    _, path = derby_report
    nb = json.loads(path.with_suffix(".ipynb").read_text())
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and "E06000015" in "".join(injected[0]["source"])


def test_failed_run_publishes_nothing(tmp_path):
    bad = tmp_path / "centres.csv"
    bad.write_text("centre_id,name\nA,One\n")
    root = tmp_path / "reports"
    with pytest.raises(PlanningError, match="row 2"):
        run_report("Derby", centres=bad, out_root=root, date=dt.date(2026, 11, 24))
    assert not (root / "derby" / "2026-11-24").exists()
    leftovers = list((root / "derby").iterdir()) if (root / "derby").exists() else []
    assert leftovers == []


def test_scenario_mode_adds_the_consultation_evidence(tmp_path):
    scenario = tmp_path / "close.yaml"
    scenario.write_text("name: Close Spondon\nactions:\n  - close: CC03\n")
    path = run_report("Derby", scenario=scenario, out_root=tmp_path / "r", date=dt.date(2026, 11, 24))
    page = path.read_text()
    assert_offline(page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "Consultation evidence: Close Spondon" in text
    assert "close CC03" in text and "lose reasonable reach" in text
    assert "Maps: before, after and the difference" in text


def test_default_report_has_targeting_but_no_consultation_section(derby_report):
    _, path = derby_report
    text = html.unescape(re.sub(r"<[^>]+>", " ", path.read_text()))
    assert "Consultation evidence" not in text
    assert "Targeting and outreach: Derby" in text
    assert re.search(r"\d+% of under-5s in income-deprived families \([\d,]+ of [\d,]+\) live outside", text)
