"""The planner notebooks: committed clean and paired, thin, and executed by Papermill for Derby
and Thurrock with every figure matching the library and every map drawing offline."""

from __future__ import annotations

import ast
import html
import json
import re
import time

import jupytext
import nbformat
import pytest

from planning import load_areas
from planning.outputs import report
from planning.apps import workbench
from planning.outputs.maps import assert_offline

from conftest import REPO

NOTEBOOKS = REPO / "notebooks"
#: The notebooks the package runs (the report) and serves (the dashboard): package resources.
PACKAGED = REPO / "src" / "planning"
PLANNER = ("01_need", "02_access_and_catchments", "03_sufficiency", "04_scenarios")
COMMITTED = (
    sorted(NOTEBOOKS.glob("*.ipynb"))
    + sorted((PACKAGED / "notebooks").glob("*.ipynb"))
    + sorted((PACKAGED / "dashboards").glob("*.ipynb"))
)
#: The change each authority's scenario notebook tests: Derby's given, Thurrock's defaults.
SCENARIO = {
    "E06000015": {"close": "CC03", "open_postcode": "DE21 4ET"},
    "E06000034": {},
}


def _name(path) -> str:
    return f"{path.parent.name}/{path.name}"


def _cells(notebook) -> list[tuple[str, str, list[str]]]:
    return [
        (cell.cell_type, cell.source.strip(), list(cell.metadata.get("tags", [])))
        for cell in notebook.cells
    ]


def test_planner_notebooks_exist():
    for stem in PLANNER:
        assert (NOTEBOOKS / f"{stem}.py").is_file() and (NOTEBOOKS / f"{stem}.ipynb").is_file()


def test_packaged_notebooks_are_the_ones_the_package_runs():
    from planning.apps.dashboard.server import dashboard_notebook

    assert report.report_notebook() == PACKAGED / "notebooks" / "sufficiency_report.ipynb"
    assert dashboard_notebook() == PACKAGED / "dashboards" / "sufficiency.ipynb"
    # One copy each: the repository's notebooks/ and dashboards/ hold no drifting duplicate.
    assert not (NOTEBOOKS / "sufficiency_report.ipynb").exists()
    assert not list((REPO / "dashboards").glob("*.ipynb"))


@pytest.mark.parametrize("path", COMMITTED, ids=_name)
def test_committed_notebook_has_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {number} has outputs: clear them before committing"
            assert cell.execution_count is None, f"cell {number} has an execution count"


@pytest.mark.parametrize("path", COMMITTED, ids=_name)
def test_notebook_matches_its_paired_script(path):
    script = path.with_suffix(".py")
    assert script.is_file(), f"{_name(path)} has no paired script; run jupytext --sync"
    assert _cells(nbformat.read(path, as_version=4)) == _cells(jupytext.read(script)), (
        f"{_name(path)} and {script.name} differ: run .venv/bin/jupytext --sync {script}"
    )


#: Python constructs a thin notebook leaves to the library.
_LOGIC = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.While,
    ast.If, ast.ListComp, ast.DictComp, ast.SetComp, ast.GeneratorExp,
)  # fmt: skip


@pytest.mark.parametrize("stem", PLANNER)
def test_planner_notebook_is_thin_with_a_parameters_cell(stem):
    notebook = jupytext.read(NOTEBOOKS / f"{stem}.py")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    parameters: dict[str, object] = {}
    exec(code[0].source, {}, parameters)  # noqa: S102 - our own literal assignments
    assert {"authority", "centres", "standards"} <= set(parameters)
    assert parameters["centres"] is None and parameters["standards"] is None
    for cell in code:
        logic = [type(node).__name__ for node in ast.walk(ast.parse(cell.source))
                 if isinstance(node, _LOGIC)]  # fmt: skip
        assert not logic, f"{stem}: move {logic} into the library (planning.apps.workbench)"
    markdown = [cell for cell in notebook.cells if cell.cell_type == "markdown"]
    assert markdown[0].source.startswith("# ") and len(markdown) >= 3  # a narrative


# ------------------------------------------------------------------------------ views


