"""Map layers: need choropleths, centres, catchments, reach rings, gaps, barriers and outlines.

Each builder takes a frame in EPSG:27700, checks it at its entry, and returns a toggleable
:class:`folium.FeatureGroup` whose tooltips and popups are pre-escaped HTML tables, with its
legend (a plain HTML Leaflet control that shows and hides with the layer). Geometry is buffered
in metres in EPSG:27700 and reprojected to WGS84 only as it is drawn (:func:`_geojson`, the
package's only reprojection). Text from input files is HTML-escaped and made safe for the
JavaScript template literals folium writes popups and tooltips into. Choropleths are classified
with mapclassify (:data:`SCHEMES`).

The maps that put these layers together are in :mod:`planning.outputs.maps`.

Examples
--------
>>> from planning.inputs.areas import toy_town
>>> from planning.outputs.offline_map import OfflineMap, assert_offline, offline_html
>>> areas = toy_town()
>>> areas["need_index"] = range(0, 90, 10)
>>> m = OfflineMap(tiles=None)
>>> _ = need_layer(areas, scheme="Quantiles", k=3).add_to(m)
>>> assert_offline(offline_html(m))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from planning import settings
from planning._errors import ValidationError
from planning._format import number
from planning._html import Markup, render
from planning._validate import Problems, require_columns, require_non_empty, require_projected
from planning.analysis.need import IDACI_CHILDREN_HEADING
from planning.outputs.offline_map import _Raw
from planning.standards import Standards

__all__ = [
    "LABELS",
    "SCHEMES",
    "SCHEME_LABELS",
    "barrier_layer",
    "catchment_layer",
    "centre_layer",
    "gap_layer",
    "need_layer",
    "outline_layer",
    "reach_layer",
]

# ------------------------------------------------------------------------------ helpers

_POLYGONS = ("Polygon", "MultiPolygon")
_POINTS = ("Point",)


def _plain(value: object) -> str:
    """Input text as text (missing values empty); templates escape it."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value)


def _js_safe(markup: str) -> str:
    """Escaped HTML made safe for folium's JavaScript template literals, where a backtick,
    ``${`` or a backslash from the data would end or change the literal."""
    return str(markup).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def _fragment(text: object) -> str:
    """Plain text as an HTML fragment for a tooltip or a box (newlines become ``<br>``)."""
    return _js_safe(render("map_text.html.j2", text=_plain(text)))


def _number(value: Any, digits: int = 0, unit: str = "") -> str:
    return number(value, digits, unit, missing="no data")


def _areas(n: int) -> str:
    return f"{n} area" if n == 1 else f"{n} areas"


def _tips(
    frame: pd.DataFrame, pairs: Callable[[Any, pd.Series], list[tuple[str, str]]]
) -> pd.Series:
    """One HTML table per row from ``pairs(index, row)`` -> (label, plain text) pairs."""
    tables = [_table(pairs(index, row)) for index, row in frame.iterrows()]
    return pd.Series(tables, index=frame.index, dtype=object)


def _table(pairs: list[tuple[str, str]]) -> str:
    """A tooltip or popup table from (label, plain text) pairs."""
    return _js_safe(render("map_table.html.j2", rows=pairs))


def _check(
    frame: object,
    source: str,
    columns: Sequence[str],
    geometry: tuple[str, ...],
    *,
    non_empty: bool = True,
) -> None:
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
        found = ", ".join(sorted(kinds)) or "missing geometries"
        problems.add(f"geometries must be {' or '.join(geometry)}; found {found}")
    problems.raise_if_any()


def _geojson(geometry: gpd.GeoSeries, properties: pd.DataFrame) -> dict[str, Any]:
    """GeoJSON in lon/lat (the package's only reprojection), rounded to ~0.1 m."""
    lonlat = geometry.to_crs(settings.MAP_CRS).to_numpy()
    rounded = shapely.transform(lonlat, lambda xy: np.round(xy, 6))
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
    if len(geometry):
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


def _outline(colour: str, weight: float, dash: str | None = None) -> dict[str, Any]:
    return {"color": colour, "weight": weight, "fill": False, "opacity": 0.9, "dashArray": dash}


_BOX_CSS = """<style>
.planning-box {background: rgba(255,255,255,0.92); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 12px/1.35 Arial, Helvetica, sans-serif;
  color: #222; max-width: 22em;}
.planning-box h4 {margin: 0 0 4px; font-size: 13px;}
.planning-title {font-size: 15px; font-weight: bold; max-width: 30em;}
.planning-swatch {display: inline-block; width: 14px; height: 14px; margin-right: 6px;
  vertical-align: middle; border: 1px solid #555;}
.leaflet-tooltip th, .leaflet-popup-content th {text-align: left; padding-right: 8px;}
/* On paper the map is a picture: buttons for zooming and switching layers mean nothing. */
@media print {
  .leaflet-control-zoom, .leaflet-control-layers {display: none !important;}
  html, body {overflow: hidden !important;}
}
</style>"""


