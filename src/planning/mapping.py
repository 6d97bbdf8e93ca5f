"""Folium maps of need, centres, catchments and gaps that work with no network connection.

This is the only module that reprojects to WGS84 (EPSG:4326): every builder takes frames in the
working CRS (EPSG:27700), buffers in metres there, and reprojects only the geometry it draws.

Offline by construction
-----------------------
A stock :class:`folium.Map` links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs, so a
report opened without a network shows an empty page. :class:`OfflineMap` swaps each of those links
for inline content when the page is rendered: the vendored Leaflet 1.9.4 (``static/leaflet``,
BSD-2-Clause) as ``<script>``/``<style>``, its control images as ``data:`` URIs, and a few lines that
stand in for the two jQuery calls folium's popups make. Bootstrap and Font Awesome are only needed
by ``folium.Icon`` markers, which these builders never use (they draw ``CircleMarker``); legends
and captions are plain HTML controls, not branca colormaps (those pull d3 from a CDN). Only the
background tiles come from the network, and the map still draws its layers without them.

Every text that comes from an input file (centre and area names, verdicts) is HTML-escaped, and
also made safe for the JavaScript template literals folium writes popups into.

Examples
--------
>>> import shapely, geopandas as gpd
>>> from planning.datasets import toy_town
>>> areas = toy_town()
>>> areas["need_index"] = range(0, 90, 10)
>>> m = OfflineMap(tiles=None)
>>> _ = need_layer(areas, scheme="Quantiles", k=3).add_to(m)
>>> assert_offline(offline_html(m))
"""

from __future__ import annotations

import base64
import html
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from folium.template import Template

from planning import settings
from planning._errors import ValidationError
from planning._validate import Problems, require_columns, require_non_empty, require_projected

__all__ = [
    "SCHEMES",
    "OfflineMap",
    "assert_offline",
    "catchment_layer",
    "centre_layer",
    "difference_map",
    "gap_layer",
    "need_layer",
    "offline_html",
    "outline_layer",
    "reach_layer",
    "sufficiency_map",
]

# ----------------------------------------------------------------------------- offline assets

_LEAFLET = resources.files("planning") / "static" / "leaflet"

#: Stands in for the two jQuery calls folium's templates make: ``$(`<div>..</div>`)[0]`` in
#: popups and ``$(document).ready(fn)`` when layers are kept in front.
_JQUERY_SHIM = """<script>
window.$ = window.jQuery = window.$ || function (arg) {
    if (typeof arg === "string") {
        var t = document.createElement("template");
        t.innerHTML = arg.trim();
        return Array.prototype.slice.call(t.content.childNodes);
    }
    return {ready: function (fn) {
        if (document.readyState !== "loading") { fn(); }
        else { document.addEventListener("DOMContentLoaded", fn); }
    }};
};
</script>"""


@lru_cache(maxsize=1)
def _leaflet_js() -> str:
    source = (_LEAFLET / "leaflet.js").read_text(encoding="utf-8")
    if "</script" in source.lower():  # would end the inline <script> early
        raise RuntimeError("vendored leaflet.js contains '</script'; it cannot be inlined")
    return f"<script>\n{source}\n</script>"


@lru_cache(maxsize=1)
def _leaflet_css() -> str:
    css = (_LEAFLET / "leaflet.css").read_text(encoding="utf-8")

    def inline_image(match: re.Match[str]) -> str:
        image = _LEAFLET / "images" / match.group(1)
        if not image.is_file():  # marker icons: only folium.Marker uses them, and we do not
            return match.group(0)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return "<style>\n" + re.sub(r"url\(images/([\w.-]+\.png)\)", inline_image, css) + "\n</style>"


