"""Notebook views: blocks and tables that look in a notebook as they do in the report.

A notebook output is shown in JupyterLab, in nbconvert HTML and in Voila, none of which loads
the report template's stylesheet. So every view wraps its HTML in ``<div class="planning-view">``
with the stylesheet ``planning/static/planning_views.css`` inline (every rule scoped to that
class, no external URL): cards, verdict badges, notices and tables look the same everywhere,
and a notebook exported to HTML carries its own look.

Tables are formatted for people by :func:`table`: counts with thousands separators, shares as
per cent, distances in kilometres, verdicts coloured, lists of reasons in full, missing values
as ``n/a``; never a raw float, list, dict or ``NaN`` (the rules of :mod:`planning._format`).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"under5": [15795.0], "share_within_reach": [0.4528]}, index=["Derby"])
>>> html = str(table(frame, labels={"under5": "Under-5s"}))
>>> "15,795" in html and "45.3%" in html and "0.4528" not in html
True
>>> reasons = pd.DataFrame({"rag": ["Red"], "reasons": [["Red: far above", "Green: near"]]})
>>> html = str(table(reasons, {"rag": "verdict", "reasons": "reasons"}))
>>> '<td class="verdict rag-Red">Red</td>' in html and "<li>Green: near</li>" in html
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from planning import settings
from planning._errors import ValidationError
from planning._format import MISSING, count, km, number, ratio, share, signed
from planning._html import Markup, render

__all__ = ["FORMATS", "VIEW_CLASS", "table", "view", "view_css"]

#: The class of the wrapper every view's stylesheet is scoped to.
VIEW_CLASS = "planning-view"


@cache
def view_css() -> str:
    """The views' stylesheet (``planning/static/planning_views.css``), every rule scoped to
    :data:`VIEW_CLASS`."""
    return settings.package_path("static", "planning_views.css").read_text(encoding="utf-8")


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)


def _fragment(block: Any) -> Markup:
    """One block's HTML: markup as it is, a frame as a :func:`table`, a display object's HTML,
    anything else as escaped text."""
    if isinstance(block, Markup):
        return block
    if isinstance(block, pd.DataFrame):
        return table(block)
    if hasattr(block, "_repr_html_") and not isinstance(block, str):
        # IPython HTML blocks (the report's, from its autoescaped templates), Stylers
        shown = block._repr_html_()
        # An HTML block given metadata (the report's title block) returns (html, metadata).
        if isinstance(shown, tuple):
            shown = shown[0]
        return Markup(shown or "")
    return Markup("<p>{}</p>").format(str(block))


def view(*blocks: Any) -> Any:
    """Blocks of HTML shown as one notebook output, with the views' stylesheet inline.

    Parameters
    ----------
    *blocks
        ``IPython.display.HTML`` blocks (those of :mod:`planning.outputs.report`), markup,
        DataFrames (shown with :func:`table`) or text (escaped).

    Returns
    -------
    IPython.display.HTML
        ``<div class="planning-view"><style>…</style>…</div>``.
    """
    body = Markup("\n").join(_fragment(block) for block in blocks)
    return _html(
        render("notebook_view.html.j2", classes=VIEW_CLASS, css=Markup(view_css()), body=body)
    )


# ------------------------------------------------------------------------------ tables


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and not math.isfinite(float(value))


def _text(value: Any) -> str:
    return str(value)


def _yes_no(value: Any) -> str:
    return "yes" if bool(value) else "no"


def _mapping(value: Any) -> str:
    return "; ".join(f"{key}: {_plain(item)}" for key, item in dict(value).items())


def _plain(value: Any) -> str:
    """A value of an untyped column, written for people."""
    if isinstance(value, bool | np.bool_):
        return _yes_no(value)
    if isinstance(value, int | np.integer):
        return count(value)
    if isinstance(value, float | np.floating):
        return count(value) if float(value).is_integer() else number(value, 1)
    if isinstance(value, Mapping):
        return _mapping(value)
    if isinstance(value, list | tuple | set):
        return "; ".join(_plain(item) for item in value)
    return str(value)


#: The formats a column can be given (name -> function of one value), and whether the column
#: is numeric (right-aligned). ``share`` is a fraction (0.453 -> 45.3%), ``percent`` a value
#: already in per cent (45.3 -> 45.3%), ``km`` metres shown in kilometres, ``km1`` with one
#: decimal, ``figure`` text already written as a figure, ``signed_share`` a difference of shares in percentage points.
FORMATS: dict[str, tuple[Callable[[Any], str], bool]] = {
    "count": (count, True),
    "share": (share, True),
    "percent": (lambda v: number(v, 1, "%"), True),
    "number": (lambda v: number(v, 1), True),
    "number2": (lambda v: number(v, 2), True),
    "ratio": (ratio, True),
    "km": (lambda v: km(v, 2), True),
    "km1": (lambda v: km(v, 1), True),
    "signed": (signed, True),
    "signed_share": (lambda v: signed(v, "share"), True),
    "text": (_text, False),
    "figure": (_text, True),
    "yesno": (_yes_no, False),
    "verdict": (_text, False),
    "reasons": (_plain, False),
    "auto": (_plain, False),
}


def _kind(values: pd.Series) -> str:
    """The format of a column not given one, from its name (the package's ``share_*`` and
    ``*_pct`` columns) and its values."""
    name = str(values.name)
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and name.endswith("_pct"):
        return "percent"
    if numeric and name.startswith("share"):
        return "share"
    if pd.api.types.is_bool_dtype(values):
        return "yesno"
    if pd.api.types.is_integer_dtype(values):
        return "count"
    if pd.api.types.is_float_dtype(values):
        finite = values[np.isfinite(values.to_numpy(dtype=float))]
        return "count" if bool((finite == finite.round()).all()) else "number"
    return "auto"


@dataclass(frozen=True)
class _Cell:
    text: str
    css: str
    items: list[str] | None = None


def _cell(value: Any, kind: str, missing: str) -> _Cell:
    write, numeric = FORMATS[kind]
    css = "num" if numeric else "text"
    if isinstance(value, list | tuple) and kind == "reasons":
        return _Cell("", "reasons", [_plain(item) for item in value])
    if isinstance(value, list | tuple | set | Mapping):
        return _Cell(_plain(value), "text")
    if _missing(value):
        return _Cell(missing, css)
    if kind == "verdict":
        return _Cell(str(value), f"verdict rag-{value}")
    return _Cell(write(value), "reasons" if kind == "reasons" else css)


def table(
    frame: pd.DataFrame,
    formats: Mapping[str, str] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    index: str | None = None,
    empty: str = "None.",
    caption: str | None = None,
    missing: str = MISSING,
) -> Markup:
    """A DataFrame as an HTML table for people: every cell formatted, one header row.

    Parameters
    ----------
    frame : DataFrame
        The figures. Its index becomes the first column (labelled ``index``, else the index
        name) unless it is a plain range.
    formats : mapping, optional
        Column -> a key of :data:`FORMATS`. A column not given one is formatted from its name
        and values: ``share*`` columns as per cent of a fraction, ``*_pct`` as per cent, whole
        numbers as counts (``15,795``), other numbers with one decimal, booleans as yes/no,
        lists as their items joined with ``; `` and mappings as ``key: value``.
    labels : mapping, optional
        Column -> its heading; default the column name with spaces for underscores.
    index : str, optional
        Heading of the index column.
    empty : str
        The sentence shown instead of a table with no rows.
    caption : str, optional
        A sentence shown above the table.
    missing : str
        Text for a missing value (``None``, ``NaN``).

    Returns
    -------
    markupsafe.Markup
        ``<table class="planning">`` (every text escaped), or ``<p class="empty">`` when empty.
    """
    formats = dict(formats or {})
    labels = dict(labels or {})
    if frame.empty:
        return Markup('<p class="empty">{}</p>').format(empty)
    shown = frame
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name or index:
        name = index or frame.index.name or ""
        shown = frame.reset_index(names=["__index__"])
        labels.setdefault("__index__", str(name))
        formats.setdefault("__index__", "text")
    unknown = set(formats.values()) - set(FORMATS)
    if unknown:
        raise ValidationError(
            f"table formats: unknown format(s) {', '.join(sorted(unknown))}; "
            f"use one of {', '.join(FORMATS)}"
        )
    kinds = {column: formats.get(column) or _kind(shown[column]) for column in shown.columns}
    columns = [
        {
            "label": labels.get(column, str(column).replace("_", " ")),
            "css": "num" if FORMATS[kinds[column]][1] else "text",
        }
        for column in shown.columns
    ]
    rows = [
        [
            _cell(value, kinds[column], missing)
            for column, value in zip(shown.columns, record, strict=True)
        ]
        for record in shown.itertuples(index=False, name=None)
    ]
    return render("notebook_table.html.j2", columns=columns, rows=rows, caption=caption)