class _Box(MacroElement):
    """A fixed HTML box (legend, title, caption) as a Leaflet control; on a layer, it shows
    and hides with the layer."""

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
        self.content, self.position = content, position
        self.css_class = f"planning-box {css}".strip()

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # folium's returns None
        root: Any = self.get_root()  # a Figure, which has a header
        root.header.add_child(_Raw(_BOX_CSS), name="planning_box_css")
        super().render(**kwargs)


def _legend(title: str, entries: Sequence[tuple[str, str]], *, subtitle: str | None = None) -> _Box:
    """A legend from (colour, plain label) pairs under a title."""
    return _Box(
        _js_safe(render("map_legend.html.j2", title=title, subtitle=subtitle, entries=entries))
    )


# ------------------------------------------------------------------------------ need layer

#: Classification schemes for choropleths: mapclassify classes taking ``k``.
SCHEMES: dict[str, type[mapclassify.classifiers.MapClassifier]] = {
    "EqualInterval": mapclassify.EqualInterval,
    "FisherJenks": mapclassify.FisherJenks,
    "JenksCaspall": mapclassify.JenksCaspall,
    "MaximumBreaks": mapclassify.MaximumBreaks,
    "NaturalBreaks": mapclassify.NaturalBreaks,
    "Quantiles": mapclassify.Quantiles,
}
#: How a legend names each scheme's classes, in words.
SCHEME_LABELS = {
    "EqualInterval": "classes of equal width",
    "FisherJenks": "classes split at natural breaks (Fisher-Jenks)",
    "JenksCaspall": "classes split at natural breaks (Jenks-Caspall)",
    "MaximumBreaks": "classes split at the largest gaps",
    "NaturalBreaks": "classes split at natural breaks",
    "Quantiles": "classes with equal numbers of areas",
}
#: ColorBrewer YlOrRd, 9 classes: light is low, dark is high.
_PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c",
            "#fc4e2a", "#e31a1c", "#bd0026", "#800026")  # fmt: skip
_NO_DATA = "#bdbdbd"
#: Legend and tooltip labels of the columns usually mapped (others: the name, capitalised).
LABELS = {
    "need_index": "Need index (0-100, higher is more need)",
    "under5": "Children under 5",
    "idaci_children": IDACI_CHILDREN_HEADING,
    "imd_score": "IMD score (higher is more deprived)",
    "imd_decile": "IMD decile (1 is most deprived)",
    "distance_m": "Distance to nearest centre (m)",
}


def _label(column: str) -> str:
    return LABELS.get(column, column.replace("_", " ").capitalize())


def _classify(values: np.ndarray, scheme: str, k: int) -> np.ndarray:
    """Upper class bounds of finite values; ``k`` capped at the number of distinct values."""
    distinct = np.unique(values)
    if len(distinct) <= 1:
        return distinct.astype(float)
    # NaturalBreaks is k-means with random starts from numpy's global generator (through
    # scikit-learn): seed it so a report's legend repeats, then restore the caller's state.
    state = np.random.get_state()
    np.random.seed(settings.RANDOM_SEED)
    try:
        with warnings.catch_warnings():
            # FisherJenks warns that it runs in pure Python without numba: slower, same breaks.
            warnings.filterwarnings("ignore", "Numba not installed", UserWarning)
            classifier = SCHEMES[scheme](values, k=min(k, len(distinct)))
    finally:
        np.random.set_state(state)
    return np.asarray(classifier.bins, dtype=float)