def test_table_writes_every_figure_for_people():
    import pandas as pd

    from planning import ValidationError
    from planning.outputs.notebook import table

    frame = pd.DataFrame(
        {
            "under5": [15795.0, float("nan")],
            "share_within_reach": [0.4528, 1.0],
            "rag": ["Amber", "Red"],
            "reasons": [["Amber: 1,580 under-5s per centre, above the 600-1,200 range"], []],
            "weights": [{"under5": 0.2}, {"imd_score": 0.3}],
        },
        index=pd.Index(["West", "East"], name="locality"),
    )
    shown = str(table(frame, {"rag": "verdict", "reasons": "reasons"}, index="Locality"))
    assert ">15,795<" in shown and ">n/a<" in shown and ">45.3%<" in shown
    assert '<td class="verdict rag-Amber">Amber</td>' in shown
    # Reasons in full, one per line; mappings written out, never a repr.
    assert "<li>Amber: 1,580 under-5s per centre, above the 600-1,200 range</li>" in shown
    assert ">under5: 0.2<" in shown and "{" not in shown and "NaN" not in shown
    # One header row, the index named in it.
    assert shown.count("<tr>") == 3 and ">Locality</th>" in shown
    assert str(table(frame.iloc[:0], empty="No gap.")) == '<p class="empty">No gap.</p>'
    with pytest.raises(ValidationError, match="unknown format"):
        table(frame, {"rag": "colour"})


def test_view_carries_its_own_scoped_stylesheet():
    from planning.outputs.notebook import VIEW_CLASS, view, view_css

    run_cards = report.rag_badge("Green")
    shown = view(run_cards).data
    assert (
        shown.startswith(f'<div class="{VIEW_CLASS}">') and '<span class="rag rag-Green">' in shown
    )
    css = re.sub(r"/\*.*?\*/", "", view_css(), flags=re.DOTALL)
    assert f'<style type="text/css">\n{view_css()}' in shown
    selectors = [rule.split("{")[0] for rule in css.split("}") if "{" in rule]
    assert selectors and all(
        part.strip().startswith(f".{VIEW_CLASS}") for sel in selectors for part in sel.split(",")
    )
    assert "url(" not in css and "@import" not in css and "http" not in css
    for rule in (".card {", ".rag-Amber {", ".note {", "table.planning td"):
        assert rule in css


def test_example_scenario_can_close_alone(strip_town):
    from planning.analysis.scenarios import ScenarioEngine

    from conftest import make_centres

    centres = make_centres(
        {"A": (430_500.0, 335_500.0), "B": (434_500.0, 335_500.0)}, locality=["West", "East"]
    )
    engine = ScenarioEngine(strip_town, centres)
    scenario = workbench.example_scenario(engine, open_at_gap=False)
    assert scenario.describe() == ["close A"] and scenario.name == "Close A"
    comparison = engine.compare(scenario)
    assert not comparison.areas_changed.empty  # the closure alone leaves areas beyond reach
    assert "- Close A" in workbench.change_list(scenario).data


# ------------------------------------------------------------------------------ executed


def _parameters(stem: str) -> dict[str, object]:
    """The notebook's default parameters, from its parameters cell."""
    notebook = jupytext.read(NOTEBOOKS / f"{stem}.py")
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    parameters: dict[str, object] = {}
    exec(cell.source, {}, parameters)  # noqa: S102 - our own literal assignments
    return parameters


def _execute(stem: str, tmp_path, **parameters):
    import papermill

    output = tmp_path / f"{stem}.ipynb"
    started = time.perf_counter()
    papermill.execute_notebook(
        str(NOTEBOOKS / f"{stem}.ipynb"),
        str(output),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOKS),
    )
    print(f"{stem} {parameters.get('authority')}: {time.perf_counter() - started:.1f} s")
    return nbformat.read(output, as_version=4)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """``run(stem, authority, **parameters)``: the notebook executed by Papermill, once per
    module for each set of parameters (several tests read the same run)."""
    runs: dict[tuple, object] = {}

    def run(stem: str, authority: str, **parameters):
        key = (stem, authority, tuple(sorted(parameters.items())))
        if key not in runs:
            folder = tmp_path_factory.mktemp(f"{stem}-{authority}")
            runs[key] = _execute(stem, folder, authority=authority, **parameters)
        return runs[key]

    return run


def _outputs(notebook, mime: str) -> list[str]:
    return [
        output["data"][mime]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if mime in output.get("data", {})
    ]


def _maps(notebook) -> list[str]:
    return [page for page in _outputs(notebook, "text/html") if "srcdoc=" in page]


def _scenario(authority: str) -> dict[str, object]:
    """The change the scenario notebook tests for ``authority``: its defaults, then the test's."""
    defaults = _parameters("04_scenarios")
    keys = ("close", "open_postcode", "open_at_gap")
    return {key: defaults[key] for key in keys} | SCENARIO[authority]


