"""Text from input files, manifests and viewers is escaped everywhere the package writes HTML:
a centre named ``<script>alert(1)</script>`` in a locality named ``<img src=x onerror=alert(1)>``
(and an authority, an error text and a scenario with such names) reaches every page as text,
never as markup. Each test builds the real page or widget; nothing is mocked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import ipywidgets as w
import pandas as pd
import pytest

from planning.analysis.scenarios import Scenario
from planning.apps.dashboard.model import Dashboard
from planning.apps.dashboard.view import DashboardView
from planning.inputs.centres import read_centres
from planning.outputs import changes, consultation, report
from planning.outputs.maps import difference_map, offline_html, sufficiency_map
from planning.outputs.schedule import FAILED_DIR, MANIFEST, write_index
from planning.runs.sufficiency import run_sufficiency

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
#: How each name reads once escaped for HTML.
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", IMAGE: "&lt;img src=x onerror=alert(1)&gt;"}
RAW_TAGS = ("<script>alert", "<img src=x")


def assert_escaped(page: str, *names: str) -> None:
    """No name appears as a tag; each appears escaped."""
    for tag in RAW_TAGS:
        assert tag not in page
    for name in names:
        assert ESCAPED[name] in page, name


def folium_html(page: str) -> str:
    """The HTML a folium page puts into the DOM from JSON (GeoJSON tooltips, boxes), decoded:
    JSON strings written with ``\\u003c`` are markup once Leaflet sets them as innerHTML."""
    string = r'("(?:[^"\\]|\\.)*")'  # a JSON string literal
    found = re.findall(r'"tip": ' + string, page) + re.findall(r"innerHTML = " + string, page)
    assert found
    return "\n".join(json.loads(text) for text in found)


@pytest.fixture(scope="module")
def centres_file(tmp_path_factory, derby_centres_file):
    """Derby's centres with CC01 named SCRIPT and the West locality renamed IMAGE."""
    frame = pd.read_csv(derby_centres_file, dtype=str, keep_default_na=False)
    frame.loc[frame["centre_id"] == "CC01", "name"] = SCRIPT
    frame.loc[frame["locality"] == "West", "locality"] = IMAGE
    path = tmp_path_factory.mktemp("xss") / "centres.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def run(centres_file):
    return run_sufficiency("Derby", centres=centres_file)


def test_report_blocks_escape_names(run):
    named = dataclasses.replace(run, authority_name=SCRIPT, inputs={**run.inputs, IMAGE: SCRIPT})
    blocks = [
        report.title_block(named, date=dt.date(2026, 11, 24)),
        report.notes_block(named),
        report.headline_cards(named),
        report.reasons_block(named),
        report.locality_table(named),
        report.centre_table(named),
        report.sources_block(named),
    ]
    page = "".join(block.data for block in blocks)
    assert_escaped(page, SCRIPT, IMAGE)
    assert_escaped(report.title_block(named).data, SCRIPT)
    assert_escaped(report.centre_table(named).data, SCRIPT, IMAGE)


def test_index_escapes_authority_error_and_verdict_change(tmp_path):
    ok = tmp_path / "derby" / "2026-11-24"
    failed = tmp_path / FAILED_DIR / "derby" / "2026-11-25-010203"
    for folder in (ok, failed):
        folder.mkdir(parents=True)
    (ok / MANIFEST).write_text(json.dumps({
        "status": "ok", "report_date": "2026-11-24", "started": "2026-11-24T01:00:00",
        "authority": {"name": SCRIPT, "code": IMAGE}, "verdict": "Red",
        "previous": {"report_date": "2026-10-24"},
        "changes": [{"section": "Verdict", "before": SCRIPT, "after": IMAGE}],
        "files": {},
    }))
    (failed / MANIFEST).write_text(json.dumps({
        "status": "failed", "report_date": "2026-11-25", "started": "2026-11-25T01:02:03",
        "authority": {"name": "Derby", "code": "E06000015"}, "error": f"centres.csv: {IMAGE}",
        "files": {},
    }))
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert_escaped(page, SCRIPT, IMAGE)
    assert 'class="error">centres.csv: &lt;img' in page


def test_what_changed_escapes_centre_names(run, tmp_path, derby_centres_file):
    before = changes.report_figures(
        run_sufficiency("Derby", centres=derby_centres_file), date=dt.date(2026, 10, 24)
    )
    previous = changes.save_figures(before, tmp_path / "figures.json")
    now = changes.report_figures(run, date=dt.date(2026, 11, 24))
    page = changes.changes_block(now, previous=previous).data
    assert_escaped(page, SCRIPT, IMAGE)


def test_consultation_pack_escapes_names(run):
    scenario = Scenario(SCRIPT).close("CC02")
    page = consultation.scenario_section(run, scenario, tiles=None).data
    assert_escaped(page, SCRIPT, IMAGE)


def test_map_popups_and_tooltips_escape_names(run):
    result = run.result
    m = sufficiency_map(
        result.areas, result.centres, tiles=None, title=SCRIPT, note=IMAGE,
        localities=result.localities,
    )
    page = offline_html(m)
    assert_escaped(page, SCRIPT, IMAGE)  # popups, marker tooltips, the page title
    assert_escaped(folium_html(page), SCRIPT, IMAGE)  # area tooltips, title and note boxes
    after = result.centres.drop(index="CC02")
    diff = difference_map(result.areas, result.areas, result.centres, after, tiles=None)
    assert_escaped(offline_html(diff), SCRIPT)


def _html_values(widget: w.Widget) -> list[str]:
    """Every HTML text shown by a widget tree."""
    found = [widget.value] if isinstance(widget, w.HTML) else []
    for child in getattr(widget, "children", ()):
        found += _html_values(child)
    return found


def test_dashboard_widgets_escape_names(derby_areas, centres_file):
    centres = read_centres(centres_file, areas=derby_areas)
    board = Dashboard(derby_areas, centres, authority_code=IMAGE, authority_name=SCRIPT)
    view = DashboardView(board)
    view.locality.value = IMAGE  # the table highlights it, the cards describe it
    view._say(f"no centre {SCRIPT}", error=True)
    page = "".join(_html_values(view.widget))
    assert_escaped(page, SCRIPT, IMAGE)
    assert 'data-locality="&lt;img src=x onerror=alert(1)&gt;"' in page


def test_reach_and_targeting_sections_escape_names(run, tmp_path):
    from planning.inputs.synthetic import synthetic_registrations, write_synthetic_registrations
    from planning.runs.reach import publish_reach, reach_html
    from planning.runs.reach import run_reach as reach_run
    from planning.runs.targeting import run_targeting, targeting_html

    extract = write_synthetic_registrations(
        synthetic_registrations(run.result.areas, seed=3, as_of=dt.date(2025, 3, 31)),
        tmp_path / "extract_synthetic.csv",
    )
    reached = reach_run("Derby", extract, as_of=dt.date(2025, 3, 31), run=run)
    published = publish_reach(reached.result)
    published = dataclasses.replace(published, notes=[*published.notes, SCRIPT])
    page = reach_html(published, title=IMAGE)
    assert_escaped(page, SCRIPT, IMAGE)  # a note and the title
    assert ESCAPED[IMAGE] in page  # the locality table's row for the renamed locality
    targeting = run_targeting("Derby", run=run)
    named = dataclasses.replace(targeting, authority_name=SCRIPT, notes=[IMAGE])
    assert_escaped(targeting_html(named), SCRIPT, IMAGE)
