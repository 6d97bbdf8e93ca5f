"""Offline folium maps: no CDN anywhere, lon/lat output, escaped text, honest legends."""

from __future__ import annotations

import html
import json
import re

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
import shapely.geometry

from planning import ValidationError
from planning.inputs.areas import toy_town
from planning.settings import RANDOM_SEED
from planning.outputs.maps import (
    SCHEMES,
    OfflineMap,
    assert_offline,
    difference_map,
    need_layer,
    need_map,
    offline_html,
    sufficiency_map,
)

EVIL = "<script>alert(1)</script>"
NEED = [3.0, 11.0, 19.0, 27.0, 48.0, 52.0, 66.0, 81.0, 97.0]


@pytest.fixture
def areas() -> gpd.GeoDataFrame:
    """3x3 toy town; centre A serves the bottom two rows, B the top row."""
    town = toy_town(rows=3, columns=3)
    town["need_index"] = NEED
    town["deprivation_band"] = ["70-100%"] * 4 + ["0-30%"] * 5
    town["centre_id"] = ["A"] * 6 + ["B"] * 3
    town["centre_name"] = town["centre_id"].map({"A": EVIL, "B": "Bluebell"})
    town["locality"] = ["South"] * 6 + ["North"] * 3
    town["distance_m"] = np.linspace(300.0, 3_000.0, 9)
    town["within_reach"] = town["distance_m"] <= 2_500.0
    town["most_deprived_30"] = town["need_index"] > 60
    town.loc["T01", "area_name"] = "<b>Mill & Weir</b>"
    town.loc["T01", "idaci_estimated"] = True
    return town


@pytest.fixture
def centres() -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        {
            "name": [EVIL, "Bluebell"],
            "locality": ["South", "North"],
            "kind": ["hub", "branch"],
            "source": "test",
            "under5": [600.0, 300.0],
            "load_status": ["within capacity", "busy"],
            "verdict": ["keep", "review `${x}`"],
        },
        index=pd.Index(["A", "B"], name="centre_id"),
    )
    points = [shapely.Point(430_500, 335_500), shapely.Point(431_500, 337_500)]
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:27700")


@pytest.fixture
def page(areas, centres) -> str:
    m = sufficiency_map(areas, centres, tiles=None, title="Toy town", note="Illustrative.")
    return offline_html(m)


def test_page_is_offline_and_carries_leaflet(page):
    assert_offline(page)
    assert "Leaflet 1.9.4" in page  # the licence comment of the inlined library
    assert "<script src" not in page and "<link rel=\"stylesheet\"" not in page
    assert "data:image/png;base64," in page  # layer-control icon inlined


def test_notebook_display_is_offline(areas, centres):
    m = sufficiency_map(areas, centres)  # with OpenStreetMap tiles
    shown = m._repr_html_()
    assert shown.startswith("<div") and "srcdoc=" in shown
    assert_offline(shown)
    inner = html.unescape(shown)
    assert "Leaflet 1.9.4" in inner
    assert "openstreetmap.org/copyright" in inner  # tile attribution kept


def test_plain_folium_map_made_offline():
    import folium

    m = folium.Map(tiles=None)
    folium.CircleMarker((52.9, -1.5), popup="hello").add_to(m)
    assert "cdn.jsdelivr.net" in m.get_root().render()
    assert_offline(offline_html(m))


def test_cdn_only_features_are_refused():
    import folium

    m = OfflineMap(tiles=None)
    folium.Marker((52.9, -1.5), icon=folium.Icon(icon="home")).add_to(m)
    with pytest.raises(ValidationError, match="CircleMarker"):
        offline_html(m)
    from folium.plugins import Fullscreen

    m = OfflineMap(tiles=None)
    Fullscreen().add_to(m)
    with pytest.raises(ValidationError, match="offline map cannot load"):
        m._repr_html_()


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"></script>',
        "<link rel='stylesheet' href='http://example.org/a.css'/>",
        '<script src="//code.jquery.com/jquery.js"></script>',
        "<style>@import url(https://fonts.example.org/x.css);</style>",
    ],
)
def test_assert_offline_rejects_remote_assets(snippet):
    with pytest.raises(ValueError, match="remote"):
        assert_offline(f"<html><head>{snippet}</head></html>")
    srcdoc = f'<iframe srcdoc="{html.escape(snippet)}"></iframe>'
    with pytest.raises(ValidationError, match=re.escape("- ") + r"(https?:)?//"):
        assert_offline(srcdoc)


