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


# ------------------------------------------------- issue 11 §6: labels from the standards in force

COUNCIL_STANDARDS = {
    "load": {
        "min_under5_per_centre": 500,
        "target_under5_per_centre": 800,
        "max_under5_per_centre": 1000,
    },
    "deprivation": {"most_deprived_deciles": [1, 2]},
}


def _strip_run(standards):
    from conftest import make_centres
    from planning import toy_town
    from planning.analysis.sufficiency import assess_sufficiency
    from planning.runs.sufficiency import SufficiencyRun

    town = toy_town(rows=1, columns=5, under5=[100, 200, 300, 400, 500], imd_decile=[1, 2, 5, 8, 10])
    centres = make_centres({"A": (430_500.0, 335_500.0)}, locality=["West"])
    result = assess_sufficiency(town, centres, standards=standards)
    return SufficiencyRun(result, "T00000001", "Toy Town", {})


def _text(block) -> str:
    data = block.data if hasattr(block, "data") else block.get_root().render()
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", data)).split())


def test_report_blocks_word_the_council_standards(tmp_path):
    from planning.outputs import report
    from planning.standards import standards_from_dict

    run = _strip_run(standards_from_dict(COUNCIL_STANDARDS, source="council.yaml"))
    cards = _text(report.headline_cards(run))
    assert "of under-5s in the 20% most deprived areas within 2.5 km" in cards
    assert "under-5s per centre (standard 500-1,000)" in cards
    tables = " ".join(
        _text(block(run))
        for block in (
            report.locality_table,
            report.ward_table,
            report.access_table,
            report.standards_table,
            report.reasons_block,
        )
    )
    assert "20% most deprived within reach" in tables and "500-1,000" in tables
    legend = _text(report.report_map(run, tiles=None))
    assert "Gaps: 20% most deprived, out of reach" in legend
    assert "Gaps: 30%" not in legend
    for text in (cards, tables):
        # (1,200 under-5s do live in the "other areas": only the standard's wording is absent)
        assert "30%" not in text and "600" not in text and "1,200 max" not in text


def test_headline_cards_do_not_show_the_0_15_count_as_a_subset():
    from planning.outputs import report
    from planning.standards import Standards

    run = _strip_run(Standards())
    a = run.result.authority
    # toy town: idaci_children = 0.2 x 3 x under-5s = 900 (aged 0-15); under-5s 1,500, of whom
    # an estimated 0.2 x 1,500 = 300 are in income-deprived families.
    assert a["idaci_children"] == 900 and a["under5_income_deprived"] == pytest.approx(300)
    cards = _text(report.headline_cards(run))
    assert "1,500 children under 5" in cards
    assert "300 estimated under-5s in income-deprived families" in cards
    assert "900" not in cards
    centres = _text(report.centre_table(run))
    assert "Children aged 0-15 in income-deprived families (IDACI)" in centres


def test_short_distance_is_worded_from_the_standards():
    """'1 mile' is the default short distance's name; a council's 1.5 km is called 1.5 km, and
    the standards table no longer writes '1.60934 km (1 mile)'."""
    from planning.analysis.scenarios import headlines
    from planning.outputs import report
    from planning.standards import Standards, standards_from_dict

    default = " ".join(
        _text(block(_strip_run(Standards())))
        for block in (report.access_table, report.ward_table, report.standards_table)
    )
    assert "Within 1 mile" in default and "1.60934" not in default
    council = standards_from_dict({"reach": {"short_distance_km": 1.5}}, source="council.yaml")
    tables = " ".join(
        _text(block(_strip_run(council)))
        for block in (report.access_table, report.ward_table, report.standards_table)
    )
    assert "Within 1.5 km" in tables and "1 mile" not in tables
    assert headlines(council)["share_within_short"][0] == "Share within 1.5 km"