def need_layer(
    areas: gpd.GeoDataFrame,
    column: str = "need_index",
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    show: bool = True,
) -> folium.FeatureGroup:
    """A choropleth of one area column, classified with mapclassify, with its legend.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas in EPSG:27700 with ``column``, ``area_name`` and ``ward_name``; an
        ``idaci_estimated`` flag, when present, is shown in the tooltip.
    column : str
        The value to map, e.g. ``need_index`` or ``imd_score``; labels from :data:`LABELS`.
    scheme : str
        A name in :data:`SCHEMES`. ``NaturalBreaks`` (mapclassify's k-means) is seeded with
        ``settings.RANDOM_SEED`` so breaks repeat; ``FisherJenks`` is the optimal Jenks
        classification (slow beyond a few thousand areas without numba).
    k : int
        Number of classes, 2 to 9 (fewer when there are fewer distinct values).
    show : bool
        Whether the layer is on when the map opens (it can be switched on in the layer control).

    Returns
    -------
    folium.FeatureGroup
        Polygons with tooltips and a legend that shows with the layer. Class ``i`` holds
        values in ``(bins[i-1], bins[i]]``, the first from the minimum, as in mapclassify.
    """
    if scheme not in SCHEMES:
        valid = ", ".join(SCHEMES)
        raise ValidationError(f"unknown classification scheme '{scheme}'; valid: {valid}")
    if not 2 <= k <= len(_PALETTE):
        raise ValidationError(f"k must be between 2 and {len(_PALETTE)} classes, not {k}")
    _check(areas, "areas", [column, "area_name", "ward_name"], _POLYGONS)
    values = pd.to_numeric(areas[column], errors="coerce").astype(float)
    finite = values[np.isfinite(values)]
    if finite.empty:
        raise ValidationError(f"areas: column '{column}' has no numeric values to map")
    bins = _classify(finite.to_numpy(), scheme, k)
    picks = np.round(np.linspace(1, len(_PALETTE) - 1, len(bins))) if len(bins) > 1 else [4]
    colours = [_PALETTE[int(i)] for i in picks]
    classes = np.searchsorted(bins, finite.to_numpy(), side="left")
    fills = pd.Series(np.take(colours, classes), index=finite.index).reindex(areas.index)
    estimated = areas.get("idaci_estimated", pd.Series(False, index=areas.index)).eq(True)
    label = _label(column)
    tips = _tips(
        areas,
        lambda code, row: (
            [
                ("Area", f"{_plain(row['area_name'])} ({_plain(code)})"),
                ("Ward", _plain(row["ward_name"])),
                (label, _number(values[code], 1)),
            ]
            + ([("IDACI", "estimated (suppressed in source)")] if estimated[code] else [])
        ),
    )
    style = {"color": "#555555", "weight": 0.6, "fillOpacity": 0.7}

    def fill(feature: dict[str, Any]) -> dict[str, Any]:
        return {**style, "fillColor": feature["properties"]["fill"] or _NO_DATA}

    group = _polygons(label, areas.geometry, tips, fill, fills=fills, show=show)
    lows = np.concatenate([[finite.min()], bins[:-1]])
    counts = np.bincount(classes, minlength=len(bins))
    entries: list[tuple[str, str]] = [
        (colour, Markup("{} &ndash; {} ({})").format(f"{low:,.1f}", f"{high:,.1f}", _areas(n)))
        for colour, low, high, n in zip(colours, lows, bins, counts, strict=True)
    ]
    if len(finite) < len(areas):
        entries.append((_NO_DATA, f"no data ({_areas(len(areas) - len(finite))})"))
    _legend(label, entries, subtitle=SCHEME_LABELS.get(scheme, scheme)).add_to(group)
    return group


# ------------------------------------------------------------------------------ other layers

_KINDS = {"hub": (9, "#08519c", "Family hub"), "branch": (6, "#3182bd", "Branch")}
_OTHER = (5, "#6baed6", "Other site")


def centre_layer(
    centres: gpd.GeoDataFrame,
    *,
    name: str = "Centres",
    localities: pd.DataFrame | None = None,
) -> folium.FeatureGroup:
    """Centres as circle markers (hubs larger than branches) with an escaped popup.

    Parameters
    ----------
    centres : geopandas.GeoDataFrame
        Points in EPSG:27700 indexed by ``centre_id`` with ``name``; ``locality``, ``kind``
        (``hub``/``branch``), ``under5`` (under-5s in the catchment), ``load_status`` and
        ``verdict`` are shown when present.
    name : str
        The layer's name in the layer control.
    localities : pandas.DataFrame, optional
        Locality results indexed by locality with ``rag`` (as ``SufficiencyResult.localities``):
        each popup then gives the verdict of the centre's locality.
    """
    _check(centres, "centres", ["name"], _POINTS, non_empty=False)
    verdicts = _locality_verdicts(localities)
    group = folium.FeatureGroup(name=name)
    points = centres.geometry.to_crs(settings.MAP_CRS)
    for (centre_id, row), point in zip(centres.iterrows(), points, strict=True):
        radius, colour, kind = _KINDS.get(str(row.get("kind") or "").strip().lower(), _OTHER)
        pairs = [("Centre", f"{_plain(row['name'])} ({_plain(centre_id)})")]
        pairs += [("Locality", _plain(row["locality"]))] if "locality" in row.index else []
        pairs += [("Type", kind)]
        if "under5" in row.index:
            status = f" ({_plain(row['load_status'])})" if "load_status" in row.index else ""
            pairs += [("Load", f"{_number(row['under5'])} children under 5{status}")]
        pairs += [("Verdict", _plain(row["verdict"]))] if "verdict" in row.index else []
        if verdicts is not None and "locality" in row.index and row["locality"] in verdicts:
            pairs += [("Locality verdict", _plain(verdicts[row["locality"]]))]
        folium.CircleMarker(
            location=(point.y, point.x),
            radius=radius,
            color="#ffffff",
            weight=1.5,
            fill=True,
            fill_color=colour,
            fill_opacity=0.95,
            popup=folium.Popup(_table(pairs), max_width=320),
            tooltip=folium.Tooltip(_fragment(row["name"])),
        ).add_to(group)
    return group