def test_assert_offline_accepts_links_and_tile_urls():
    assert_offline(
        '<a href="https://www.openstreetmap.org/copyright">OSM</a>'
        '<script>L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png")</script>'
    )


def _geojson_coordinates(page: str) -> np.ndarray:
    """Every vertex of every GeoJSON layer embedded in the page, as (x, y) rows."""
    decoder = json.JSONDecoder()
    vertices = []
    for match in re.finditer(r"geo_json_\w+_add\(", page):
        data, _ = decoder.raw_decode(page, match.end())
        for feature in data["features"]:
            vertices.append(shapely.get_coordinates(shapely.geometry.shape(feature["geometry"])))
    return np.vstack(vertices)


def test_geometry_is_reprojected_to_lon_lat(page):
    xy = _geojson_coordinates(page)
    assert len(xy) > 9 * 4
    # toy_town's origin (430000, 335000) in EPSG:27700 is in Derby: lon ~ -1.55, lat ~ 52.91
    assert np.all((xy[:, 0] > -1.6) & (xy[:, 0] < -1.45)), "x must be longitude"
    assert np.all((xy[:, 1] > 52.85) & (xy[:, 1] < 52.98)), "y must be latitude"
    # the toy town's south-west corner, transformed independently with pyproj
    corner = pyproj.Transformer.from_crs(27700, 4326, always_xy=True).transform(430_000, 335_000)
    assert np.abs(xy - corner).max(axis=1).min() < 1e-6


def test_input_text_is_escaped(page):
    assert EVIL not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # centre popup and tooltip
    # area names travel in the GeoJSON, escaped for HTML and then for JSON
    assert "\\u0026lt;b\\u0026gt;Mill \\u0026amp; Weir" in page
    # backticks and ${ cannot break out of folium's JavaScript template literals
    assert "review &#96;&#36;{x}&#96;" in page
    assert "${x}" not in page


def test_unknown_scheme_lists_valid_names(areas):
    with pytest.raises(ValidationError, match="valid: ") as error:
        need_layer(areas, scheme="Jenks")
    for name in SCHEMES:
        assert name in str(error.value)


@pytest.mark.filterwarnings("ignore:Numba not installed")
@pytest.mark.parametrize("scheme", ["Quantiles", "FisherJenks", "EqualInterval", "NaturalBreaks"])
def test_legend_shows_mapclassify_bounds(areas, scheme):
    m = OfflineMap(tiles=None)
    need_layer(areas, scheme=scheme, k=4).add_to(m)
    page = offline_html(m)
    np.random.seed(RANDOM_SEED)  # NaturalBreaks is k-means; need_layer seeds it the same way
    classifier = getattr(mapclassify, scheme)(np.array(NEED), k=4)
    lows = [min(NEED), *classifier.bins[:-1]]
    counts = np.bincount(classifier.yb, minlength=len(classifier.bins))
    for low, high, count in zip(lows, classifier.bins, counts, strict=True):
        assert f"{low:,.1f} \\u0026ndash; {high:,.1f} ({count} area" in page
    assert "Need index (0-100" in page
    assert "IDACI" in page and "estimated" in page  # the flagged area's tooltip


def test_natural_breaks_repeat_and_leave_global_state_alone(areas):
    np.random.seed(7)
    expected_next = np.random.random()
    np.random.seed(7)
    pages = []
    for _ in range(2):
        m = OfflineMap(tiles=None)
        need_layer(areas, scheme="NaturalBreaks", k=5).add_to(m)
        pages.append(re.findall(r"\(\d+ areas?\)|\d+\.\d \\u0026ndash; \d+\.\d", offline_html(m)))
    assert pages[0] == pages[1]
    assert np.random.random() == expected_next