def _expected(stem: str, authority: str) -> tuple[list[str], list[str]]:
    """What the library gives for the notebook's views: (Markdown texts, HTML blocks)."""
    if stem == "01_need":
        need = workbench.load_need(authority)
        return [workbench.need_headline(need).data], [
            workbench.need_table(need).data,
            workbench.highest_need(need, 10).data,
        ]
    if stem in ("02_access_and_catchments", "03_sufficiency"):
        run = workbench.assess(authority)
        if stem.startswith("02"):
            blocks = [report.access_table(run), report.centre_table(run)]
        else:
            blocks = [report.headline_cards(run), report.reasons_block(run)]
            blocks.append(report.locality_table(run))
        return [], [workbench.view(block).data for block in blocks]
    engine = workbench.scenario_engine(authority)
    comparison = engine.compare(workbench.example_scenario(engine, **_scenario(authority)))
    return [workbench.comparison_summary(comparison).data], [
        workbench.comparison_headline(comparison).data,
        workbench.comparison_loads(comparison).data,
    ]


AUTHORITIES = pytest.mark.parametrize(
    "authority", ["E06000015", "E06000034"], ids=["Derby", "Thurrock"]
)


@pytest.mark.slow
@AUTHORITIES
@pytest.mark.parametrize("stem", PLANNER)
def test_notebook_runs_and_shows_the_library_figures(
    stem, authority, executed, tmp_path, offline_browser
):
    extra = SCENARIO[authority] if stem == "04_scenarios" else {}
    notebook = executed(stem, authority, **extra)
    markdown, html = _expected(stem, authority)
    shown_markdown, shown_html = (
        _outputs(notebook, "text/markdown"),
        _outputs(notebook, "text/html"),
    )
    for text in markdown:
        assert text in shown_markdown
    for block in html:
        assert block in shown_html
    if stem == "04_scenarios" and authority == "E06000015":
        assert "Close CC03" in str(notebook.cells)
        assert "open new centre at DE21 4ET" in "".join(shown_markdown)

    # Every map is offline-safe and draws its polygons with the network off.
    maps = _maps(notebook)
    assert len(maps) == 1
    assert_offline(maps[0])
    target = tmp_path / "map.html"
    target.write_text(f"<!DOCTYPE html><html><body>{maps[0]}</body></html>", encoding="utf-8")
    page, errors, blocked = offline_browser(target)
    drawn = page.frame_locator("iframe").locator("path.leaflet-interactive").count()
    areas = len(load_areas(authority))
    assert drawn > (10 if stem == "04_scenarios" else areas)
    assert all("tile.openstreetmap.org" in url for url in blocked)
    assert [e for e in errors if "Failed to load resource" not in e] == []


#: What a figure must never look like once shown: a Python repr or an unformatted number.
_RAW = {
    "a list or dict repr": re.compile(r"[\[{(]\s*['\"]|\[\s*\d|\{\s*\d"),
    "NaN": re.compile(r"\bnan\b", re.IGNORECASE),
    "a long unformatted float": re.compile(r"\d\.\d{4,}"),
    "a whole number shown with decimals": re.compile(r"\b\d{4,}\.0+\b(?!%)"),
    "a count without thousands separators": re.compile(r"^\d{5,}(?:\.\d+)?$"),
    "a truncated text": re.compile(r"…|\.\.\.\s*$"),
}
_CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.DOTALL)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


@pytest.mark.slow
@AUTHORITIES
@pytest.mark.parametrize("stem", PLANNER)
def test_notebook_outputs_are_written_for_people(stem, authority, executed):
    notebook = executed(stem, authority, **(SCENARIO[authority] if stem == "04_scenarios" else {}))
    for number, cell in enumerate(notebook.cells, 1):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            # A view, never a bare repr: every result is HTML (tables, cards) or Markdown.
            assert output["output_type"] != "stream", f"cell {number} prints: {output}"
            assert "text/html" in data or "text/markdown" in data, (
                f"cell {number} shows a raw value: {data.get('text/plain', '')[:200]}"
            )
            shown = data.get("text/html", data.get("text/markdown", ""))
            if "srcdoc=" in shown:
                continue  # the map: checked by its own tests
            shown = re.sub(r"<style.*?</style>", "", shown, flags=re.DOTALL)
            cells = [_text(c) for c in _CELL.findall(shown)]
            for what, pattern in _RAW.items():
                for text in (
                    [*cells, _text(shown)] if what in ("NaN", "a list or dict repr") else cells
                ):
                    assert not pattern.search(text), f"cell {number} shows {what}: {text!r}"
            if "<table" in shown or 'class="card' in shown or 'class="note' in shown:
                # The look travels with the output: the stylesheet inline, scoped to the view.
                assert shown.lstrip().startswith('<div class="planning-view">'), f"cell {number}"
                assert ".planning-view .card {" in data["text/html"]
                assert (
                    "http" not in re.search(r"<style.*?</style>", data["text/html"], re.DOTALL)[0]
                )


