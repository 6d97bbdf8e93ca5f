"""Offline folium pages: maps whose HTML loads no script or stylesheet from the network.

A stock :class:`folium.Map` links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs.
:class:`OfflineMap` replaces those links when the page is rendered: the vendored Leaflet 1.9.4
(``static/leaflet``, BSD-2-Clause) goes inline, its control images as ``data:`` URIs, and a few
lines stand in for the two jQuery calls folium's popups make. Bootstrap and Font Awesome serve only
``folium.Icon`` markers, never used here (centres are ``CircleMarker``); legends and captions are
plain HTML controls, not branca colormaps (which load d3 from a CDN). Only the background tiles
need the network; layers draw without them. :func:`offline_html` gives a map's standalone page and
:func:`assert_offline` checks that any page (a map, a report) loads nothing from the network.

The layers drawn on these maps are in :mod:`planning.outputs.map_layers`, the whole maps in
:mod:`planning.outputs.maps`.

Examples
--------
>>> m = OfflineMap(tiles=None)
>>> assert_offline(offline_html(m))
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

from planning._errors import ValidationError

__all__ = ["OfflineMap", "assert_offline", "offline_html"]

_LEAFLET = resources.files("planning") / "static" / "leaflet"

#: Stands in for folium's two jQuery calls: ``$(`<div>..</div>`)[0]`` (popups) and
#: ``$(document).ready(fn)`` (layers kept in front).
_JQUERY_SHIM = """<script>
window.$ = window.jQuery = window.$ || function (arg) {
  if (typeof arg === "string") {
    var t = document.createElement("template"); t.innerHTML = arg.trim();
    return Array.prototype.slice.call(t.content.childNodes);
  }
  return {ready: function (fn) { if (document.readyState !== "loading") { fn(); }
                                  else { document.addEventListener("DOMContentLoaded", fn); } }};
};
</script>"""


@lru_cache(maxsize=1)
def _leaflet_js() -> str:
    source = (_LEAFLET / "leaflet.js").read_text(encoding="utf-8")
    if "</script" in source.lower():  # would close the inline <script> early
        raise RuntimeError("vendored leaflet.js contains '</script'; it cannot be inlined")
    return f"<script>\n{source}\n</script>"


@lru_cache(maxsize=1)
def _leaflet_css() -> str:
    def inline(match: re.Match[str]) -> str:
        image = _LEAFLET / "images" / match.group(1)
        if not image.is_file():  # marker icons: only folium.Marker uses them
            return match.group(0)
        return f"url(data:image/png;base64,{base64.b64encode(image.read_bytes()).decode()})"

    css = (_LEAFLET / "leaflet.css").read_text(encoding="utf-8")
    return "<style>\n" + re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css) + "\n</style>"


class _Raw(Element):
    """Text written into the page as is (an ``Element`` template would parse it with Jinja)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


#: folium's names for its CDN assets, and what replaces each offline.
_INLINE: dict[str, Callable[[], str]] = {
    "leaflet": _leaflet_js,
    "leaflet_css": _leaflet_css,
    "jquery": lambda: _JQUERY_SHIM,
}
#: folium's other default assets serve only ``folium.Icon`` markers: dropped.
_DROPPED = {name for name, _ in folium.Map.default_js + folium.Map.default_css} - set(_INLINE)
_URL = r"(?:https?:)?//[^\"'\s>)]+"
_REMOTE = (
    re.compile(r"<script\b[^>]*?\bsrc\s*=\s*[\"']?\s*(" + _URL + ")", re.IGNORECASE),
    re.compile(r"<link\b[^>]*?\bhref\s*=\s*[\"']?\s*(" + _URL + ")", re.IGNORECASE),
    re.compile(r"@import\s+(?:url\(\s*)?[\"']?\s*(" + _URL + ")", re.IGNORECASE),
)


def _elements(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from _elements(child)


def _inline_assets(figure: Figure) -> None:
    """Replace folium's CDN links in the page header by inline content, in place."""
    if icons := sum(isinstance(e, folium.Icon) for e in _elements(figure)):
        raise ValidationError(
            f"{icons} folium.Icon marker(s) need Font Awesome and awesome-markers from CDNs, "
            "which an offline map cannot load; draw folium.CircleMarker instead"
        )
    children = figure.header._children
    for name, child in list(children.items()):
        if not isinstance(child, (JavascriptLink, CssLink)):
            continue
        if name in _INLINE:
            children[name] = _Raw(_INLINE[name]())  # same key keeps the order
        elif name in _DROPPED:
            del children[name]
        elif re.match(_URL, child.url.strip()):
            raise ValidationError(
                f"the map needs '{name}' from {child.url}, which an offline map cannot load; "
                "remove the element that adds it (folium.Icon markers, plugins and branca "
                "colormaps all load from CDNs) or use a plain folium.Map"
            )


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose page loads no script or stylesheet from the network.

    folium adds its CDN links while rendering; this class replaces them right after, so
    ``_repr_html_`` (the ``<iframe srcdoc>`` a notebook or Voila shows), ``save`` and
    :func:`offline_html` all give a standalone page. Parameters are those of ``folium.Map``.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # folium's returns None
        super().render(**kwargs)
        _inline_assets(self.get_root())  # type: ignore[arg-type]  # a Map's root is a Figure


def offline_html(m: folium.Map) -> str:
    """The full standalone HTML page of a map (an :class:`OfflineMap` or a plain folium map).

    Returns
    -------
    str
        The page, with Leaflet inline; it passes :func:`assert_offline`.
    """
    figure = m.get_root()
    if not isinstance(figure, Figure):
        raise TypeError(f"expected a folium.Map inside a branca Figure, found {type(m).__name__}")
    figure.render()  # renders every element, which is when folium adds its CDN links
    _inline_assets(figure)
    page = str(figure._template.render(this=figure, kwargs={}))  # re-assemble, no re-render
    assert_offline(page)
    return page


def assert_offline(page: str) -> None:
    """Raise if an HTML page loads a script or stylesheet from the network.

    Finds ``<script src>`` and ``<link href>`` with an ``http(s)://`` or ``//`` URL and CSS
    ``@import`` of one, also inside escaped ``<iframe srcdoc>`` content (a notebook's map output),
    unescaped up to three levels deep. Links (``<a href>``) and tile URLs in scripts are allowed.

    Raises
    ------
    ValidationError
        A ``ValueError`` listing every remote URL found.
    """
    found: list[str] = []
    for _ in range(4):
        found += [u for pattern in _REMOTE for u in pattern.findall(page) if u not in found]
        page, previous = html.unescape(page), page
        if page == previous:
            break
    if found:
        listed = "\n".join(f"  - {url}" for url in found)
        raise ValidationError(
            f"the page loads {len(found)} remote script(s) or stylesheet(s), so it will not work "
            f"offline:\n{listed}\nbuild maps with planning.outputs.maps and render with offline_html()"
        )
