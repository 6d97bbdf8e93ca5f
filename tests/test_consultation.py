"""The consultation evidence section (report scenario mode)."""

import html
import re

import pytest

from planning.outputs import consultation
from planning.outputs.maps import assert_offline
from planning.analysis.scenarios import Scenario
from planning.runs.sufficiency import run_sufficiency


@pytest.fixture(scope="module")
def derby_run():
    return run_sufficiency("Derby")


def test_no_scenario_gives_nothing(derby_run):
    assert consultation.scenario_section(derby_run, None).data == ""


def test_section_reports_the_comparison(derby_run):
    scenario = Scenario("<script>alert(1)</script> closure").close("CC03")
    comparison = consultation.compare_run(derby_run, scenario)
    page = consultation.scenario_section(derby_run, scenario, tiles=None).data
    assert_offline(page)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    lost = comparison.areas_changed
    assert len(lost) > 0 and (lost["change"] == "loses reach").all()
    assert f"{lost['under5'].sum():,.0f} under-5s in {len(lost)} small area(s) lose" in text
    for code in lost.index:
        assert code in text
    before = comparison.before.figures["share_within_reach"]
    after = comparison.after.figures["share_within_reach"]
    assert f"{100 * before:.1f}%" in text and f"{100 * after:.1f}%" in text
    assert "Maps: before, after and the difference" in text
    assert page.count("<iframe") == 3


def test_pack_describes_a_move_given_in_latitude_longitude(derby_run):
    scenario = Scenario("Move Mackworth").move("CC05", latitude=52.9187, longitude=-1.5102)
    page = consultation.scenario_section(derby_run, scenario, tiles=None).data
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "move CC05 to latitude 52.919, longitude -1.5102" in text
    assert "to 0, 0" not in text
