"""Folium maps of need, centres, catchments and gaps that work with no network connection.

The only module family that reprojects to WGS84: builders take frames in EPSG:27700, buffer in
metres there, and reproject only the geometry they draw. :func:`sufficiency_map`,
:func:`need_map` and :func:`difference_map` put layers together on one :class:`OfflineMap`
fitted to the areas, with a title, a caption and a layer control.

The rest lives in modules named for their noun, and is re-exported here so that every import
from this module keeps working:

- :mod:`planning.outputs.offline_map`: pages that load nothing from the network
  (:class:`OfflineMap`, :func:`offline_html`, :func:`assert_offline`);
- :mod:`planning.outputs.map_layers`: the layers, their legends and tooltips
  (:func:`need_layer`, :func:`centre_layer`, :func:`catchment_layer`, :func:`reach_layer`,
  :func:`gap_layer`, :func:`barrier_layer`, :func:`outline_layer`, :data:`SCHEMES`,
  :data:`LABELS`).

Examples
--------
>>> from planning.inputs.areas import toy_town
>>> areas = toy_town()
>>> areas["need_index"] = range(0, 90, 10)
>>> m = OfflineMap(tiles=None)
>>> _ = need_layer(areas, scheme="Quantiles", k=3).add_to(m)
>>> assert_offline(offline_html(m))
"""

from __future__ import annotations

from collections.abc import Sequence

import folium
import geopandas as gpd
import pandas as pd

from planning import settings
from planning._errors import ValidationError
from planning.outputs.map_layers import (
    _POINTS,
    _POLYGONS,
    LABELS,
    SCHEME_LABELS,
    SCHEMES,
    _areas,
    _Box,
    _check,
    _fragment,
    _legend,
    _number,
    _plain,
    _polygons,
    _tips,
    barrier_layer,
    catchment_layer,
    centre_layer,
    gap_layer,
    need_layer,
    outline_layer,
    reach_layer,
)
from planning.outputs.offline_map import OfflineMap, assert_offline, offline_html

# Every public name this module had before it was split, so imports from here keep working.
__all__ = [
    "LABELS",
    "SCHEMES",
    "SCHEME_LABELS",
    "OfflineMap",
    "assert_offline",
    "barrier_layer",
    "catchment_layer",
    "centre_layer",
    "difference_map",
    "gap_layer",
    "need_layer",
    "need_map",
    "offline_html",
    "outline_layer",
    "reach_layer",
    "sufficiency_map",
]

# ------------------------------------------------------------------------------ maps


#: Pixels kept clear on the right of a map fitted with room for its legends (``legend_room``):
#: the title, legends and layer switcher stack in the right-hand corners, off the areas.
LEGEND_ROOM_PX = 250


def _base_map(
    areas: gpd.GeoDataFrame, tiles: str | None, title: str | None, *, legend_room: bool = False
) -> OfflineMap:
    west, south, east, north = areas.geometry.to_crs(settings.MAP_CRS).total_bounds
    centre = ((south + north) / 2, (west + east) / 2)
    m = OfflineMap(location=centre, zoom_start=12, tiles=tiles, control_scale=True)
    if legend_room:
        m.fit_bounds(
            [[south, west], [north, east]],
            padding_top_left=(10, 10),
            padding_bottom_right=(LEGEND_ROOM_PX, 10),
        )
    else:
        m.fit_bounds([[south, west], [north, east]])
    if title:
        m.get_root().title = _fragment(title)  # type: ignore[attr-defined]  # branca does not escape <title>
        _Box(_fragment(title), position="topright", css="planning-title").add_to(m)
    return m


def _finish(m: OfflineMap, note: str | None) -> OfflineMap:
    if note:
        _Box(_fragment(note), position="bottomleft").add_to(m)
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
    localities: pd.DataFrame | None = None,
    deprived_label: str | None = None,
    print_ready: bool = False,
) -> OfflineMap:
    """Need, wards, localities, catchments, reach, gaps and centres on one offline map.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Area results in EPSG:27700: ``column``, ``area_name``, ``ward_name``, ``centre_id``,
        ``centre_name``, ``under5``, ``most_deprived_30``, ``within_reach``; ``locality`` adds
        a locality outline layer.
    centres : geopandas.GeoDataFrame
        Centre results in EPSG:27700 (see :func:`centre_layer`).
    column : str
        The area value drawn as a choropleth (Natural Breaks, 5 classes).
    reach_metres : sequence of float
        Distances of the reach rings.
    tiles : str or None
        A folium/xyzservices tile name (attribution kept); ``None`` for no background.
    title, note : str, optional
        A title box, and a caption box for caveats and data attribution (plain text, escaped;
        newlines become line breaks).
    localities : pandas.DataFrame, optional
        Locality results (``SufficiencyResult.localities``): locality outlines are coloured by
        verdict with the reasons in their tooltip, and centre popups give their locality's
        verdict.
    deprived_label : str, optional
        The gap layer's wording of the most deprived areas (see :func:`gap_layer`).
    print_ready : bool
        For a report that is printed: the areas are fitted to the left of the legends
        (:data:`LEGEND_ROOM_PX`), so no legend covers them; the zoom buttons and layer switcher
        are never printed (any map).

    Returns
    -------
    OfflineMap
        Fitted to the areas, with a layer control; displays offline in notebooks.
    """
    _check(areas, "areas", [column], _POLYGONS)
    m = _base_map(areas, tiles, title, legend_room=print_ready)
    need_layer(areas, column).add_to(m)
    outline_layer(areas, "ward_name", show=False).add_to(m)
    if "locality" in areas.columns and areas["locality"].notna().any():
        outline_layer(areas, "locality", localities=localities).add_to(m)
    catchment_layer(areas).add_to(m)
    streets = "barrier" in areas.columns  # measured along a street network
    reach_layer(centres, reach_metres, along_streets=streets).add_to(m)
    gap_layer(areas, deprived_label=deprived_label).add_to(m)
    if streets:
        barrier_layer(areas).add_to(m)
    centre_layer(centres, localities=localities).add_to(m)
    return _finish(m, note)


