"""Writing CSV that a spreadsheet cannot run: every CSV the workbench writes goes through
:func:`write_csv`, which neutralises text cells a spreadsheet would read as formulas (OWASP "CSV
Injection") by prefixing them with a single quote; :func:`_unneutralise` undoes it on read.

Reading and writing centres files is in :mod:`planning.inputs.centres`; postcodes and locating
points in :mod:`planning.inputs.locations`.
"""

from __future__ import annotations

import os
import re

import pandas as pd

__all__ = ["safe_csv_frame", "write_csv"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with a single quote.

    OWASP's CSV-injection advice: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or
    carriage return is a formula to Excel and LibreOffice (``=HYPERLINK(...)`` can send data
    away when clicked); a leading ``'`` makes it text and shows the value as typed. Numbers
    written as text (``-1.5``) are left alone.
    """
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_STARTS)
        and not _PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value


def _unneutralise_text(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_STARTS:
        return value[1:]
    return value


def _unneutralise(column: pd.Series) -> pd.Series:
    """Undo :func:`_neutralise` on read, so that write then read gives the names back."""
    return column.map(_unneutralise_text)


def _neutralise_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_neutralise_index(level) for level in index.levels])
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        return pd.Index([_neutralise(v) for v in index], name=index.name, dtype=index.dtype)
    return index


def safe_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet: every text cell, index label and
    column header that would run as a formula is prefixed with ``'`` (see OWASP "CSV
    Injection"). Numeric, boolean and geometry columns are untouched; ``frame`` is not changed.

    Examples
    --------
    >>> safe_csv_frame(pd.DataFrame({"name": ["=1+1", "Hub", "-2"]}))["name"].tolist()
    ["'=1+1", 'Hub', '-2']
    """
    safe = frame.copy()
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            safe.isetitem(position, column.cat.rename_categories(_neutralise))
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            safe.isetitem(position, column.map(_neutralise, na_action="ignore"))
    safe.index = _neutralise_index(safe.index)
    safe.columns = _neutralise_index(safe.columns)
    return safe


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], **options: object) -> None:
    """``frame.to_csv(path, **options)`` with formula-like text neutralised by
    :func:`safe_csv_frame`: the one way the workbench writes a CSV."""
    safe_csv_frame(frame).to_csv(path, **options)
