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
import tempfile
import time
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
    default_centres,
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


def _zoom_for(west: float, south: float, east: float, north: float) -> int:
    """The largest web-map zoom at which the box fits a map about 760 x 500 pixels."""

    def mercator(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    zoom_x = math.log2(760 * 360 / (256 * max(east - west, 1e-6)))
    zoom_y = math.log2(500 * 2 * math.pi / (256 * max(mercator(north) - mercator(south), 1e-9)))
    return int(max(3, min(16, math.floor(min(zoom_x, zoom_y)))))


class DashboardMap:
    """The ipyleaflet map: need shading, areas beyond reach, reach rings, centres and sites."""

    def __init__(self, board: Dashboard, *, on_click: Callable[[float, float], None]) -> None:
        self.board = board
        self._on_click = on_click
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
        self._markers: dict[str, tuple[ipyleaflet.CircleMarker, ipyleaflet.Circle]] = {}
        (lat, lon), zoom = self.home
        self.widget = ipyleaflet.Map(
            center=(lat, lon),
            zoom=zoom,
            scroll_wheel_zoom=True,
            layout=w.Layout(height="520px", width="100%"),
        )
        self.widget.add_class("planning-map")
        for layer in (self.need, self.gaps, self.locality, self.rings, self.centres):
            self.widget.add(layer)
        self.widget.add(ipyleaflet.LayersControl(position="topright"))
        self.legend = _html(legend_html(), "planning-legend planning-small")
        self.widget.on_interaction(self._interaction)

    def _collection(self, codes: Sequence[str]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": [self._features[c] for c in codes]}

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
                self._markers[centre_id] = (
                    ipyleaflet.CircleMarker(location=location, weight=2, fill_opacity=0.9,
                                            name=str(row["name"])),
                    ipyleaflet.Circle(location=location, weight=1, fill_opacity=0.04,
                                      color="#2166ac", dash_array="4 4"),
                )  # fmt: skip
            marker, ring = self._markers[centre_id]
            colour = KIND_COLOURS.get(row["kind"], KIND_COLOURS[""])
            marker.radius = 9 if row["kind"] == "hub" else 7
            marker.color = "#ffffff" if row["open"] else CLOSED_COLOUR
            marker.fill_color = colour if row["open"] else "#ffffff"
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
        self.map = DashboardMap(board, on_click=self._on_map_click)
        self.toggles: dict[str, w.Checkbox] = {}
        self.centre_box = w.VBox().add_class("planning-centres")
        self._sync_toggles()
        self.postcode, self.add_button = self._postcode_controls()
        self.click_mode = w.ToggleButton(
            value=False,
            description="Add a site by clicking the map",
            layout=w.Layout(width="auto"),
        ).add_class("planning-click-mode")
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
        self.table = _html(css="planning-table")
        self.download = _html(css="planning-download")
        self.status = _html(css="planning-status planning-small")
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
                    "<div class='planning-small'>Untick a centre to switch it "
                    "off; add a site by postcode or on the map.</div>"
                ),
                self.centre_box,
                w.HBox([self.postcode, self.add_button]),
                self.click_mode,
                self.reach,
                self.reset_button,
                self.message,
                self.service_reach.widget,
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
                w.HBox(
                    [
                        w.VBox(
                            [self.map.widget, self.map.legend], layout=w.Layout(flex="1 1 auto")
                        ),
                        self._controls(),
                    ],
                    layout=w.Layout(width="100%"),
                ).add_class("planning-main"),
                _html(
                    "<h3>Localities: verdict and reasons</h3><div class='planning-small'>"
                    "The reasons that set each verdict; the CSV has every rule.</div>"
                ),
                self.table,
                self.download,
                _html(self._footer(), "planning-small"),
                self.status,
            ]
        )

    def _footer(self) -> str:
        from planning.inputs.areas import ATTRIBUTION

        return render("dashboard_footer.html.j2", s=self.board.standards, attribution=ATTRIBUTION)

    # ------------------------------------------------------------------ actions

    def _act(self, action: Callable[..., str | None], *args: Any) -> None:
        """Run one viewer action; show its message, or the reason it was refused."""
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
        self._say(said or "")
        self.refresh()

    def _say(self, text: str, *, error: bool = False) -> None:
        css = "planning-message-error" if error else "planning-message-ok"
        self.message.value = _text(text, "div", css, alert=error) if text else ""

    def _on_toggle(self, centre_id: str, change: dict[str, Any]) -> None:
        if not self._syncing:
            self._act(self._toggle, centre_id, change["new"])

    def _toggle(self, centre_id: str, value: Any) -> str:
        name = self.board.centre_name(centre_id)
        self.board.set_open(centre_id, value)
        self._sync_toggles()
        return f"{name} switched {'on' if value else 'off'}."

    def _add_postcode(self) -> str:
        site = self.board.add_site(postcode=self.postcode.value)
        self._sync_toggles()
        return f"Added {site.name}."

    def _on_map_click(self, latitude: Any, longitude: Any) -> None:
        if self.click_mode.value:
            self._act(self._add_point, latitude, longitude)

    def _add_point(self, latitude: Any, longitude: Any) -> str:
        site = self.board.add_site(latitude=latitude, longitude=longitude)
        self._sync_toggles()
        self.click_mode.value = False
        return f"Added {site.name}."

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
        """Show the current change: cards, summary, map, table, download link."""
        started = time.perf_counter()
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
        for card in board.cards(locality):
            self.cards[card.key].value = card_html(card)
        self.service_reach.refresh()
        elapsed = 1000 * (time.perf_counter() - started)
        self.status.value = f"Updated in {elapsed:.0f} ms."