@pytest.mark.slow
@AUTHORITIES
@pytest.mark.parametrize("stem", PLANNER[1:])
def test_planner_notebooks_carry_the_illustrative_notice(stem, authority, executed):
    from planning.analysis.sufficiency import ILLUSTRATIVE_NOTE

    notebook = executed(stem, authority, **(SCENARIO[authority] if stem == "04_scenarios" else {}))
    notices = [
        block for block in _outputs(notebook, "text/html")
        if '<div class="note">' in block and "srcdoc=" not in block
    ]  # fmt: skip
    assert notices, f"{stem} shows no notice"
    assert ILLUSTRATIVE_NOTE in html.unescape(notices[0])
    assert notices[0].lstrip().startswith('<div class="planning-view">')


@pytest.mark.slow
def test_scenario_notebook_defaults_move_the_headline(executed):
    """Run with its default parameters on Derby's illustrative network, the scenario notebook
    tests a change whose figures move: reach, not only the distances."""
    notebook = executed("04_scenarios", "E06000015")
    summary = "".join(_outputs(notebook, "text/markdown"))
    assert "No small area gains or loses reasonable reach." not in summary
    headline = next(b for b in _outputs(notebook, "text/html") if ">Figure</th>" in b)
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [_text(c) for c in _CELL.findall(row)]
            for row in re.findall(r"<tr>(.*?)</tr>", headline, re.DOTALL)
        )
    }
    before, after, change = rows["Share of under-5s within reach"]
    assert before != after and change != "+0.0 points"
    assert rows["Under-5s within reach"][2].startswith("-")


@pytest.mark.slow
def test_scenario_notebook_text_matches_the_map_symbols(executed):
    """The prose above the difference map names the symbols the map draws: filled green and
    red areas, a filled green circle opened, an empty red ring closed, a dark grey circle kept."""
    notebook = executed("04_scenarios", "E06000015", **SCENARIO["E06000015"])
    prose = next(
        " ".join(c.source.split())
        for c in notebook.cells
        if c.cell_type == "markdown" and c.source.startswith("## Map")
    )
    page = html.unescape(_maps(notebook)[0])
    # Each status marker's options, by the label of its tooltip.
    for label, colour, filled, words in (
        ("Opened", "#1a9850", True, "a filled green circle is a centre opened"),
        ("Closed", "#d73027", False, "an empty red ring a centre closed"),
        ("Kept", "#4d4d4d", True, "a filled dark grey circle a centre kept"),
    ):
        assert words in prose
        options = _marker_options(page, label)
        assert options["color"] == colour and options["fill"] is filled, (label, options)
    assert "Filled green areas gain reasonable reach and filled red areas lose it" in prose
    assert "grey ward outlines" in prose and "legend at the bottom right" in prose
    assert '"bottomright"' in page and "Change in reach" in page


def _marker_options(page: str, label: str) -> dict:
    """The Leaflet options of the first circle marker whose tooltip starts with ``label``."""
    options = dict(
        re.findall(
            r"var (circle_marker_\w+) = L\.circleMarker\(\s*\[[^\]]*\],\s*(\{.*?\})\s*\)", page
        )
    )
    for name, shown in re.findall(r"(circle_marker_\w+)\.bindTooltip\(\s*`<div>\s*(\w+):", page):
        if shown == label:
            return json.loads(options[name])
    raise AssertionError(f"no {label} marker on the map")


@pytest.mark.slow
def test_notebook_03_html_looks_like_the_report(executed, offline_browser, tmp_path_factory):
    """nbconvert's HTML of notebook 03 (no report stylesheet) shows the cards, badges and
    notices styled as in the report; a screenshot is kept for review."""
    from nbconvert import HTMLExporter

    notebook = executed("03_sufficiency", "E06000015")
    body, _ = HTMLExporter(exclude_input=True).from_notebook_node(notebook)
    folder = tmp_path_factory.mktemp("screenshots")
    page_file = folder / "03_sufficiency.html"
    page_file.write_text(body, encoding="utf-8")
    page, _, _ = offline_browser(page_file)
    page.set_viewport_size({"width": 1280, "height": 900})

    def style(selector: str, prop: str) -> str:
        return page.locator(selector).first.evaluate(
            f"e => getComputedStyle(e).getPropertyValue({prop!r})"
        )

    assert style(".card", "border-top-style") == "solid"
    assert style(".card", "border-top-width") == "1px"
    assert style(".card .value", "font-weight") == "700"
    assert style(".cards", "display") == "flex"
    assert style(".rag-Amber", "background-color") == "rgb(214, 137, 16)"
    assert style(".note", "border-left-width") == "4px"
    assert style(".note", "background-color") == "rgb(254, 245, 231)"
    shot = folder / "03_sufficiency.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    print(f"screenshot: {shot}")
