"""The planner notebooks: committed clean and paired, thin, and executed by Papermill for Derby
and Thurrock with every figure matching the library and every map drawing offline."""

from __future__ import annotations

import ast
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


# ------------------------------------------------------------------------------ executed


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


def _expected(stem: str, authority: str) -> tuple[list[str], list[str]]:
    """What the library gives for the notebook's views: (Markdown texts, HTML blocks)."""
    if stem == "01_need":
        need = workbench.load_need(authority)
        return [workbench.need_headline(need).data], [workbench.need_summary(need)._repr_html_()]
    if stem in ("02_access_and_catchments", "03_sufficiency"):
        run = workbench.assess(authority)
        if stem.startswith("02"):
            return [], [report.access_table(run).data, report.centre_table(run).data]
        return [], [
            report.headline_cards(run).data,
            report.reasons_block(run).data,
            report.locality_table(run).data,
        ]
    engine = workbench.scenario_engine(authority)
    comparison = engine.compare(workbench.example_scenario(engine, **SCENARIO[authority]))
    return [workbench.comparison_summary(comparison).data], [
        comparison.headline.round(3)._repr_html_(),
        comparison.loads.round(0)._repr_html_(),
    ]


@pytest.mark.slow
@pytest.mark.parametrize("authority", ["E06000015", "E06000034"], ids=["Derby", "Thurrock"])
@pytest.mark.parametrize("stem", PLANNER)
def test_notebook_runs_and_shows_the_library_figures(stem, authority, tmp_path, offline_browser):
    extra = SCENARIO[authority] if stem == "04_scenarios" else {}
    executed = _execute(stem, tmp_path, authority=authority, **extra)
    markdown, html = _expected(stem, authority)
    shown_markdown, shown_html = _outputs(executed, "text/markdown"), _outputs(executed, "text/html")
    for text in markdown:
        assert text in shown_markdown
    for block in html:
        assert block in shown_html
    if stem == "04_scenarios" and authority == "E06000015":
        assert "close CC03" in str(executed.cells)
        assert "open new centre at DE21 4ET" in shown_markdown[0]

    # Every map is offline-safe and draws its polygons with the network off.
    maps = _maps(executed)
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