class _Raw(Element):
    """Text written into the page as is (an ``Element`` template would parse it with Jinja)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


#: Asset names folium uses for its CDN links, and what replaces each one offline.
_INLINE: dict[str, Callable[[], str]] = {
    "leaflet": _leaflet_js,
    "leaflet_css": _leaflet_css,
    "jquery": lambda: _JQUERY_SHIM,
}
#: Folium's other default assets serve only ``folium.Icon`` markers; offline maps drop them.
_DROPPED = {name for name, _ in folium.Map.default_js + folium.Map.default_css} - set(_INLINE)
_REMOTE_URL = r"(?:https?:)?//[^\"'\s>)]+"
_REMOTE_PATTERNS = (
    re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']?\s*(" + _REMOTE_URL + ")", re.IGNORECASE),
    re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']?\s*(" + _REMOTE_URL + ")", re.IGNORECASE),
    re.compile(r"@import\s+(?:url\(\s*)?[\"']?\s*(" + _REMOTE_URL + ")", re.IGNORECASE),
)


def _is_remote(url: str) -> bool:
    return re.match(_REMOTE_URL, url.strip()) is not None


def _inline_assets(figure: Figure) -> None:
    """Replace folium's CDN links in the page header by inline content, in place."""
    children = figure.header._children
    for name, child in list(children.items()):
        if not isinstance(child, (JavascriptLink, CssLink)):
            continue
        if name in _INLINE:
            children[name] = _Raw(_INLINE[name]())  # same key, so the order is kept
        elif name in _DROPPED:
            del children[name]
        elif _is_remote(child.url):
            raise ValidationError(
                f"the map needs '{name}' from {child.url}, which an offline map cannot load; "
                "remove the plugin or feature that adds it (folium.Icon markers, plugins and "
                "branca colormaps all load from CDNs) or use a plain folium.Map"
            )


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose page loads no script or stylesheet from the network.

    Folium adds its CDN links while it renders the page; this class replaces them right after
    (see :func:`offline_html`), so both ``_repr_html_`` (the iframe a notebook shows) and
    ``save`` give a standalone page. Parameters are those of :class:`folium.Map`.
    """

    def render(self, **kwargs: Any) -> None:
        super().render(**kwargs)
        _inline_assets(self.get_root())


def offline_html(m: folium.Map) -> str:
    """The full standalone HTML page of a map, with Leaflet inline and no CDN link.

    Parameters
    ----------
    m : folium.Map
        An :class:`OfflineMap` or a plain folium map (its CDN links are replaced the same way).

    Returns
    -------
    str
        The page; it passes :func:`assert_offline`.
    """
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError(f"expected a folium.Map inside a branca Figure, found {type(m).__name__}")
    figure.render()  # renders every element, which is when folium adds its CDN links
    _inline_assets(figure)
    page = figure._template.render(this=figure, kwargs={})  # re-assemble without re-rendering
    assert_offline(page)
    return str(page)


def assert_offline(page: str) -> None:
    """Raise if an HTML page loads a script or stylesheet from the network.

    Looks for ``<script src=...>`` and ``<link href=...>`` with an ``http(s)://`` or ``//`` URL
    and for CSS ``@import`` of such URLs, also inside escaped ``<iframe srcdoc>`` content (as
    in a notebook's map output), which is unescaped up to three levels deep.

    Raises
    ------
    ValidationError
        A ``ValueError`` listing every remote URL found.
    """
    found: list[str] = []
    text, previous = page, None
    for _ in range(4):
        for pattern in _REMOTE_PATTERNS:
            found.extend(url for url in pattern.findall(text) if url not in found)
        previous, text = text, html.unescape(text)
        if text == previous:
            break
    if found:
        listed = "\n".join(f"  - {url}" for url in found)
        raise ValidationError(
            f"the page loads {len(found)} remote script(s) or stylesheet(s), so it will not "
            f"work offline:\n{listed}\nbuild the map with planning.mapping and render it with "
            "offline_html()"
        )


# ----------------------------------------------------------------------------- helpers


def _text(value: object) -> str:
    """Text from an input file made safe for HTML and for folium's JavaScript template literals."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[arg-type]
        return ""
    escaped = html.escape(str(value))
    return escaped.replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _number(value: object, digits: int = 0) -> str:
    if value is None or bool(pd.isna(value)):  # type: ignore[arg-type]
        return "no data"
    return f"{float(value):,.{digits}f}"  # type: ignore[arg-type]


def _areas(n: int) -> str:
    return f"{n} area" if n == 1 else f"{n} areas"


def _rows(pairs: Iterable[tuple[str, str]]) -> str:
    """An HTML table from (label, already escaped value) pairs."""
    cells = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in pairs)
    return f"<table class='planning-tip'>{cells}</table>"


