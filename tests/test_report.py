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
    assert "Children's centre sufficiency: Derby, 24 November 2026" in text
    assert "Derby (E06000015)" in text
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
    path = run_report(
        "Derby", scenario=scenario, out_root=tmp_path / "r", date=dt.date(2026, 11, 24)
    )
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
    assert re.search(
        r"\d+% of under-5s in income-deprived families \([\d,]+ of [\d,]+\) live outside", text
    )


# ------------------------------------------------- issue 13: the report to publication standard


def _visible(page: str) -> str:
    """The text a reader sees: no style, script or map page (an escaped iframe document)."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<iframe\b.*?</iframe>", " ", page, flags=re.S | re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_html_title_is_the_report_title(derby_report):
    _, path = derby_report
    page = path.read_text()
    head = page.split("</head>")[0]
    titles = re.findall(r"<title>(.*?)</title>", head, flags=re.S)
    assert [html.unescape(t) for t in titles] == [
        "Children's centre sufficiency: Derby, 24 November 2026"
    ]
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page, flags=re.S)[1]
    assert html.unescape(h1) == "Children's centre sufficiency: Derby, 24 November 2026"


def test_inputs_name_files_without_folders_and_hash_the_standards(derby_report):
    _, path = derby_report
    page = path.read_text()
    sources = html.unescape(page[page.index('<div class="sources">') :].split("</div>")[0])
    inputs = sources[sources.index("Inputs") :]
    assert "/tmp" not in inputs and str(path.parent) not in inputs
    assert not re.search(r"(^|[\s>])/(home|usr|tmp|work|var)/", inputs)
    assert "None" not in inputs
    standards = re.search(
        r"Standards: <code>([^<]+)</code>, SHA-256 <code[^>]*>([0-9a-f]+)<", inputs
    )
    assert standards, inputs
    assert standards[1] == "planning/standards.yaml"
    from planning import settings
    from planning._files import file_sha256

    assert re.fullmatch(r"[0-9a-f]{64}", standards[2])
    assert standards[2] == file_sha256(settings.package_path("standards.yaml"))
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["inputs"]["standards"]["sha256"] == standards[2]


def test_visible_text_has_no_code_names(derby_report):
    _, path = derby_report
    page = path.read_text()
    text = _visible(page)
    for code in (
        "per_under5",
        "proportionate_universalism",
        "under5_income_deprived",
        "need_index",
        "imd_score",
        "NaturalBreaks",
        "rank normalised",
        "1.60934",
    ):
        assert code not in text, code
    assert not re.search(r"(?<![\w-])(equal|idaci)(?![\w-])", text.replace("IDACI", ""))
    assert "Within 1 mile" in text
    # the map's legend (inside the map's own page) names its classes in words too
    assert "NaturalBreaks" not in html.unescape(page)
    assert "classes split at natural breaks" in html.unescape(page)


def test_plain_report_has_no_scenario_text_and_one_targeting_heading(derby_report):
    _, path = derby_report
    page = path.read_text()
    text = _visible(page)
    assert "scenario" not in text.lower()
    headings = re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", page, flags=re.S)
    targeting = [h for h in headings if "Targeting and outreach" in html.unescape(h)]
    assert len(targeting) == 1


def test_report_has_the_two_charts_with_alternative_text(derby_report):
    _, path = derby_report
    page = path.read_text()
    for chart, title in (
        ("chart-reach-by-deprivation", "Under-5s within 2.5 km of a centre, by deprivation decile"),
        ("chart-centre-loads", "Under-5s per centre against the standard of 600-1,200"),
    ):
        figure = page[page.index(f'<figure class="chart" id="{chart}">') :].split("</figure>")[0]
        svg = re.search(r"<svg[^>]*>", figure)[0]
        assert 'role="img"' in svg
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in figure
        assert html.unescape(re.search(r"<title[^>]*>(.*?)</title>", figure)[1]) == title
        assert "<figcaption>" in figure and "<rect" in figure
    loads = page[page.index('id="chart-centre-loads"') :].split("</figure>")[0]
    assert "standard 600-1,200 under-5s per centre" in html.unescape(loads)


def test_tables_have_one_header_row_left_names_and_coloured_verdicts(derby_report):
    _, path = derby_report
    page = path.read_text()
    tables = re.findall(r'<table class="planning[^"]*">.*?</table>', page, flags=re.S)
    assert tables
    for table in tables:
        assert table.count("<thead") <= 1
        head = re.search(r"<thead>(.*?)</thead>", table, flags=re.S)
        if head:
            assert head[1].count("<tr") == 1
            assert not re.search(r"<th[^>]*>\s*</th>", head[1]), "an empty header cell"
    localities = next(t for t in tables if ">Locality<" in t)
    east = re.search(r"<th ([^>]*)>East</th>", localities)
    assert east and 'scope="row"' in east[1] and 'class="text"' in east[1]
    verdicts = re.findall(r'<td class="text rag-cell rag-(Red|Amber|Green)">(\w+)</td>', localities)
    assert verdicts and all(css == word for css, word in verdicts)
    css = page.split("</style>")[0]
    assert "thead { display: table-header-group; }" in css
    assert "@page { size: A4;" in css and "break-after: avoid" in css


def test_report_blocks_in_words():
    from planning.outputs import report
    from planning.standards import Standards

    run = _strip_run(Standards())
    standards = _text(report.standards_table(run))
    assert (
        "estimated under-5s in income-deprived families (weight 0.5), Index of Multiple "
        "Deprivation score (weight 0.3), children under 5 (weight 0.2); each put on one scale by "
        "percentile rank" in standards
    )
    assert "under5_income_deprived" not in standards and "rank normalised" not in standards
    assert report.report_title("Derby", dt.date(2026, 11, 29)) == (
        "Children's centre sufficiency: Derby, 29 November 2026"
    )


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

    town = toy_town(
        rows=1, columns=5, under5=[100, 200, 300, 400, 500], imd_decile=[1, 2, 5, 8, 10]
    )
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


def test_map_legends_and_title_do_not_cover_the_city(derby_report, offline_browser):
    """In a real browser at A4 width, no box on the report map (title, legends) overlaps the
    drawn areas, catchments or reach rings; the illustrative notice is outside the map."""
    _, path = derby_report
    page, errors, _blocked = offline_browser(path)
    try:
        page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
        page.reload(wait_until="load")
        page.wait_for_timeout(500)
        frame = next(f for f in page.frames if f.query_selector(".leaflet-overlay-pane"))
        boxes, data = frame.evaluate(
            """() => {
              const rect = (e) => { const r = e.getBoundingClientRect();
                return [r.left, r.top, r.right, r.bottom]; };
              const shapes = [...document.querySelectorAll('.leaflet-overlay-pane path')]
                .map(rect).filter(r => r[2] > r[0]);
              const all = [Math.min(...shapes.map(r => r[0])), Math.min(...shapes.map(r => r[1])),
                           Math.max(...shapes.map(r => r[2])), Math.max(...shapes.map(r => r[3]))];
              return [[...document.querySelectorAll('.planning-box')].map(
                e => [e.textContent.slice(0, 40), rect(e)]), all];
            }"""
        )
        assert boxes, "no title or legend on the map"
        left, top, right, bottom = data
        assert right > left and bottom > top
        for text, (x0, y0, x1, y1) in boxes:
            overlap = min(x1, right) > max(x0, left) and min(y1, bottom) > max(y0, top)
            assert not overlap, f"'{text}' covers the mapped areas"
        assert not any("ILLUSTRATIVE" in text for text, _ in boxes)
        # (tile requests are refused: the test runs offline; the map draws without them)
        assert not [e for e in errors if e.startswith("uncaught")]
    finally:
        page.close()


def test_nothing_scrolls_when_printed(derby_report, offline_browser):
    """With print media at A4 width, no output keeps a scroll box (a printed scrollbar hides
    columns): every element that would overflow shows all of its content instead."""
    _, path = derby_report
    page, _errors, _blocked = offline_browser(path)
    try:
        page.set_viewport_size({"width": 718, "height": 1000})  # A4 less the print margins
        page.emulate_media(media="print")
        scrolling = page.evaluate(
            """() => [...document.querySelectorAll('body *')].filter(e => {
                 const s = getComputedStyle(e);
                 const scrolls = (v) => v === 'auto' || v === 'scroll';
                 return (scrolls(s.overflowX) && e.scrollWidth > e.clientWidth + 1)
                     || (scrolls(s.overflowY) && e.scrollHeight > e.clientHeight + 1);
               }).map(e => e.tagName + '.' + e.className)"""
        )
        assert scrolling == []
    finally:
        page.close()


def test_inputs_from_outside_the_project_are_named_by_file_name_only(tmp_path):
    """A council's own file kept elsewhere (here a temporary folder) is named by its file name
    in the report's inputs and standards table; its hash still identifies it."""
    import dataclasses

    from planning.outputs import report
    from planning.standards import Standards

    own = tmp_path / "council" / "standards.yaml"
    run = dataclasses.replace(
        _strip_run(Standards()),
        inputs={
            "centres_file": str(tmp_path / "centres.csv"),
            "centres_sha256": "a" * 64,
            "standards_file": str(own),
            "standards_sha256": "b" * 64,
            "data_file": "lsoa21_england.parquet",
            "data_sha256": "c" * 64,
        },
    )
    text = _text(report.sources_block(run)) + _text(report.standards_table(run))
    assert str(tmp_path) not in text and "/tmp" not in text
    assert re.search(r"Standards: standards\.yaml\s*, SHA-256 b{64}", text)
    assert re.search(r"Centres: centres\.csv\s*,", text)
    assert "Standards file standards.yaml" in text