def test_legend_counts_every_area(areas):
    m = OfflineMap(tiles=None)
    need_layer(areas, scheme="Quantiles", k=3).add_to(m)
    counts = [int(n) for n in re.findall(r"\((\d+) areas?\)", offline_html(m))]
    assert sum(counts) == len(areas)


def test_catchment_tooltip_sums_under5(page):
    # centre A serves 6 areas of 100 under-5s each; B serves 3
    assert "\\u003cth\\u003eUnder-5s\\u003c/th\\u003e\\u003ctd\\u003e600" in page
    assert "\\u003cth\\u003eUnder-5s\\u003c/th\\u003e\\u003ctd\\u003e300" in page


def test_wrong_crs_and_missing_columns_are_reported(areas, centres):
    with pytest.raises(ValidationError, match="geographic"):
        sufficiency_map(areas.to_crs("EPSG:4326"), centres)
    with pytest.raises(ValidationError, match="missing column 'centre_name'"):
        sufficiency_map(areas.drop(columns="centre_name"), centres)


def test_difference_map_counts_changes(areas, centres):
    after = areas.copy()
    after.loc[["T22", "T21"], "within_reach"] = True  # gain
    after.loc[["T00"], "within_reach"] = False  # loss
    opened = pd.concat(
        [
            centres.loc[["A"]],
            gpd.GeoDataFrame(
                {"name": ["Cedar"]},
                geometry=[shapely.Point(432_500, 337_500)],
                index=pd.Index(["C"], name="centre_id"),
                crs="EPSG:27700",
            ),
        ]
    )
    page = offline_html(difference_map(areas, after, centres, opened, tiles=None))
    assert_offline(page)
    assert "Gain reach: 2 areas, 200 under-5s" in page
    assert "Lose reach: 1 area, 100 under-5s" in page
    assert "Opened: Cedar (C)" in page and "Closed: Bluebell (B)" in page
    with pytest.raises(ValidationError, match="same areas"):
        difference_map(areas, after.drop(index="T00"), centres, opened)


def test_need_map_offers_each_measure_with_its_legend(areas):
    areas = areas.assign(imd_score=np.linspace(5.0, 60.0, 9), idaci_children=range(9))
    page = offline_html(need_map(areas, scheme="Quantiles", k=3, tiles=None, title="Need"))
    assert_offline(page)
    for label in ("Need index (0-100", "IMD score (higher", "(IDACI)", "Children under 5"):
        assert page.count(label) >= 2  # layer name and legend title
    # Only the first measure is on when the map opens; the others wait in the layer control.
    assert len(re.findall(r"feature_group_\w+\.addTo\(map_\w+\)", page)) == 2  # need, wards
    with pytest.raises(ValidationError, match="missing column 'rural_share'"):
        need_map(areas, ["need_index", "rural_share"])
    with pytest.raises(ValidationError, match="list of column names"):
        need_map(areas, "need_index")


def test_locality_verdicts_colour_outlines_and_fill_popups(areas, centres):
    localities = pd.DataFrame(
        {"rag": ["Red", "Green"], "reasons": [["Red: too far"], []], "under5": [600.0, 300.0]},
        index=pd.Index(["South", "North"], name="locality"),
    )
    page = offline_html(sufficiency_map(areas, centres, tiles=None, localities=localities))
    assert "Localities by verdict" in page and "Locality verdict" in page
    assert "Red (1)" in page and "Green (1)" in page and "Amber (" not in page  # legend
    assert "Red: too far" in page  # the reason, in the outline's tooltip
    assert "<th>Locality verdict</th><td>Red</td>" in page  # centre A's popup (South)
    with pytest.raises(ValidationError, match="'rag' column"):
        sufficiency_map(areas, centres, localities=localities.drop(columns="rag"))


#: Input text that would run if a popup or tooltip did not escape it (each sets a window flag).
PAYLOADS = {
    "script": "<script>window.__pwned = 'script'</script>",
    "img": "<img src=x onerror=\"window.__pwned = 'img'\">",
    "template": "${window.__pwned = 'template'}`",
}