def _check_frame(
    frame: object,
    source: str,
    columns: Sequence[str],
    *,
    geometry: tuple[str, ...],
    non_empty: bool = True,
) -> gpd.GeoDataFrame:
    """Validate a frame at a builder's entry, reporting every problem at once."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValidationError(f"{source}: expected a GeoDataFrame, found {type(frame).__name__}")
    require_projected(frame, source)
    if non_empty:
        require_non_empty(frame, source, "row")
    problems = Problems(source)
    require_columns(frame, columns, problems)
    kinds = set(frame.geom_type.dropna()) - set(geometry)
    if kinds or frame.geometry.isna().any():
        problems.add(
            f"geometries must be {' or '.join(geometry)}; found "
            f"{', '.join(sorted(kinds)) or 'missing geometries'}"
        )
    problems.raise_if_any()
    return frame


_POLYGONS = ("Polygon", "MultiPolygon")


def _geojson(geometry: gpd.GeoSeries, properties: pd.DataFrame) -> dict[str, Any]:
    """GeoJSON in lon/lat (the only reprojection in the package), rounded to ~0.1 m."""
    lonlat = geometry.to_crs(settings.MAP_CRS)
    rounded = shapely.transform(lonlat.to_numpy(), lambda xy: np.round(xy, 6))
    frame = gpd.GeoDataFrame(properties, geometry=list(rounded), crs=settings.MAP_CRS)
    frame.index = frame.index.astype(str)
    return frame.to_geo_dict(show_bbox=False)


def _polygons(
    name: str,
    geometry: gpd.GeoSeries,
    tips: pd.Series,
    style: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    fills: pd.Series | None = None,
    show: bool = True,
) -> folium.FeatureGroup:
    """A toggleable layer of polygons, each with a pre-escaped HTML tooltip."""
    group = folium.FeatureGroup(name=name, show=show)
    if len(geometry) == 0:
        return group
    properties = pd.DataFrame({"tip": tips}, index=geometry.index)
    if fills is not None:
        properties["fill"] = fills
    folium.GeoJson(
        _geojson(geometry, properties),
        style_function=style,
        highlight_function=lambda feature: {"weight": 3, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(group)
    return group


def _outline_style(colour: str, weight: float, dash: str | None = None) -> dict[str, Any]:
    style: dict[str, Any] = {"color": colour, "weight": weight, "fill": False, "opacity": 0.9}
    if dash:
        style["dashArray"] = dash
    return style


_BOX_CSS = """<style>
.planning-box {background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 Arial, Helvetica, sans-serif;
  color: #222; max-width: 22em;}
.planning-box h4 {margin: 0 0 4px; font-size: 13px;}
.planning-title {font-size: 15px; font-weight: bold; max-width: 30em;}
.planning-swatch {display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #555;}
.planning-tip th {text-align: left; padding-right: 8px; font-weight: bold;}
</style>"""


class _Box(MacroElement):
    """A fixed HTML box (legend, title, caption) drawn as a Leaflet control.

    Added to a layer, the box shows and hides with it in the layer control.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var box = L.control({position: {{ this.position|tojson }}});
            box.onAdd = function () {
                var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
                div.innerHTML = {{ this.content|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            var owner = {{ this._parent.get_name() }};
            if (owner instanceof L.Map) { box.addTo(owner); return; }
            owner.on("add", function () { box.addTo(owner._map); });
            owner.on("remove", function () { box.remove(); });
            if (owner._map) { box.addTo(owner._map); }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, content: str, *, position: str = "bottomright", css: str = "") -> None:
        super().__init__()
        self._name = "PlanningBox"
        self.content = content
        self.position = position
        self.css_class = f"planning-box {css}".strip()

    def render(self, **kwargs: Any) -> None:
        self.get_root().header.add_child(_Raw(_BOX_CSS), name="planning_box_css")
        super().render(**kwargs)


def _legend(title: str, entries: Sequence[tuple[str, str]]) -> _Box:
    """A legend from (colour, already escaped label) pairs."""
    rows = "".join(
        f"<div><span class='planning-swatch' style='background:{colour}'></span>{label}</div>"
        for colour, label in entries
    )
    return _Box(f"<h4>{title}</h4>{rows}")


# ----------------------------------------------------------------------------- need layer

#: Classification schemes for choropleths (mapclassify classes taking ``k``).
SCHEMES: dict[str, type[mapclassify.classifiers.MapClassifier]] = {
    "EqualInterval": mapclassify.EqualInterval,
    "FisherJenks": mapclassify.FisherJenks,
    "JenksCaspall": mapclassify.JenksCaspall,
    "MaximumBreaks": mapclassify.MaximumBreaks,
    "NaturalBreaks": mapclassify.NaturalBreaks,
    "Quantiles": mapclassify.Quantiles,
}

#: ColorBrewer YlOrRd, 9 classes: light is low need, dark is high.
_PALETTE = (
    "#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c",
    "#fc4e2a", "#e31a1c", "#bd0026", "#800026",
)  # fmt: skip
_NO_DATA = "#bdbdbd"

#: Legend and tooltip labels of the columns usually mapped.
LABELS = {
    "need_index": "Need index (0-100, higher is more need)",
    "under5": "Children under 5",
    "idaci_children": "Children in income-deprived families (IDACI)",
    "imd_score": "IMD score (higher is more deprived)",
    "imd_decile": "IMD decile (1 is most deprived)",
    "distance_m": "Distance to nearest centre (m)",
}


def _label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " ").capitalize())


def _classify(values: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Upper class bounds of the finite values, with ``k`` capped at the distinct values."""
    distinct = np.unique(values)
    if len(distinct) <= 1:
        return distinct.astype(float)
    with warnings.catch_warnings():
        # FisherJenks says it runs in pure Python without numba: slower, same breaks.
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        classifier = SCHEMES[scheme](values, k=min(k, len(distinct)))
    return np.asarray(classifier.bins, dtype=float)


def _class_colours(n: int) -> list[str]:
    if n == 1:
        return [_PALETTE[4]]
    return [_PALETTE[int(i)] for i in np.round(np.linspace(1, len(_PALETTE) - 1, n))]


def need_layer(
    areas: gpd.GeoDataFrame,
    column: str = "need_index",
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
) -> folium.FeatureGroup:
    """A choropleth of one area column, classified with mapclassify, with its legend.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas in EPSG:27700 with ``column``, ``area_name`` and ``ward_name``; an
        ``idaci_estimated`` flag, when present, is shown in the tooltip.
    column : str
        The value to map, e.g. ``need_index`` or ``imd_score``.
    scheme : str
        A name in :data:`SCHEMES`. ``NaturalBreaks`` is mapclassify's k-means (random starts);
        ``FisherJenks`` gives the optimal Jenks breaks deterministically.
    k : int
        Number of classes, 2 to 9 (fewer when there are fewer distinct values).

    Returns
    -------
    folium.FeatureGroup
        Polygons with tooltips, and a legend of class bounds that shows with the layer.
        Class ``i`` holds values in ``(bins[i-1], bins[i]]``; the first starts at the minimum.
    """
    if scheme not in SCHEMES:
        raise ValidationError(
            f"unknown classification scheme '{scheme}'; valid: {', '.join(SCHEMES)}"
        )
    if not 2 <= k <= len(_PALETTE):
        raise ValidationError(f"k must be between 2 and {len(_PALETTE)} classes, not {k}")
    _check_frame(areas, "areas", [column, "area_name", "ward_name"], geometry=_POLYGONS)
    values = pd.to_numeric(areas[column], errors="coerce").astype(float)
    finite = values[np.isfinite(values)]
    if finite.empty:
        raise ValidationError(f"areas: column '{column}' has no numeric values to map")
    bins = _classify(finite.to_numpy(), scheme, k)
    colours = _class_colours(len(bins))
    classes = pd.Series(np.searchsorted(bins, finite.to_numpy(), side="left"), index=finite.index)
    fills = classes.map(dict(enumerate(colours))).reindex(areas.index).fillna(_NO_DATA)
    estimated = (
        areas["idaci_estimated"].fillna(False).astype(bool)
        if "idaci_estimated" in areas.columns
        else pd.Series(False, index=areas.index)
    )
    tips = pd.Series(
        [
            _rows(
                [
                    ("Area", f"{_text(row.area_name)} ({_text(code)})"),
                    ("Ward", _text(row.ward_name)),
                    (_text(_label(column)), _number(values[code], 1)),
                ]
                + ([("IDACI", "estimated (suppressed in source)")] if estimated[code] else [])
            )
            for code, row in zip(areas.index, areas.itertuples(index=False), strict=True)
        ],
        index=areas.index,
    )
    group = _polygons(
        _label(column),
        areas.geometry,
        tips,
        lambda f: {"fillColor": f["properties"]["fill"], "color": "#555555", "weight": 0.6,
                   "fillOpacity": 0.7},  # fmt: skip
        fills=fills,
    )
    lows = np.concatenate([[finite.min()], bins[:-1]])
    counts = np.bincount(classes.to_numpy(), minlength=len(bins))
    entries = [
        (colour, f"{low:,.1f} &ndash; {high:,.1f} ({_areas(count)})")
        for colour, low, high, count in zip(colours, lows, bins, counts, strict=True)
    ]
    if len(finite) < len(areas):
        entries.append((_NO_DATA, f"no data ({_areas(len(areas) - len(finite))})"))
    _legend(f"{_text(_label(column))}<br><small>{_text(scheme)}</small>", entries).add_to(group)
    return group


# ----------------------------------------------------------------------------- other layers

_KIND_STYLE = {"hub": (9, "#08519c"), "branch": (6, "#3182bd")}
_OTHER_STYLE = (5, "#6baed6")


def centre_layer(centres: gpd.GeoDataFrame, *, name: str = "Centres") -> folium.FeatureGroup:
    """Centres as circle markers (hubs larger than branches) with an escaped popup.

    Parameters
    ----------
    centres : geopandas.GeoDataFrame
        Points in EPSG:27700 indexed by ``centre_id`` with ``name``; ``locality``, ``kind``
        (``hub``/``branch``), ``under5`` (children under 5 in the catchment), ``load_status``
        and ``verdict`` are shown when present.
    name : str
        The layer's name in the layer control.
    """
    _check_frame(centres, "centres", ["name"], geometry=("Point",), non_empty=False)
    group = folium.FeatureGroup(name=name)
    points = centres.geometry.to_crs(settings.MAP_CRS)
    for (centre_id, row), point in zip(centres.iterrows(), points, strict=True):
        kind = str(row.get("kind", "") or "").strip().lower()
        radius, colour = _KIND_STYLE.get(kind, _OTHER_STYLE)
        folium.CircleMarker(
            location=(point.y, point.x),
            radius=radius,
            color="#ffffff",
            weight=1.5,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
            popup=folium.Popup(_centre_popup(centre_id, row, kind), max_width=320),
            tooltip=folium.Tooltip(_text(row["name"])),
        ).add_to(group)
    return group


def _centre_popup(centre_id: object, row: pd.Series, kind: str) -> str:
    pairs = [("Centre", f"{_text(row['name'])} ({_text(centre_id)})")]
    if "locality" in row.index:
        pairs.append(("Locality", _text(row["locality"])))
    pairs.append(("Type", {"hub": "Family hub", "branch": "Branch"}.get(kind, "Other site")))
    if "under5" in row.index:
        status = f" ({_text(row['load_status'])})" if "load_status" in row.index else ""
        pairs.append(("Load", f"{_number(row['under5'])} children under 5{status}"))
    if "verdict" in row.index:
        pairs.append(("Verdict", _text(row["verdict"])))
    return _rows(pairs)


def catchment_layer(areas: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Catchments: areas dissolved by their centre, outlined, with centre name and under-5s.

    Areas without a ``centre_id`` are left out. Under-5s are summed (they are counts).
    """
    _check_frame(
        areas, "areas", ["centre_id", "centre_name", "under5"], geometry=_POLYGONS
    )
    assigned = areas[areas["centre_id"].notna()]
    dissolved = assigned[["centre_id", "centre_name", "under5", "geometry"]].dissolve(
        by="centre_id", aggfunc={"centre_name": "first", "under5": "sum"}
    )
    sizes = assigned.groupby("centre_id").size()
    tips = pd.Series(
        [
            _rows(
                [
                    ("Catchment of", _text(row.centre_name)),
                    ("Under-5s", _number(row.under5)),
                    ("Areas", str(sizes[centre])),
                ]
            )
            for centre, row in zip(dissolved.index, dissolved.itertuples(), strict=True)
        ],
        index=dissolved.index,
    )
    return _polygons(
        "Catchments", dissolved.geometry, tips, lambda f: _outline_style("#08306b", 2.5)
    )


def reach_layer(
    centres: gpd.GeoDataFrame, metres: Sequence[float] = (2500, 1609.344)
) -> folium.FeatureGroup:
    """Dashed rings at each distance around the centres (merged where they overlap).

    Buffers are drawn in metres in EPSG:27700 before reprojection, so they are true circles
    on the ground. The default distances are 2.5 km and one mile (1,609.344 m).
    """
    _check_frame(centres, "centres", [], geometry=("Point",), non_empty=False)
    distances = sorted({float(m) for m in metres}, reverse=True)
    if any(not np.isfinite(m) or m <= 0 for m in distances):
        raise ValidationError(f"reach distances must be positive metres, not {list(metres)}")
    if centres.empty:
        return folium.FeatureGroup(name="Reach")
    rings = gpd.GeoSeries(
        [shapely.union_all(centres.geometry.buffer(m, quad_segs=32).to_numpy()) for m in distances],
        index=[f"{m:.0f}" for m in distances],
        crs=centres.crs,
    )
    tips = pd.Series(
        [f"Within {m / 1000:,.1f} km ({m / 1609.344:,.1f} miles) of a centre" for m in distances],
        index=rings.index,
    )
    dashes = dict(zip(rings.index, ["8 6", "2 5", "12 4 2 4"], strict=False))
    return _polygons(
        "Reach",
        rings,
        tips,
        lambda f: _outline_style("#54278f", 2, dashes.get(str(f["id"]), "4 4")),
    )


def gap_layer(areas: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Gaps: areas among the 30% most deprived (``most_deprived_30``) and not ``within_reach``."""
    _check_frame(
        areas,
        "areas",
        ["most_deprived_30", "within_reach", "area_name", "ward_name"],
        geometry=_POLYGONS,
    )
    gaps = areas[areas["most_deprived_30"].astype(bool) & ~areas["within_reach"].astype(bool)]
    tips = pd.Series(
        [
            _rows(
                [
                    ("Gap", f"{_text(row['area_name'])} ({_text(code)})"),
                    ("Ward", _text(row["ward_name"])),
                    ("Nearest centre", _text(row.get("centre_name", ""))),
                    ("Distance", f"{_number(row.get('distance_m', np.nan))} m"),
                ]
            )
            for code, row in gaps.iterrows()
        ],
        index=gaps.index,
        dtype=object,
    )
    return _polygons(
        f"Gaps: 30% most deprived, out of reach ({len(gaps)})",
        gaps.geometry,
        tips,
        lambda f: {"color": "#d7301f", "weight": 3, "fillColor": "#d7301f", "fillOpacity": 0.25},
    )


def outline_layer(
    areas: gpd.GeoDataFrame, by: str = "ward_name", *, show: bool = True
) -> folium.FeatureGroup:
    """Outlines of groups of areas (wards, localities) dissolved on column ``by``."""
    _check_frame(areas, "areas", [by], geometry=_POLYGONS)
    named = areas[areas[by].notna() & (areas[by].astype(str).str.strip() != "")]
    dissolved = named[[by, "geometry"]].dissolve(by=by)
    tips = pd.Series([_text(group) for group in dissolved.index], index=dissolved.index)
    label = {"ward_name": "Wards", "locality": "Localities"}.get(by, _label(by))
    colour, weight = ("#252525", 2.0) if by == "locality" else ("#737373", 1.0)
    return _polygons(
        label, dissolved.geometry, tips, lambda f: _outline_style(colour, weight), show=show
    )


# ----------------------------------------------------------------------------- maps


def _base_map(areas: gpd.GeoDataFrame, tiles: str | None, title: str | None) -> OfflineMap:
    west, south, east, north = areas.geometry.to_crs(settings.MAP_CRS).total_bounds
    m = OfflineMap(
        location=((south + north) / 2, (west + east) / 2),
        zoom_start=12,
        tiles=tiles,
        control_scale=True,
    )
    m.fit_bounds([[south, west], [north, east]])
    if title:
        m.get_root().title = title  # type: ignore[attr-defined]
        _Box(_text(title), position="topright", css="planning-title").add_to(m)
    return m


def _finish(m: OfflineMap, note: str | None) -> OfflineMap:
    if note:
        _Box(_text(note).replace("\n", "<br>"), position="bottomleft").add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m


def sufficiency_map(
    areas: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    *,
    column: str = "need_index",
    reach_metres: Sequence[float] = (2500, 1609.344),
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
    note: str | None = None,
) -> OfflineMap:
    """Need, catchments, reach, gaps, wards, localities and centres on one offline map.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Area results in EPSG:27700 (see the module's data contract): ``column``, names,
        ``centre_id``/``centre_name``/``under5``, ``most_deprived_30``, ``within_reach``;
        ``locality`` adds a locality outline layer.
    centres : geopandas.GeoDataFrame
        Centre results in EPSG:27700 (see :func:`centre_layer`).
    column : str
        The area value shown as a choropleth (Natural Breaks, 5 classes).
    reach_metres : sequence of float
        Distances of the reach rings.
    tiles : str or None
        A folium/xyzservices tile name (attribution kept); ``None`` for no background.
    title, note : str, optional
        A title box, and a caption box for caveats and the data attribution (escaped text;
        newlines become line breaks).

    Returns
    -------
    OfflineMap
        Fitted to the areas, with a layer control; displays offline in notebooks.
    """
    _check_frame(areas, "areas", [column], geometry=_POLYGONS)
    m = _base_map(areas, tiles, title)
    need_layer(areas, column).add_to(m)
    outline_layer(areas, "ward_name", show=False).add_to(m)
    if "locality" in areas.columns and areas["locality"].notna().any():
        outline_layer(areas, "locality").add_to(m)
    catchment_layer(areas).add_to(m)
    reach_layer(centres, reach_metres).add_to(m)
    gap_layer(areas).add_to(m)
    centre_layer(centres).add_to(m)
    return _finish(m, note)


_GAIN, _LOSS = "#1a9850", "#d73027"


def difference_map(
    before_areas: gpd.GeoDataFrame,
    after_areas: gpd.GeoDataFrame,
    centres_before: gpd.GeoDataFrame,
    centres_after: gpd.GeoDataFrame,
    *,
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
    note: str | None = None,
) -> OfflineMap:
    """Areas that gain or lose reach between two scenarios, and centres opened or closed.

    Parameters
    ----------
    before_areas, after_areas : geopandas.GeoDataFrame
        The same areas (same ``area_code`` index) in EPSG:27700, each with ``within_reach``,
        ``area_name``, ``ward_name`` and ``under5``.
    centres_before, centres_after : geopandas.GeoDataFrame
        Centres indexed by ``centre_id``: ids only in ``after`` are opened, only in
        ``before`` are closed, in both are kept (drawn where they are after).
    tiles, title, note
        As in :func:`sufficiency_map`.
    """
    columns = ["within_reach", "area_name", "ward_name", "under5"]
    _check_frame(before_areas, "before_areas", columns, geometry=_POLYGONS)
    _check_frame(after_areas, "after_areas", columns, geometry=_POLYGONS)
    if set(before_areas.index) != set(after_areas.index):
        only = sorted(set(before_areas.index) ^ set(after_areas.index), key=str)[:5]
        raise ValidationError(
            "before_areas and after_areas must hold the same areas; they differ on "
            f"{', '.join(map(str, only))}; compare results of the same authority and vintage"
        )
    after = after_areas.loc[before_areas.index]
    was = before_areas["within_reach"].astype(bool)
    now = after["within_reach"].astype(bool)
    m = _base_map(after, tiles, title)
    outline_layer(after, "ward_name", show=False).add_to(m)
    entries = []
    changes = (("Gain reach", ~was & now, _GAIN), ("Lose reach", was & ~now, _LOSS))
    for label, mask, colour in changes:
        changed = after[mask]
        _change_layer(label, changed, colour).add_to(m)
        under5 = _number(changed["under5"].sum())
        entries.append((colour, f"{label}: {_areas(len(changed))}, {under5} under-5s"))
    centre_changes = _centre_changes(centres_before, centres_after)
    for label, frame, colour in centre_changes:
        _status_markers(label, frame, colour).add_to(m)
        entries.append((colour, f"{label}: {len(frame)}"))
    _legend("Change in reach", entries).add_to(m)
    return _finish(m, note)


def _change_layer(label: str, areas: gpd.GeoDataFrame, colour: str) -> folium.FeatureGroup:
    tips = pd.Series(
        [
            _rows(
                [
                    (label, f"{_text(row['area_name'])} ({_text(code)})"),
                    ("Ward", _text(row["ward_name"])),
                    ("Under-5s", _number(row["under5"])),
                ]
            )
            for code, row in areas.iterrows()
        ],
        index=areas.index,
        dtype=object,
    )
    return _polygons(
        f"{label} ({len(areas)})",
        areas.geometry,
        tips,
        lambda f: {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.55},
    )


def _centre_changes(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame
) -> list[tuple[str, gpd.GeoDataFrame, str]]:
    _check_frame(before, "centres_before", ["name"], geometry=("Point",), non_empty=False)
    _check_frame(after, "centres_after", ["name"], geometry=("Point",), non_empty=False)
    opened = after[~after.index.isin(before.index)]
    closed = before[~before.index.isin(after.index)]
    kept = after[after.index.isin(before.index)]
    return [("Opened", opened, _GAIN), ("Closed", closed, _LOSS), ("Kept", kept, "#4d4d4d")]


def _status_markers(label: str, centres: gpd.GeoDataFrame, colour: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=f"Centres {label.lower()} ({len(centres)})")
    points = centres.geometry.to_crs(settings.MAP_CRS)
    for (centre_id, row), point in zip(centres.iterrows(), points, strict=True):
        text = f"{label}: {_text(row['name'])} ({_text(centre_id)})"
        folium.CircleMarker(
            location=(point.y, point.x),
            radius=7,
            color=colour,
            weight=3,
            fill=label != "Closed",  # a closed centre is drawn as an empty ring
            fill_color=colour,
            fill_opacity=0.9,
            tooltip=folium.Tooltip(text),
        ).add_to(group)
    return group
