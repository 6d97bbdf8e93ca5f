"""The one way the package writes HTML: Jinja2 templates under ``planning/templates/html``,
rendered with autoescaping on, so every text from an input file, a manifest or a viewer is
escaped by the template engine and never by hand.

Templates receive raw values (names, reasons, numbers); a fragment rendered here is
:class:`markupsafe.Markup`, so it can be passed into another template without being escaped
twice. The figure filters (``share``, ``count``, ``km``, ``signed``, ``ratio``, ``slug``) are the
ones of :mod:`planning._format`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2
from markupsafe import Markup

from planning import _format

__all__ = ["Markup", "environment", "render"]


@cache
def environment() -> jinja2.Environment:
    """The package's Jinja2 environment: autoescape on for every template, undefined names an
    error (a misspelt variable fails the test instead of printing nothing)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("planning", "templates/html"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        share=_format.share,
        whole_share=_format.whole_share,
        count=_format.count,
        number=_format.number,
        km=_format.km,
        standard_km=_format.standard_km,
        signed=_format.signed,
        ratio=_format.ratio,
        slug=_format.slug,
    )
    return env


def render(template: str, /, **context: Any) -> Markup:
    """Render ``templates/html/<template>`` with ``context``; the result is safe markup.

    Examples
    --------
    >>> str(render("rag_badge.html.j2", rag="<b>Red</b>", classes="rag"))
    '<span class="rag">&lt;b&gt;Red&lt;/b&gt;</span>'
    """
    return Markup(environment().get_template(template).render(**context))
