"""The widgets of the councillors' dashboard (ipywidgets + ipyleaflet), served by Voila.

All the logic is in :class:`planning.apps.dashboard.model.Dashboard`; this module only lays out widgets,
passes their values (untrusted: they come from the browser) to it, and shows what it returns.
Every text from data or from the viewer is HTML-escaped before it is shown. Errors are shown as a
plain message; no traceback reaches the page.

The map is drawn with ipyleaflet, whose JavaScript ships inside the Python package
(``jupyter-leaflet``), so it renders with no network; background tiles appear when online.
Geometry is reprojected to WGS84 here, only for drawing.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import ipyleaflet
import ipywidgets as w
import numpy as np
import pandas as pd
import shapely

from planning import settings
from planning._errors import ValidationError
from planning._format import slug, standard_km
from planning._html import Markup, render
from planning.apps.dashboard.model import (
    ILLUSTRATIVE_TEXT,
    REACH_KM_RANGE,
    WHOLE_AUTHORITY,
    Card,
    Dashboard,
    _standards,
)
from planning.standards import Standards

logger = logging.getLogger(__name__)

#: Largest centres file a viewer may upload.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_SUFFIXES = (".csv", ".geojson", ".json", ".gpkg")
#: ColorBrewer YlOrRd, 5 classes, for need-index quintiles.
NEED_COLOURS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
KIND_COLOURS = {"hub": "#08519c", "branch": "#3182bd", "new": "#6a3d9a", "": "#3182bd"}
CLOSED_COLOUR = "#969696"
#: The map's height; its width is what the page leaves beside the controls (about 700 px and
#: more on a laptop), so the zoom that fits the authority assumes 700 x MAP_HEIGHT_PX.
MAP_HEIGHT_PX = 520
MAP_WIDTH_PX = 700
AREA_HINT = "Point at an area to see its under-5s, distance and nearest centre."
GAP_COLOUR = "#b2182b"

CSS = """
<style>
.planning-dashboard { font-family: system-ui, -apple-system, "Segoe UI", sans-serif;
  max-width: 1280px; }
