"""The default Derby report printed to PDF by headless Chromium, rendered to PNG pages with
pypdfium2 and checked as a reader would see it: A4 pages, the title, the map inside the page
margins with no zoom buttons or layer switcher, and a screenshot of the first page kept for
review under ``.test-output/`` (ignored by git; never ``reports/``)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import REPO
from planning.outputs.report import find_chromium, html_to_pdf
from planning.outputs.schedule import run_report

pytestmark = pytest.mark.slow

pdfium = pytest.importorskip("pypdfium2")

A4_POINTS = (595.28, 841.89)  # 210 x 297 mm at 72 points an inch
TITLE = "Children's centre sufficiency: Derby, 29 November 2026"
#: Leaflet's map background where no tile is drawn (the PDF is printed with no network).
LEAFLET_GREY = (221, 221, 221)
SCALE = 2.0  # pixels per point when rendering pages
REVIEW = REPO / ".test-output" / "report"


@pytest.fixture(scope="module")
def derby_pdf(tmp_path_factory):
    if find_chromium() is None:
        pytest.skip("no Chromium to print PDFs")
    root = tmp_path_factory.mktemp("pdf")
    page = run_report("Derby", out_root=root / "reports", date=dt.date(2026, 11, 29))
    pdf = html_to_pdf(page, root / "derby.pdf")
    document = pdfium.PdfDocument(str(pdf))
    yield document
    document.close()


def _text(page) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range()
    finally:
        textpage.close()


def _image(page) -> np.ndarray:
    return np.asarray(page.render(scale=SCALE).to_pil().convert("RGB"))


def test_every_page_is_a4(derby_pdf):
    assert len(derby_pdf) >= 3
    for page in derby_pdf:
        width, height = page.get_size()
        assert width == pytest.approx(A4_POINTS[0], abs=2)
        assert height == pytest.approx(A4_POINTS[1], abs=2)


def test_pdf_title_is_the_report_title_not_notebook(derby_pdf):
    assert derby_pdf.get_metadata_dict()["Title"] == TITLE
    first = " ".join(_text(derby_pdf[0]).split())
    assert first.startswith(TITLE)
    assert "Notebook" not in first


def _map_page(document) -> int:
    pages = [i for i, page in enumerate(document) if "need, centres and reach" in _text(page)]
    assert pages, "no page shows the map"
    return pages[0]


def test_map_lies_inside_the_page_margins(derby_pdf):
    index = _map_page(derby_pdf)
    pixels = _image(derby_pdf[index])
    grey = np.all(np.abs(pixels.astype(int) - LEAFLET_GREY) <= 2, axis=2)
    rows, columns = np.nonzero(grey)
    assert len(rows) > 100 * 100 * SCALE**2, "the map's background is not on its page"
    top, bottom = rows.min() / SCALE, rows.max() / SCALE
    left, right = columns.min() / SCALE, columns.max() / SCALE
    width, height = derby_pdf[index].get_size()
    margin = 20  # points: the print margins are 12-14 mm (34-40 pt)
    assert margin <= left < right <= width - margin
    assert margin <= top < bottom <= height - margin
    # the whole map is on this page: its title box and its attribution corner
    text = _text(derby_pdf[index])
    assert "Derby: need, centres and reach" in text and "Leaflet" in text


def test_map_controls_are_not_printed(derby_pdf):
    text = _text(derby_pdf[_map_page(derby_pdf)])
    # Leaflet's zoom buttons are the glyphs + and − (U+2212); the layer switcher is an icon
    # link whose hidden text would be "Layers".
    assert "\u2212" not in text
    assert "Layers" not in text


def test_first_page_screenshot_is_saved_for_review(derby_pdf):
    REVIEW.mkdir(parents=True, exist_ok=True)
    shot = REVIEW / "report-first-page.png"
    derby_pdf[0].render(scale=SCALE).to_pil().save(shot)
    assert shot.stat().st_size > 10_000
    assert not (REPO / "reports" / "report-first-page.png").exists()


#: The report's section headings (h2), as printed.
SECTIONS = (
    "What changed since the last report",
    "Headline figures",
    "Verdict and reasons",
    "Map: need, centres, catchments and reach",
    "Access by deprivation",
    "Localities",
    "Centres",
    "Wards",
    "Targeting and outreach: Derby",
    "Standards applied",
    "Data and sources",
)


def test_no_heading_is_stranded_at_a_page_foot(derby_pdf):
    printed = []
    for number, page in enumerate(derby_pdf, start=1):
        lines = [" ".join(line.split()) for line in _text(page).splitlines()]
        lines = [line for line in lines if line]
        printed += lines
        assert lines[-1] not in SECTIONS, f"'{lines[-1]}' ends page {number}"
    assert set(SECTIONS) <= set(printed)