def catchment_layer(areas: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Catchments: areas dissolved by ``centre_id``, outlined, with centre name and under-5s.

    Areas without a ``centre_id`` are left out; under-5s are summed (they are counts).
    """
    _check(areas, "areas", ["centre_id", "centre_name", "under5"], _POLYGONS)
    columns = ["centre_id", "centre_name", "under5", "geometry"]
    assigned = areas.loc[areas["centre_id"].notna(), columns]
    dissolved = assigned.dissolve("centre_id", aggfunc={"centre_name": "first", "under5": "sum"})
    sizes = assigned.groupby("centre_id").size()
    tips = _tips(
        dissolved,
        lambda centre, row: [
            ("Catchment of", _plain(row["centre_name"])),
            ("Under-5s", _number(row["under5"])),
            ("Areas", str(sizes[centre])),
        ],
    )
    return _polygons("Catchments", dissolved.geometry, tips, lambda f: _outline("#08306b", 2.5))


def reach_layer(
    centres: gpd.GeoDataFrame,
    metres: Sequence[float] = (2500, 1609.344),
    *,
    along_streets: bool = False,
) -> folium.FeatureGroup:
    """Dashed rings at each distance around the centres, merged where they overlap.

    Buffers are made in metres in EPSG:27700 and then reprojected, so they are true circles on
    the ground. The defaults are 2.5 km and one mile (1,609.344 m). With ``along_streets`` (the
    figures were measured along a street network) each ring's tooltip says it is a straight
    line, so no reader takes an area inside a ring for one within reach on foot.
    """
    _check(centres, "centres", [], _POINTS, non_empty=False)
    distances = sorted({float(m) for m in metres}, reverse=True)
    if not distances or any(not np.isfinite(m) or m <= 0 for m in distances):
        raise ValidationError(f"reach distances must be positive metres, not {list(metres)}")
    unions = [shapely.union_all(centres.geometry.buffer(m, quad_segs=32)) for m in distances]
    rings = gpd.GeoSeries(unions, index=[f"{m:.0f}" for m in distances], crs=centres.crs)
    rings = rings[~rings.is_empty]
    caveat = (
        " in a straight line; reach is measured along the streets (see the catchments)"
        if along_streets
        else ""
    )
    tips = pd.Series(
        [
            f"Within {float(m) / 1000:,.1f} km ({float(m) / 1609.344:,.1f} mi){caveat}"
            for m in rings.index
        ],
        index=rings.index,
    )
    dashes = {ring: ("8 6", "2 5")[i % 2] for i, ring in enumerate(rings.index)}
    return _polygons("Reach", rings, tips, lambda f: _outline("#54278f", 2, dashes[f["id"]]))


def gap_layer(areas: gpd.GeoDataFrame, *, deprived_label: str | None = None) -> folium.FeatureGroup:
    """Gaps: areas among the most deprived (``most_deprived_30``) and not ``within_reach``.

    ``deprived_label`` words the legend (:attr:`planning.standards.Standards.deprived_label` of
    the standards applied; default the packaged standards' '30% most deprived')."""
    columns = ["most_deprived_30", "within_reach", "area_name", "ward_name"]
    _check(areas, "areas", columns, _POLYGONS)
    gaps = areas[areas["most_deprived_30"].astype(bool) & ~areas["within_reach"].astype(bool)]
    tips = _tips(
        gaps,
        lambda code, row: [
            ("Gap", f"{_plain(row['area_name'])} ({_plain(code)})"),
            ("Ward", _plain(row["ward_name"])),
            ("Nearest centre", _plain(row.get("centre_name"))),
            ("Distance", _number(row.get("distance_m"), unit=" m")),
        ],
    )
    style = {"color": "#d7301f", "weight": 3, "fillColor": "#d7301f", "fillOpacity": 0.25}
    label = deprived_label or Standards().deprived_label
    name = f"Gaps: {label}, out of reach ({len(gaps)})"
    return _polygons(name, gaps.geometry, tips, lambda f: style)


def barrier_layer(areas: gpd.GeoDataFrame) -> folium.FeatureGroup:
    """Barriers: areas whose walk along the street network to their centre is more than 1.6
    times the straight line (``barrier``, from a run with a street network; see
    :func:`planning.analysis.network_distance.barrier_flags`), hatched in purple."""
    _check(areas, "areas", ["barrier", "network_ratio"], _POLYGONS)
    behind = areas[areas["barrier"].astype(bool)]
    tips = _tips(
        behind,
        lambda code, row: [
            ("Behind a barrier", f"{_plain(row.get('area_name', code))} ({_plain(code)})"),
            ("Nearest centre", _plain(row.get("centre_name"))),
            ("Walk along the streets", _number(row.get("distance_m"), unit=" m")),
            ("Straight line", _number(row.get("straight_m"), unit=" m")),
            ("Ratio", _number(row.get("network_ratio"), 1, "x")),
        ],
    )
    style = {"color": "#6a3d9a", "weight": 2.5, "dashArray": "6 4", "fill": False}
    name = f"Barriers: walk over 1.6 x the straight line ({len(behind)})"
    return _polygons(name, behind.geometry, tips, lambda f: style)


def _locality_verdicts(localities: pd.DataFrame | None) -> pd.Series | None:
    if localities is None:
        return None
    if not isinstance(localities, pd.DataFrame) or "rag" not in localities.columns:
        raise ValidationError(
            "localities: expected a DataFrame indexed by locality with a 'rag' column "
            "(SufficiencyResult.localities)"
        )
    return localities["rag"].astype(str)


#: Outline colours of locality verdicts.
_RAG_COLOURS = {"Red": "#b2182b", "Amber": "#e08214", "Green": "#1b7837"}


def outline_layer(
    areas: gpd.GeoDataFrame,
    by: str = "ward_name",
    *,
    show: bool = True,
    localities: pd.DataFrame | None = None,
) -> folium.FeatureGroup:
    """Outlines of groups of areas (wards, localities) dissolved on column ``by``.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas in EPSG:27700 with column ``by``.
    by : str
        ``ward_name``, ``locality`` or any column naming groups of areas.
    show : bool
        Whether the layer is on when the map opens.
    localities : pandas.DataFrame, optional
        With ``by="locality"``: locality results indexed by locality with ``rag`` and
        optionally ``reasons`` and ``under5`` (``SufficiencyResult.localities``). Outlines are
        then coloured by verdict (red, amber, green), the tooltip gives the verdict and its
        reasons, and a legend shows with the layer.
    """
    _check(areas, "areas", [by], _POLYGONS)
    named = areas[areas[by].notna() & (areas[by].astype(str).str.strip() != "")]
    dissolved = named[[by, "geometry"]].dissolve(by=by)
    label = {"ward_name": "Wards", "locality": "Localities"}.get(by, _label(by))
    verdicts = _locality_verdicts(localities) if by == "locality" else None
    if verdicts is None or localities is None:
        tips = pd.Series([_fragment(group) for group in dissolved.index], index=dissolved.index)
        style = _outline("#252525", 2.0) if by == "locality" else _outline("#737373", 1.0)
        return _polygons(label, dissolved.geometry, tips, lambda f: style, show=show)
    rag = verdicts.reindex(dissolved.index)
    reasons = localities.get("reasons", pd.Series(dtype=object)).reindex(dissolved.index)
    under5 = localities.get("under5", pd.Series(dtype=float)).reindex(dissolved.index)
    tips = _tips(
        dissolved,
        lambda group, row: (
            [
                ("Locality", _plain(group)),
                ("Verdict", _plain(rag[group]) or "not assessed"),
                ("Under-5s", _number(under5[group])),
            ]
            + [
                ("Reason", _plain(reason))
                for reason in (reasons[group] if isinstance(reasons[group], list) else [])
            ]
        ),
    )
    colours = rag.map(_RAG_COLOURS).fillna(_NO_DATA)
    group = _polygons(
        f"{label} by verdict",
        dissolved.geometry,
        tips,
        lambda f: _outline(f["properties"]["fill"], 6.0),
        fills=colours,
        show=show,
    )
    counts = rag.value_counts()
    entries = [
        (colour, f"{verdict} ({int(counts.get(verdict, 0))})")
        for verdict, colour in _RAG_COLOURS.items()
        if counts.get(verdict, 0)
    ]
    _legend("Locality verdict", entries).add_to(group)
    return group