.planning-dashboard h1 { font-size: 1.5em; margin: 0.2em 0; }
.planning-dashboard h3 { font-size: 1.1em; margin: 0.4em 0 0.2em; }
.planning-cards { flex-wrap: wrap; gap: 8px; }
.planning-main { gap: 12px; }
.planning-card { border: 1px solid #c8c8c8; border-radius: 6px; padding: 6px 12px;
  background: #fafafa; min-width: 180px; flex: 1 1 180px; }
.planning-card-label { font-size: 0.85em; color: #333; }
.planning-card-value { font-size: 1.9em; font-weight: 600; line-height: 1.3; }
.planning-card-detail { font-size: 0.8em; color: #555; line-height: 1.25; }
.planning-rag { padding: 0 0.35em; border-radius: 4px; }
.planning-rag-green { background: #1a9850; color: #fff; }
.planning-rag-amber { background: #fdae61; color: #000; }
.planning-rag-red { background: #d73027; color: #fff; }
.planning-note { background: #fff3cd; border: 1px solid #e0c060; padding: 6px 10px;
  border-radius: 4px; }
.planning-message-error { color: #a50f15; font-weight: 600; }
.planning-message-ok { color: #1b5e20; }
.planning-localities { border-collapse: collapse; font-size: 0.9em; width: 100%; }
.planning-localities th, .planning-localities td { border-bottom: 1px solid #ddd;
  padding: 4px 6px; text-align: right; vertical-align: top; }
.planning-localities th:first-child, .planning-localities td:first-child,
.planning-localities td.planning-reasons { text-align: left; }
.planning-localities tr.planning-selected td { background: #eef4fb; }
.planning-localities ul { margin: 0; padding-left: 1.1em; }
.planning-controls { min-width: 320px; max-width: 380px; }
.planning-centres { max-height: 280px; overflow-y: auto; }
.planning-small { font-size: 0.8em; color: #555; }
.planning-card-scope { font-size: 0.75em; text-transform: uppercase; letter-spacing: 0.03em;
  color: #08519c; }
.planning-message-warning { background: #fff3cd; border: 1px solid #e0c060; padding: 4px 8px;
  border-radius: 4px; margin-top: 4px; }
.planning-moves { background: #eef4fb; border-left: 4px solid #08519c; padding: 0 10px; }
.planning-moves:empty { display: none; }
.planning-upload-panel { margin-top: 12px; border-top: 1px solid #ddd; }
.planning-area-info { background: rgba(255, 255, 255, 0.92); padding: 4px 8px;
  border-radius: 4px; font-size: 12px; line-height: 1.35; max-width: 300px; }
.planning-area-name { font-weight: 600; }
.planning-map .leaflet-div-icon { background: transparent; border: none; }
.planning-dot { display: block; width: 100%; height: 100%; box-sizing: border-box;
  border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 2px rgba(0, 0, 0, 0.7);
  cursor: pointer; }
.planning-dot-hub { background: #08519c; }
.planning-dot-branch { background: #3182bd; }
.planning-dot-new { background: #6a3d9a; }
.planning-dot.planning-dot-off { background: #fff; border-color: #969696; }
</style>
"""


def _rag_badge(rag: str) -> Markup:
    return render(
        "rag_badge.html.j2", rag=rag, classes=f"planning-rag planning-rag-{slug(rag, empty='x')}"
    )


def _text(text: Any, tag: str = "div", classes: str = "", *, alert: bool = False) -> Markup:
    """One element holding ``text``, escaped."""
    return render("dashboard_text.html.j2", text=text, tag=tag, classes=classes, alert=alert)


def card_html(card: Card) -> str:
    """The inner HTML of a card (``planning-card-value`` holds the figure as text)."""
    value = _rag_badge(card.value) if card.key == "verdict" and card.value != "n/a" else card.value
    return render("dashboard_card.html.j2", card=card, value=value)


def table_html(
    table: pd.DataFrame, *, selected: str | None = None, deprived_label: str | None = None
) -> str:
    """The locality table as HTML, the selected locality highlighted; ``deprived_label`` words
    the most deprived areas (:attr:`Standards.deprived_label`, default the packaged standards)."""
    reach = standard_km(table["reach_km"].iloc[0]) if len(table) else ""
    rows = []
    for name, row in table.iterrows():
        # The reasons that set the verdict (all of them when it is green); the CSV has every one.
        shown = [r for r in row["reasons"] if not r.startswith("Green")] or list(row["reasons"])
        rows.append(
            {
                **row.to_dict(),
                "name": name,
                "selected": name == selected,
                "badge": _rag_badge(row["rag"]),
                "reasons": shown,
            }
        )
    deprived = deprived_label or Standards().deprived_label
    return render("dashboard_table.html.j2", reach=reach, deprived=deprived, rows=rows)


def legend_html() -> str:
    """The map key, as a line of swatches under the map."""
    swatches = [
        {"colour": KIND_COLOURS["hub"], "label": "family hub", "round": True, "dashed": False},
        {"colour": KIND_COLOURS["branch"], "label": "other centre", "round": True, "dashed": False},
        {"colour": KIND_COLOURS["new"], "label": "new site", "round": True, "dashed": False},
        {"colour": "#ffffff", "label": "switched off", "round": True, "dashed": False},
        {"colour": GAP_COLOUR + "55", "label": "beyond reach", "round": False, "dashed": True},
    ]
    return render("dashboard_legend.html.j2", need_colours=NEED_COLOURS, swatches=swatches)


def _zoom_for(west: float, south: float, east: float, north: float) -> float:
    """The largest web-map zoom, in quarter steps, at which the box fits the map
    (:data:`MAP_WIDTH_PX` x :data:`MAP_HEIGHT_PX` less a 20-pixel margin each side).

    Web Mercator: the world is 256 x 2**zoom pixels wide, x = lon / 360 and
    y = ln(tan(pi/4 + lat/2)) / 2 pi of it.
    """

    def mercator(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    width, height = MAP_WIDTH_PX - 40, MAP_HEIGHT_PX - 40
    zoom_x = math.log2(width * 360 / (256 * max(east - west, 1e-6)))
    zoom_y = math.log2(height * 2 * math.pi / (256 * max(mercator(north) - mercator(south), 1e-9)))
    return float(max(3.0, min(16.0, math.floor(4 * min(zoom_x, zoom_y)) / 4)))


class DashboardMap:
    """The ipyleaflet map: need shading, areas beyond reach, reach rings, centres and sites."""

    def __init__(
        self,
        board: Dashboard,
        *,
        on_click: Callable[[float, float], None],
        on_marker: Callable[[str], None] | None = None,
    ) -> None:
        self.board = board
        self._on_click = on_click
        self._on_marker = on_marker
        areas = board.areas
        # WGS84 only for drawing; coordinates rounded to ~1 m to keep the page small.
        geometry = shapely.transform(
            np.asarray(areas.geometry.to_crs(settings.MAP_CRS).array),
            lambda xy: np.round(xy, 5),
        )
        need = board.engine.need_for(board.standards)["need_index"].reindex(areas.index)
        ranks = need.rank(pct=True, method="average").fillna(0.5).to_numpy()
        classes = np.minimum((ranks * len(NEED_COLOURS)).astype(int), len(NEED_COLOURS) - 1)
        self._features: dict[str, dict[str, Any]] = {}
        need_features = []
        names = areas["area_name"] if "area_name" in areas else pd.Series(areas.index, areas.index)
        for code, geom, cls, name in zip(areas.index, geometry, classes, names):
            shape = shapely.geometry.mapping(geom)
            self._features[code] = {"type": "Feature", "id": code, "geometry": shape,
                                    "properties": {"name": str(name)}}  # fmt: skip
            need_features.append(
                {"type": "Feature", "id": code, "geometry": shape,
                 "properties": {"name": str(name), "style": {"fillColor": NEED_COLOURS[cls]}}}
            )  # fmt: skip
        west, south, east, north = shapely.total_bounds(geometry)
        self.bounds = ((float(south), float(west)), (float(north), float(east)))
        self.home = ((south + north) / 2, (west + east) / 2), _zoom_for(west, south, east, north)
        self._to_map = _transformer()
        self.need = ipyleaflet.GeoJSON(
            data={"type": "FeatureCollection", "features": need_features},
            style={"color": "#777777", "weight": 1, "fillOpacity": 0.55},
            name="Need index (quintiles in the authority)",
        )
        self.gaps = ipyleaflet.GeoJSON(
            data=self._collection([]),
            style={
                "color": GAP_COLOUR,
                "weight": 2,
                "dashArray": "5 4",
                "fillColor": GAP_COLOUR,
                "fillOpacity": 0.3,
            },
            name="Areas beyond reach",
        )
        self.locality = ipyleaflet.GeoJSON(
            data=self._collection([]),
            style={"color": "#000000", "weight": 3, "fillOpacity": 0},
            name="Selected locality",
        )
        self.rings = ipyleaflet.LayerGroup(name="Reach rings")
        self.centres = ipyleaflet.LayerGroup(name="Centres")
        self._markers: dict[str, tuple[ipyleaflet.Marker, ipyleaflet.Circle, w.HTML]] = {}
        self._icons: dict[str, ipyleaflet.DivIcon] = {}
        (lat, lon), zoom = self.home
        self.widget = ipyleaflet.Map(
            center=(lat, lon),
            zoom=zoom,
            zoom_snap=0.25,  # fractional zooms, so the authority fills the map
            zoom_delta=0.5,
            scroll_wheel_zoom=True,
            layout=w.Layout(height=f"{MAP_HEIGHT_PX}px", width="100%"),
        )
        self.widget.add_class("planning-map")
        for layer in (self.need, self.gaps, self.locality, self.rings, self.centres):
            self.widget.add(layer)
        self.widget.add(ipyleaflet.LayersControl(position="topright"))
        # Hovering an area: its name, under-5s, distance and serving centre, in a box on the map
        # (the Leaflet "info control" pattern; vector layers have no tooltips in ipyleaflet).
        self.info = _html(AREA_HINT, "planning-area-info")
        self.widget.add(ipyleaflet.WidgetControl(widget=self.info, position="bottomleft"))
        for layer in (self.need, self.gaps, self.locality):
            layer.hover_style = {"weight": 3, "color": "#222222"}
            layer.on_hover(self._hover)
        self.legend = _html(legend_html(), "planning-legend planning-small")
        self.widget.on_interaction(self._interaction)

    def _collection(self, codes: Sequence[str]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": [self._features[c] for c in codes]}

    def _hover(self, feature: Any = None, **_: Any) -> None:
        code = feature.get("id") if isinstance(feature, dict) else None
        details = self.board.area_details(code)
        if details is not None:
            self.info.value = render("dashboard_area.html.j2", area=details)

    def _marker_clicked(self, centre_id: str, **_: Any) -> None:
        if self._on_marker is not None:
            self._on_marker(centre_id)

    def _icon(self, kind: str, is_open: bool, centre_id: str) -> ipyleaflet.DivIcon:
        """A round marker drawn by CSS (``planning-dot-<kind>``); one icon per look, shared."""
        size = 18 if kind == "hub" else 14
        css = f"planning-dot planning-dot-{kind if kind in KIND_COLOURS else 'branch'}"
        css += "" if is_open else " planning-dot-off"
        key = f"{css}|{slug(centre_id, empty='x')}"
        if key not in self._icons:
            # Only fixed class names and a slug of the id go into the icon's HTML (no data text).
            html = f'<span class="{css} planning-marker-{slug(centre_id, empty="x")}"></span>'
            self._icons[key] = ipyleaflet.DivIcon(
                html=html, icon_size=[size, size], icon_anchor=[size // 2, size // 2]
            )
        return self._icons[key]

    def _interaction(self, **event: Any) -> None:
        if event.get("type") != "click":
            return
        coordinates = event.get("coordinates")
        if isinstance(coordinates, (list, tuple)) and len(coordinates) == 2:
            self._on_click(*coordinates)

    def update(self, layers: dict[str, Any], locality: str | None) -> None:
        """Redraw what the change alters: gaps, rings, centre markers and the locality outline."""
        self.gaps.data = self._collection(list(layers["beyond_reach"]))
        in_locality = (
            [] if locality in (None, WHOLE_AUTHORITY)
            else layers["area_locality"].index[layers["area_locality"] == locality].tolist()
        )  # fmt: skip
        self.locality.data = self._collection(in_locality)
        centres: pd.DataFrame = layers["centres"]
        radius = round(layers["reach_m"])
        lon, lat = self._to_map.transform(
            centres["easting"].to_numpy(), centres["northing"].to_numpy()
        )
        markers, rings = [], []
        for (centre_id, row), y, x in zip(centres.iterrows(), lat, lon):
            location = [round(float(y), 6), round(float(x), 6)]
            if centre_id not in self._markers:
                popup = _html(css="planning-centre-popup")
                marker = ipyleaflet.Marker(
                    location=location, draggable=False, keyboard=True,
                    title=str(row["name"]), alt=str(row["name"]), name=str(row["name"]),
                    popup=popup, popup_min_width=220,
                )  # fmt: skip
                marker.on_click(partial(self._marker_clicked, centre_id))
                # Outline only: a filled ring would hide the areas inside it from the pointer.
                ring = ipyleaflet.Circle(location=location, weight=1, fill=False,
                                         color="#2166ac", dash_array="4 4")  # fmt: skip
                self._markers[centre_id] = (marker, ring, popup)
            marker, ring, popup = self._markers[centre_id]
            icon = self._icon(str(row["kind"]), bool(row["open"]), centre_id)
            if marker.icon is not icon:
                marker.icon = icon
            popup.value = render(
                "dashboard_popup.html.j2", centre=self.board.centre_details(centre_id)
            )
            markers.append(marker)
            if row["open"]:
                ring.radius = radius
                rings.append(ring)
        for centre_id in set(self._markers) - set(centres.index):
            for layer in self._markers.pop(centre_id):
                layer.close()
        self.rings.layers = tuple(rings)
        self.centres.layers = tuple(markers)

    def focus(self, locality: str | None, layers: dict[str, Any]) -> None:
        """Centre the map on a locality (or the whole authority)."""
        if locality in (None, WHOLE_AUTHORITY):
            center, zoom = self.home
        else:
            codes = layers["area_locality"].index[layers["area_locality"] == locality]
            if len(codes) == 0:
                return
            shapes = [shapely.geometry.shape(self._features[c]["geometry"]) for c in codes]
            west, south, east, north = shapely.total_bounds(shapes)
            center, zoom = (
                ((south + north) / 2, (west + east) / 2),
                _zoom_for(west, south, east, north),
            )
        self.widget.center = center
        self.widget.zoom = zoom


def _close(widget: Any) -> None:
    """Close a widget and everything inside it (children, map layers and controls), so a
    replaced dashboard leaves nothing behind in the kernel."""
    for attribute in ("children", "layers", "controls"):
        for child in getattr(widget, attribute, ()):
            _close(child)
    widget.close()


def _transformer() -> Any:
    import pyproj

    return pyproj.Transformer.from_crs(settings.WORKING_CRS, settings.MAP_CRS, always_xy=True)


def _html(value: str = "", css: str = "") -> w.HTML:
    widget = w.HTML(value)
    for name in css.split():
        widget.add_class(name)
    return widget


class DashboardView:
    """The dashboard for one authority: cards, map, table and the controls to try a change."""

    def __init__(self, board: Dashboard) -> None:
        self.board = board
        self._syncing = False
        self.cards = {
            card.key: _html(css=f"planning-card {card.css_class}") for card in board.cards()
        }
        self.locality = self._locality_dropdown()
        self.map = DashboardMap(board, on_click=self._on_map_click, on_marker=self._on_marker)
        self.toggles: dict[str, w.Checkbox] = {}
        self.centre_box = w.VBox().add_class("planning-centres")
        self._sync_toggles()
        self.postcode, self.add_button = self._postcode_controls()
        self.click_mode = w.ToggleButton(
            value=False,
            description="Add a site by clicking the map",
            layout=w.Layout(width="auto"),
        ).add_class("planning-click-mode")
        self.click_mode.observe(self._on_click_mode, names="value")
        self.reach = self._reach_slider()
        self.reset_button = w.Button(
            description="Reset to the current network", icon="undo", layout=w.Layout(width="auto")
        ).add_class("planning-reset")
        self.reset_button.on_click(lambda _: self._act(self._reset))
        self.message = _html(css="planning-message")
        # "Show reach to: any centre / a hub / a service" (issue 14), in its own module.
        from planning.apps.dashboard.services import ServiceReachControl

        self.service_reach = ServiceReachControl(board)
        self.summary = _html(css="planning-summary")
        # How sure the verdicts are (issue 16): on request, so a click on the map stays fast.
        self.how_sure_button = w.Button(
            description="How sure are these verdicts?", layout=w.Layout(width="auto")
        ).add_class("planning-how-sure")
        self.how_sure_button.on_click(lambda _: self._how_sure())
        self.how_sure = _html(css="planning-how-sure-text")
        self.moves = _html(css="planning-moves")
        self.table = _html(css="planning-table")
        self.download = _html(css="planning-download")
        notes = "".join(
            _text(
                n,
                "p",
                "planning-note planning-note-illustrative"
                if n == ILLUSTRATIVE_TEXT
                else "planning-note",
            )
            for n in board.notes()
        )
        self.notes = _html(notes, "planning-notes")
        self.widget = self._page()
        self.refresh()

    def _locality_dropdown(self) -> w.Dropdown:
        """The locality chooser: the whole authority, or one locality to zoom to and pick out."""
        locality = w.Dropdown(
            options=[WHOLE_AUTHORITY, *self.board.localities],
            value=WHOLE_AUTHORITY,
            description="Show",
            layout=w.Layout(width="320px"),
        ).add_class("planning-locality")
        locality.observe(self._on_locality, names="value")
        return locality

    def _postcode_controls(self) -> tuple[w.Text, w.Button]:
        """The postcode box and its 'Add site' button."""
        postcode = w.Text(
            placeholder="Postcode, e.g. DE1 2FS",
            layout=w.Layout(width="170px"),
        ).add_class("planning-postcode")
        add_button = w.Button(description="Add site", icon="plus").add_class("planning-add-site")
        add_button.on_click(lambda _: self._act(self._add_postcode))
        return postcode, add_button

    def _reach_slider(self) -> w.FloatSlider:
        """The reach slider, in km within the range the standards allow."""
        low, high = REACH_KM_RANGE
        reach = w.FloatSlider(
            value=self.board.reach_km,
            min=low,
            max=high,
            step=0.1,
            description="Reach (km)",
            continuous_update=False,  # each value redraws cards, map and table: on release only
            readout_format=".1f",
        ).add_class("planning-reach")
        reach.observe(self._on_reach, names="value")
        return reach

    def _controls(self) -> w.VBox:
        """The 'Try a change' panel beside the map: centre toggles, new sites, reach, reset."""
        return w.VBox(
            [
                _html(
                    "<h3>Try a change</h3>"
                    "<div class='planning-small'>Untick a centre, or click its marker on "
                    "the map, to switch it off; add a site by postcode or on the map.</div>"
                ),
                self.centre_box,
                w.HBox([self.postcode, self.add_button]),
                self.click_mode,
                self.reach,
                self.reset_button,
                self.message,
            ]
        ).add_class("planning-controls")

    def _page(self) -> w.VBox:
        """Lay the widgets out as one page: heading, cards, map beside controls, table, footer."""
        return w.VBox(
            [
                _html(
                    _text(
                        "Children's centres in "
                        f"{self.board.authority_name}: are families within reach?",
                        "h1",
                    )
                ),
                self.notes,
                self.locality,
                w.HBox(list(self.cards.values())).add_class("planning-cards"),
                self.summary,
                w.HBox([self.how_sure_button]),
                self.how_sure,
                self.moves,
                w.HBox(
                    [
                        w.VBox(
                            [self.map.widget, self.map.legend], layout=w.Layout(flex="1 1 auto")
                        ),
                        self._controls(),
                    ],
                    layout=w.Layout(width="100%"),
                ).add_class("planning-main"),
                # Below the map row, so the map keeps its height (and the zoom that fits it).
                self.service_reach.widget,
                _html(
                    "<h3>Localities: verdict and reasons</h3><div class='planning-small'>"
                    "The reasons that set each verdict; the CSV has every rule.</div>"
                ),
                self.table,
                self.download,
                _html(self._footer(), "planning-small"),
            ]
        )

    def _footer(self) -> str:
        from planning.inputs.areas import ATTRIBUTION

        return render("dashboard_footer.html.j2", s=self.board.standards, attribution=ATTRIBUTION)

    # ------------------------------------------------------------------ actions

    def _act(self, action: Callable[..., str | tuple[str, str] | None], *args: Any) -> None:
        """Run one viewer action; show its message (with a warning, if it returns one), or
        the reason it was refused."""
        try:
            said = action(*args)
        except ValidationError as exc:
            self._say(str(exc), error=True)
            self._sync_controls()
            return
        except Exception:  # never let a traceback reach the page
            logger.exception("dashboard action failed")
            self._say("Something went wrong; the change was not applied.", error=True)
            self._sync_controls()
            return
        if isinstance(said, tuple):
            self._say(said[0], warning=said[1])
        else:
            self._say(said or "")
        self.refresh()

    def _say(self, text: str, *, error: bool = False, warning: str = "") -> None:
        css = "planning-message-error" if error else "planning-message-ok"
        shown = _text(text, "div", css, alert=error) if text else Markup("")
        if warning:
            shown += _text(warning, "div", "planning-message-warning", alert=True)
        self.message.value = shown

    def _on_toggle(self, centre_id: str, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._act(self._toggle, centre_id, change["new"])

    def _toggle(self, centre_id: str, value: Any) -> str:
        name = self.board.centre_name(centre_id)
        self.board.set_open(centre_id, value)
        self._sync_toggles()
        return f"{name} switched {'on' if value else 'off'}."

    def _on_marker(self, centre_id: str) -> None:
        """A click on a centre's marker switches it, as its checkbox does."""
        if centre_id in self.board.centre_ids:
            self._act(self._toggle, centre_id, not self.board.is_open(centre_id))

    def _on_click_mode(self, change: dict[str, Any]) -> None:
        if change["new"] and not self._syncing:
            self._say("Now click the map where the new site would be.")

    def _add_postcode(self) -> tuple[str, str]:
        site = self.board.add_site(postcode=self.postcode.value)
        postcode = site.name.partition("(at ")[2].rstrip(")")
        self.postcode.value = postcode  # the postcode as found: 'de12fs' -> 'DE1 2FS'
        self._sync_toggles()
        return f"Added {site.name}.", site.warning

    def _on_map_click(self, latitude: Any, longitude: Any) -> None:
        if self.click_mode.value:
            self._act(self._add_point, latitude, longitude)

    def _add_point(self, latitude: Any, longitude: Any) -> tuple[str, str]:
        site = self.board.add_site(latitude=latitude, longitude=longitude)
        self._sync_toggles()
        self._syncing = True
        try:
            self.click_mode.value = False
        finally:
            self._syncing = False
        return f"Added {site.name}.", site.warning

    def _on_reach(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._act(self._set_reach, change["new"])

    def _set_reach(self, value: Any) -> str:
        self.board.set_reach_km(value)
        return ""

    def _reset(self) -> str:
        self.board.reset()
        self._sync_controls()
        return "Back to the current network."

    def _on_locality(self, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._act(self._focus, change["new"])

    def _focus(self, locality: Any) -> str:
        self.board.figures_for(locality)  # checks the choice is a known locality
        self.map.focus(locality, self.board.map_layers())
        return ""

    # ------------------------------------------------------------------ showing the state

    def _sync_toggles(self) -> None:
        """One checkbox per centre and added site, ticked when open."""
        self._syncing = True
        try:
            ids = self.board.centre_ids
            for centre_id in list(self.toggles):
                if centre_id not in ids:
                    self.toggles.pop(centre_id).close()
            used: set[str] = set()
            for centre_id in ids:
                if centre_id not in self.toggles:
                    css = slug(centre_id, empty="x")
                    while css in used:
                        css += "-x"
                    box = w.Checkbox(
                        value=True,
                        description=f"{centre_id} · {self.board.centre_name(centre_id)}",
                        indent=False,
                        layout=w.Layout(width="auto"),
                    )
                    box.add_class("planning-centre-toggle").add_class(f"planning-centre-{css}")
                    box.observe(partial(self._on_toggle, centre_id), names="value")
                    self.toggles[centre_id] = box
                used.add(slug(centre_id, empty="x"))
                self.toggles[centre_id].value = self.board.is_open(centre_id)
            self.centre_box.children = tuple(self.toggles[c] for c in ids)
        finally:
            self._syncing = False

    def _sync_controls(self) -> None:
        self._sync_toggles()
        self._syncing = True
        try:
            self.reach.value = self.board.reach_km
            if self.locality.value not in self.locality.options:
                self.locality.value = WHOLE_AUTHORITY
        finally:
            self._syncing = False

    def refresh(self) -> None:
        """Show the current change: summary, map, table, download link, moves, service reach,
        then the cards.

        The whole authority's cards come from the engine's array path
        (:meth:`Dashboard.headline`); the tables behind the rest are built once for the change
        (:meth:`Dashboard.evaluate`). The cards are drawn last, so that when they show the new
        figures the whole page does (a download or a locality move read then is of the change
        shown)."""
        board = self.board
        locality = self.locality.value
        changes = board.changes()
        self.summary.value = render(
            "dashboard_text.html.j2",
            heading="What this means",
            changes=changes,
            items=board.summary(),
        )
        self.map.update(board.map_layers(), locality)
        self.table.value = table_html(
            board.table(),
            selected=locality,
            deprived_label=board.evaluate().standards.deprived_label,
        )
        self.download.value = render(
            "dashboard_download.html.j2", filename=board.csv_filename(), href=board.csv_data_uri()
        )
        moves = board.locality_moves()
        self.moves.value = (
            render(
                "dashboard_text.html.j2",
                heading="Areas moving between localities",
                changes=[],
                items=moves,
            )
            if moves
            else ""
        )
        self.service_reach.refresh()
        # The odds were for the change shown before: ask again for this one.
        self.how_sure.value = ""
        for card in board.cards(locality):
            self.cards[card.key].value = card_html(card)

    def _how_sure(self) -> None:
        """Fill the "How sure" box for the change being tried (nothing else on the page moves,
        so no refresh)."""
        from planning.outputs.uncertainty import uncertainty_charts

        board = self.board
        try:
            items = board.verdict_odds()
            # The error bars of the report, for the change being tried.
            charts = uncertainty_charts(board.uncertainty(), board.evaluate().standards)
        except Exception:  # never let a traceback reach the page
            logger.exception("how sure failed")
            self._say("Could not work out how sure the verdicts are.", error=True)
            return
        text = render(
            "dashboard_text.html.j2",
            heading="How sure are these verdicts? (1,000 draws of plausible inputs)",
            changes=[],
            items=items,
        )
        self.how_sure.value = str(text) + "".join(str(chart) for chart in charts)


class DashboardApp:
    """The page: an authority chooser above the dashboard of the chosen authority."""

    def __init__(
        self,
        authority: str = settings.DEFAULT_AUTHORITY,
        *,
        centres: str | Path | None = None,
        standards: Standards | None = None,
        network: str | Path | None = None,
    ) -> None:
        from planning.inputs.areas import list_authorities, resolve_authority

        self.standards = standards
        self.network = network
        code, _ = resolve_authority(authority)
        table = list_authorities()
        self.authority = w.Dropdown(
            options=[(f"{row.name} ({row.code})", row.code) for row in table.itertuples()],
            value=code,
            description="Authority",
            layout=w.Layout(width="420px"),
        ).add_class("planning-authority")
        self.body = w.VBox()
        self.view: DashboardView | None = None
        self.widget = w.VBox([_html(CSS), self.authority, self.body]).add_class(
            "planning-dashboard"
        )
        self._open(code, centres)
        self.authority.observe(self._on_authority, names="value")

    def _on_authority(self, change: dict[str, Any]) -> None:
        try:
            self._open(str(change["new"]), None)
        except Exception:  # never let a traceback reach the page
            logger.exception("could not open authority")
            self._show(
                _html(
                    "<p class='planning-message-error'>Could not open this authority.</p>",
                    "planning-message",
                )
            )

    def _open(self, code: str, centres: str | Path | None, *, label: str | None = None) -> None:
        """Show an authority's dashboard: with ``centres`` (a file; ``label`` names an upload),
        else its illustrative sites by the command line's rule (:func:`default_centres`).

        A refused upload raises :class:`ValidationError` naming the viewer's file (the
        dashboard on the page stays); any other refusal is shown with the upload form.
        """
        from planning.inputs.areas import resolve_authority

        code, name = resolve_authority(code)
        if label is None:
            self._show(_html(_text(f"Loading {name}…", "p"), "planning-loading"))
        try:
            board = Dashboard.for_authority(
                code, centres=centres, standards=self.standards, network=self.network
            )
        except ValidationError as exc:
            text = str(exc)
            if label is not None and centres is not None:
                # Name the viewer's file, not the private temporary copy.
                text = text.replace(str(centres), label)
                if text.startswith(Path(centres).name + ":"):
                    text = label + text[len(Path(centres).name) :]
                raise ValidationError(text) from None
            self._show(self._centres_needed(code, name, error=text))
            return
        self.view = DashboardView(board)
        self._show(w.VBox([self.view.widget, self._upload_panel(code, board)]))

    def _show(self, widget: w.Widget) -> None:
        """Put ``widget`` on the page and close what it replaces."""
        old = self.body.children
        self.body.children = [widget]
        for replaced in old:
            if replaced is not widget:
                _close(replaced)

    def _upload_panel(self, code: str, board: Dashboard) -> w.Widget:
        """Under the dashboard: replace the centres by the council's own file."""
        upload, message = self._upload_controls(code)
        text = (
            f"The centres above are illustrative. Upload {board.authority_name}'s own centres "
            if board.illustrative
            else "Upload another centres "
        ) + (
            "file (CSV, GeoJSON or GeoPackage with centre_id, name and a location: easting/"
            "northing, latitude/longitude or postcode; up to "
            f"{MAX_UPLOAD_BYTES // 2**20} MB) to see its figures."
        )
        intro = _html(_text("Use the council's own centres", "h3") + _text(text, "p"))
        return w.VBox([intro, upload, message]).add_class("planning-upload-panel")

    def _upload_controls(self, code: str, error: str = "") -> tuple[w.FileUpload, w.HTML]:
        upload = w.FileUpload(
            accept=",".join(UPLOAD_SUFFIXES), multiple=False, description="Upload centres"
        ).add_class("planning-centres-upload")
        message = _html(
            _text(error, "div", "planning-message-error", alert=True) if error else "",
            "planning-upload-message",
        )
        upload.observe(partial(self._on_upload, code, message), names="value")
        return upload, message

    def _centres_needed(self, code: str, name: str, *, error: str = "") -> w.Widget:
        """Ask for a centres file, when the authority's centres could not be opened."""
        upload, message = self._upload_controls(code, error)
        intro = _html(
            render(
                "dashboard_centres_needed.html.j2",
                name=name,
                code=code,
                max_mb=MAX_UPLOAD_BYTES // 2**20,
            )
        )
        return w.VBox([intro, upload, message])

    def _on_upload(self, code: str, message: w.HTML, change: dict[str, Any]) -> None:
        files = change["new"]
        if not files:
            return
        try:
            self._open_upload(code, files)
        except ValidationError as exc:
            message.value = _text(exc, "div", "planning-message-error", alert=True)
        except Exception:  # never let a traceback reach the page
            logger.exception("could not read uploaded centres")
            message.value = (
                '<div class="planning-message-error" role="alert">The file could not be read; '
                "check it is a centres file in the format described.</div>"
            )

    def _open_upload(self, code: str, files: Sequence[dict[str, Any]]) -> None:
        if len(files) != 1:
            raise ValidationError("upload one centres file")
        item = files[0]
        label = str(item.get("name", "centres"))[:80]
        suffix = Path(label).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise ValidationError(
                f"{label}: a centres file must end in {', '.join(UPLOAD_SUFFIXES)}"
            )
        content = bytes(item.get("content", b""))
        if len(content) > MAX_UPLOAD_BYTES:
            raise ValidationError(f"{label}: larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        # Only the suffix of the viewer's file name is used; the file goes to a private folder.
        with tempfile.TemporaryDirectory(prefix="planning-upload-") as folder:
            path = Path(folder) / f"centres{suffix}"
            path.write_bytes(content)
            self._open(code, path, label=label)


def build_dashboard(
    authority: str = settings.DEFAULT_AUTHORITY,
    *,
    centres: str | Path | None = None,
    standards: str | Path | Standards | None = None,
    network: str | Path | None = None,
) -> Any:
    """The councillors' dashboard as one ipywidgets widget (what Voila serves).

    Parameters
    ----------
    authority : str
        Upper-tier authority code or name to open with (default Derby). A dropdown on the page
        switches authority; each opens on its illustrative sites (the command line's rule,
        :func:`planning.inputs.illustrative.resolve_centres`), and an upload below the
        dashboard replaces them with the council's own centres file.
    centres : path, optional
        Centres file for ``authority`` (default: its illustrative sites).
    standards : path or Standards, optional
        Standards YAML (default: the packaged ``standards.yaml``).
    network : path, optional
        A street network (OSM ``.pbf`` or GraphML) to measure distances along; default the
        file in the ``PLANNING_DASHBOARD_NETWORK`` environment variable, which
        ``planning dashboard --network FILE`` sets for the server's kernels, else straight lines.

    Returns
    -------
    ipywidgets.VBox
        With stable classes for tests and styling: ``planning-dashboard``, ``planning-authority``,
        ``planning-locality``, ``planning-card-<key>`` (see :class:`Card`),
        ``planning-centre-<id>``, ``planning-postcode``, ``planning-add-site``,
        ``planning-click-mode``, ``planning-reach``, ``planning-reset``, ``planning-message``,
        ``planning-map``, ``planning-table``, ``planning-download``, ``planning-summary``,
        ``planning-notes``, ``planning-moves`` (areas changing locality),
        ``planning-area-info`` (the map's box for the area under the pointer),
        ``planning-marker-<id>`` (inside each centre's map marker), ``planning-upload-panel``.
    """
    if network is None:
        network = os.environ.get(NETWORK_VARIABLE) or None
    return DashboardApp(
        authority, centres=centres, standards=_standards(standards), network=network
    ).widget


#: The environment variable through which ``planning dashboard --network FILE`` reaches the
#: server's kernels (Voila passes no parameters to the notebook).
NETWORK_VARIABLE = "PLANNING_DASHBOARD_NETWORK"