#: Opens every centre popup and tooltip and every GeoJSON feature tooltip on the map, and
#: returns their text as the reader sees it.
_OPEN_EVERYTHING = """() => {
  const map = Object.values(window).find((v) => v instanceof L.Map);
  const layers = [];
  map.eachLayer((layer) => layers.push(layer));
  const texts = [];
  for (const layer of layers) {
    if (layer instanceof L.GeoJSON && layer.getTooltip()) {
      layer.eachLayer((feature) => {
        // as a hover does: the event reaches the GeoJSON layer, which opens its tooltip
        feature.fire("mouseover", {latlng: feature.getBounds().getCenter()}, true);
        texts.push(layer.getTooltip().getElement().textContent);
      });
    } else if (layer instanceof L.CircleMarker) {
      if (layer.getPopup()) { layer.openPopup(); texts.push(layer.getPopup().getElement().textContent); }
      if (layer.getTooltip()) { layer.openTooltip(); texts.push(layer.getTooltip().getElement().textContent); }
    }
  }
  return texts;
}"""


@pytest.fixture
def hostile_page(areas, centres, tmp_path):
    """The toy sufficiency map with script, markup and template-literal payloads in every name."""
    areas, centres = areas.copy(), centres.copy()
    locality = "South " + PAYLOADS["img"].replace("src=x", "src=y")
    areas["locality"] = areas["locality"].replace({"South": locality})
    areas["centre_name"] = areas["centre_id"].map({"A": PAYLOADS["script"], "B": PAYLOADS["template"]})
    areas.loc["T01", "area_name"] = PAYLOADS["img"]
    areas.loc["T02", "ward_name"] = PAYLOADS["template"]
    centres["name"] = [PAYLOADS["script"] + PAYLOADS["img"], PAYLOADS["template"]]
    centres["locality"] = [locality, "North"]
    localities = pd.DataFrame(
        {"rag": ["Red", "Green"], "reasons": [[PAYLOADS["script"]], []], "under5": [600.0, 300.0]},
        index=pd.Index([locality, "North"], name="locality"),
    )
    m = sufficiency_map(areas, centres, tiles=None, title="Toy town", localities=localities)
    target = tmp_path / "map.html"
    target.write_text(offline_html(m), encoding="utf-8")
    return target


@pytest.mark.slow
def test_polygons_draw_offline_and_input_text_stays_text(hostile_page, offline_browser):
    page, errors, blocked = offline_browser(hostile_page)
    # 9 need polygons, 2 localities, 2 catchments, 2 reach rings, 2 gaps, 2 centres
    assert page.locator("path.leaflet-interactive").count() >= 19
    assert "Toy town" in page.locator(".planning-title").inner_text()
    assert any("Need index" in box for box in page.locator(".planning-box").all_inner_texts())
    texts = page.evaluate(_OPEN_EVERYTHING)
    shown = "\n".join(texts)
    for payload in PAYLOADS.values():
        assert payload in shown  # shown as text, exactly as typed
    assert "Locality verdictRed" in shown  # a centre's popup gives its locality's verdict
    assert f"LocalitySouth {PAYLOADS['img'].replace('src=x', 'src=y')}" in shown
    assert "VerdictRedUnder-5s600Reason" in shown  # the locality outline's tooltip
    assert page.evaluate("window.__pwned") is None  # no payload ran
    panes = ".leaflet-popup-pane, .leaflet-tooltip-pane, .leaflet-control-container"
    assert page.locator(f":is({panes}) :is(script, img)").count() == 0
    assert errors == [] and blocked == []


@pytest.mark.slow
def test_notebook_display_draws_offline(areas, centres, tmp_path, offline_browser):
    # What a notebook, Voila or an nbconvert report shows: an <iframe srcdoc> holding the page,
    # here with the OpenStreetMap background that cannot load offline.
    shown = sufficiency_map(areas, centres, title="Toy town")._repr_html_()
    target = tmp_path / "notebook.html"
    target.write_text(f"<!DOCTYPE html><html><body>{shown}</body></html>", encoding="utf-8")
    page, errors, blocked = offline_browser(target)
    frame = page.frame_locator("iframe")
    assert frame.locator("path.leaflet-interactive").count() >= 19
    assert all("tile.openstreetmap.org" in url for url in blocked)  # only the background
    assert [e for e in errors if "Failed to load resource" not in e] == []
