"""Shared fixtures: the toy town (answers computed by hand) and Derby's real data."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from planning import load_areas, toy_town

REPO = Path(__file__).resolve().parents[1]
#: The embedded data, shipped inside the package (read with importlib.resources).
DATA = REPO / "src" / "planning" / "data"
SHARED = REPO.parent / "shared" / "data"


def make_centres(points: dict[str, tuple[float, float]], **columns: list) -> gpd.GeoDataFrame:
    """Centres frame from {id: (easting, northing)} plus optional columns."""
    ids = list(points)
    frame = pd.DataFrame({"name": [f"Centre {i}" for i in ids], **columns}, index=pd.Index(ids, name="centre_id"))
    return gpd.GeoDataFrame(
        frame, geometry=[shapely.Point(*points[i]) for i in ids], crs="EPSG:27700"
    )


@pytest.fixture
def strip_town() -> gpd.GeoDataFrame:
    """Five 1 km cells in a row; points at x0+500 .. x0+4500; under-5s 100..500; deciles 1,2,5,8,10."""
    return toy_town(rows=1, columns=5, under5=[100, 200, 300, 400, 500], imd_decile=[1, 2, 5, 8, 10])


@pytest.fixture(scope="session")
def derby_areas() -> gpd.GeoDataFrame:
    return load_areas("E06000015")


@pytest.fixture(scope="session")
def derby_centres_file() -> Path:
    return DATA / "centres" / "derby_illustrative.csv"


CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="session")
def offline_browser():
    """Open local HTML files in headless Chromium with the network off.

    Yields ``open(path)`` -> ``(page, errors, blocked)``: the loaded Playwright page, console
    errors and uncaught exceptions, and every URL refused (anything but ``file:``, ``data:``,
    ``about:`` and ``blob:``). Uses Debian's Chromium; skips when it or Playwright is missing.
    """
    from planning.outputs.report import find_chromium

    sync_api = pytest.importorskip("playwright.sync_api")
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium to render pages")
    local = ("file:", "data:", "about:", "blob:")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)

        def open_page(path: Path):
            context = browser.new_context(offline=True)
            blocked: list[str] = []

            def route(request_route) -> None:
                url = request_route.request.url
                if url.startswith(local):
                    request_route.continue_()
                else:
                    blocked.append(url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.goto(Path(path).resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)  # let Leaflet finish drawing
            return page, errors, blocked

        yield open_page
        browser.close()


def pytest_sessionstart(session: pytest.Session) -> None:
    """On CI, the real parts must be there: a missing browser would otherwise turn the browser,
    PDF and offline-map tests into silent skips."""
    import os

    from planning.outputs.report import find_chromium

    if not os.environ.get("CI"):
        return
    missing = []
    if find_chromium() is None:
        missing.append("Debian's chromium (make system-deps installs it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (make install)")
    if missing:
        raise pytest.UsageError("CI run without " + " and ".join(missing))