class DashboardApp:
    """The page: an authority chooser above the dashboard of the chosen authority."""

    def __init__(
        self,
        authority: str = settings.DEFAULT_AUTHORITY,
        *,
        centres: str | Path | None = None,
        standards: Standards | None = None,
    ) -> None:
        from planning.inputs.areas import list_authorities, resolve_authority

        self.standards = standards
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
        from planning.inputs.areas import resolve_authority

        code, name = resolve_authority(code)
        if centres is None and default_centres(code) is None:
            self._show(self._centres_needed(code, name))
            return
        self._show(_html(_text(f"Loading {name}…", "p"), "planning-loading"))
        try:
            board = Dashboard.for_authority(code, centres=centres, standards=self.standards)
        except ValidationError as exc:
            text = str(exc)
            if label is not None and centres is not None:
                # Name the viewer's file, not the private temporary copy.
                text = text.replace(str(centres), label)
                if text.startswith(Path(centres).name + ":"):
                    text = label + text[len(Path(centres).name) :]
            self._show(self._centres_needed(code, name, error=text))
            return
        self.view = DashboardView(board)
        self._show(self.view.widget)

    def _show(self, widget: w.Widget) -> None:
        """Put ``widget`` on the page and close what it replaces."""
        old = self.body.children
        self.body.children = [widget]
        for replaced in old:
            if replaced is not widget:
                _close(replaced)

    def _centres_needed(self, code: str, name: str, *, error: str = "") -> w.Widget:
        """Ask for a centres file: the workbench ships centres only for Derby."""
        upload = w.FileUpload(
            accept=",".join(UPLOAD_SUFFIXES), multiple=False, description="Upload centres"
        ).add_class("planning-centres-upload")
        message = _html(
            _text(error, "div", "planning-message-error", alert=True) if error else "",
            "planning-message",
        )
        upload.observe(partial(self._on_upload, code, message), names="value")
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
) -> Any:
    """The councillors' dashboard as one ipywidgets widget (what Voila serves).

    Parameters
    ----------
    authority : str
        Upper-tier authority code or name to open with (default Derby). A dropdown on the page
        switches authority; those without a packaged centres file ask for one.
    centres : path, optional
        Centres file for ``authority`` (default: Derby's illustrative sites).
    standards : path or Standards, optional
        Standards YAML (default: the packaged ``standards.yaml``).

    Returns
    -------
    ipywidgets.VBox
        With stable classes for tests and styling: ``planning-dashboard``, ``planning-authority``,
        ``planning-locality``, ``planning-card-<key>`` (see :class:`Card`),
        ``planning-centre-<id>``, ``planning-postcode``, ``planning-add-site``,
        ``planning-click-mode``, ``planning-reach``, ``planning-reset``, ``planning-message``,
        ``planning-map``, ``planning-table``, ``planning-download``, ``planning-summary``,
        ``planning-notes``, ``planning-status``.
    """
    return DashboardApp(authority, centres=centres, standards=_standards(standards)).widget