#: The need measures a need map offers, in layer-control order (the first is shown).
NEED_COLUMNS = ("need_index", "imd_score", "idaci_children", "under5")


def need_map(
    areas: gpd.GeoDataFrame,
    columns: Sequence[str] = NEED_COLUMNS,
    *,
    scheme: str = "NaturalBreaks",
    k: int = 5,
    tiles: str | None = "OpenStreetMap",
    title: str | None = None,
    note: str | None = None,
) -> OfflineMap:
    """Where need is: one choropleth per column, switchable, over ward outlines.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Areas in EPSG:27700 with ``columns``, ``area_name`` and ``ward_name`` (e.g.
        :func:`planning.load_areas` joined with :func:`planning.analysis.need.assess_need`).
    columns : sequence of str
        Area values to map, each its own layer with its own legend; only the first is on when
        the map opens. Default: the need index, IMD score, IDACI children and under-5s.
    scheme, k
        The mapclassify classification and number of classes (see :func:`need_layer`).
    tiles, title, note
        As in :func:`sufficiency_map`.

    Returns
    -------
    OfflineMap
        Fitted to the areas, with a layer control; displays offline in notebooks.
    """
    if isinstance(columns, str) or not len(columns):
        raise ValidationError(
            f"columns must be a non-empty list of column names, not {columns!r}; "
            f"e.g. {list(NEED_COLUMNS)}"
        )
    _check(areas, "areas", list(columns), _POLYGONS)
    m = _base_map(areas, tiles, title)
    for position, column in enumerate(columns):
        need_layer(areas, column, scheme=scheme, k=k, show=position == 0).add_to(m)
    outline_layer(areas, "ward_name").add_to(m)
    return _finish(m, note)


_GAIN, _LOSS, _KEPT = "#1a9850", "#d73027", "#4d4d4d"


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
        Centres indexed by ``centre_id`` with ``name``: ids only after are opened, only before
        are closed (drawn as empty rings), in both are kept (drawn where they are after).
    tiles, title, note
        As in :func:`sufficiency_map`.
    """
    columns = ["within_reach", "area_name", "ward_name", "under5"]
    _check(before_areas, "before_areas", columns, _POLYGONS)
    _check(after_areas, "after_areas", columns, _POLYGONS)
    _check(centres_before, "centres_before", ["name"], _POINTS, non_empty=False)
    _check(centres_after, "centres_after", ["name"], _POINTS, non_empty=False)
    if set(before_areas.index) != set(after_areas.index):
        differ = ", ".join(sorted(map(str, set(before_areas.index) ^ set(after_areas.index)))[:5])
        raise ValidationError(
            f"before_areas and after_areas must hold the same areas; they differ on {differ}; "
            "compare results for the same authority and boundary vintage"
        )
    after = after_areas.loc[before_areas.index]
    was, now = before_areas["within_reach"].astype(bool), after["within_reach"].astype(bool)
    m = _base_map(after, tiles, title)
    outline_layer(after, "ward_name").add_to(m)  # context: unchanged areas are not drawn
    entries = []
    for label, changed, colour in (
        ("Gain reach", after[~was & now], _GAIN),
        ("Lose reach", after[was & ~now], _LOSS),
    ):
        tips = _tips(
            changed,
            lambda code, row, label=label: [  # type: ignore[misc]
                (label, f"{_plain(row['area_name'])} ({_plain(code)})"),
                ("Ward", _plain(row["ward_name"])),
                ("Under-5s", _number(row["under5"])),
            ],
        )
        style = {"color": colour, "weight": 1.5, "fillColor": colour, "fillOpacity": 0.55}
        layer = _polygons(f"{label} ({len(changed)})", changed.geometry, tips, lambda f, s=style: s)  # type: ignore[misc]
        layer.add_to(m)
        under5 = _number(changed["under5"].sum())
        entries.append((colour, f"{label}: {_areas(len(changed))}, {under5} under-5s"))
    for label, centres, colour in (
        ("Opened", centres_after[~centres_after.index.isin(centres_before.index)], _GAIN),
        ("Closed", centres_before[~centres_before.index.isin(centres_after.index)], _LOSS),
        ("Kept", centres_after[centres_after.index.isin(centres_before.index)], _KEPT),
    ):
        _status_markers(label, centres, colour).add_to(m)
        entries.append((colour, f"Centres {label.lower()}: {len(centres)}"))
    _legend("Change in reach", entries).add_to(m)
    return _finish(m, note)


def _status_markers(label: str, centres: gpd.GeoDataFrame, colour: str) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=f"Centres {label.lower()} ({len(centres)})")
    points = centres.geometry.to_crs(settings.MAP_CRS)
    for (centre_id, row), point in zip(centres.iterrows(), points, strict=True):
        folium.CircleMarker(
            location=(point.y, point.x),
            radius=7,
            color=colour,
            weight=3,
            # A closed centre is an empty ring; folium fills any marker given a fill colour.
            fill=label != "Closed",
            fill_color=colour if label != "Closed" else None,
            fill_opacity=0.9,
            tooltip=folium.Tooltip(_fragment(f"{label}: {_plain(row['name'])} ({centre_id})")),
        ).add_to(group)
    return group
