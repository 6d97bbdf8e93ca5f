"""Checks on input frames, collected so that every problem is reported at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from planning._errors import CRSError, ValidationError


class Problems:
    """Collect problems about one input, then raise a single :class:`ValidationError`.

    Parameters
    ----------
    source : str
        What the input is called in messages, e.g. ``"centres.csv"`` or ``"areas"``.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.messages: list[str] = []

    def add(self, message: str) -> None:
        self.messages.append(message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def raise_if_any(self, error: type[ValidationError] = ValidationError) -> None:
        if not self.messages:
            return
        if len(self.messages) == 1:
            raise error(f"{self.source}: {self.messages[0]}")
        lines = "\n".join(f"  - {m}" for m in self.messages)
        raise error(f"{self.source}: {len(self.messages)} problems:\n{lines}")


def rows_label(index: Iterable[object], limit: int = 5) -> str:
    """'rows 3, 7 and 9' style label for messages (1-based file rows are the caller's job)."""
    items = [str(i) for i in index]
    shown = items[:limit]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    if len(shown) == 1:
        return shown[0] + more
    return ", ".join(shown[:-1]) + (f", {shown[-1]}" if more else f" and {shown[-1]}") + more


def require_columns(
    frame: pd.DataFrame, columns: Sequence[str], problems: Problems, *, hint: str = ""
) -> bool:
    """Add a problem for each missing column, suggesting a near match; True when all present."""
    import difflib

    missing = [c for c in columns if c not in frame.columns]
    for column in missing:
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
        found = f" (found '{close[0]}': rename it to '{column}')" if close else ""
        problems.add(f"missing column '{column}'{found}{hint}")
    return not missing


def check_counts(frame: pd.DataFrame, columns: Sequence[str], problems: Problems) -> None:
    """Counts must be numeric, finite and non-negative."""
    for column in columns:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad_type = values.isna() & frame[column].notna()
        if bad_type.any():
            problems.add(
                f"column '{column}' has non-numeric values in rows "
                f"{rows_label(frame.index[bad_type])}; give a number"
            )
        missing = frame[column].isna()
        if missing.any():
            problems.add(
                f"column '{column}' is empty in rows {rows_label(frame.index[missing])}; "
                "fill it (use 0 only if the true count is zero)"
            )
        negative = values < 0
        if negative.any():
            problems.add(
                f"column '{column}' has negative values in rows "
                f"{rows_label(frame.index[negative])}; counts cannot be negative"
            )
        infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if infinite.any():
            problems.add(
                f"column '{column}' has infinite values in rows "
                f"{rows_label(frame.index[infinite])}"
            )


def require_projected(frame: object, source: str) -> None:
    """Raise :class:`CRSError` unless the frame is in a projected CRS with metre units."""
    crs = getattr(frame, "crs", None)
    if crs is None:
        raise CRSError(
            f"{source}: no coordinate reference system is set; set it with "
            "`.set_crs(...)` and project to EPSG:27700 with `.to_crs('EPSG:27700')`"
        )
    if crs.is_geographic:
        raise CRSError(
            f"{source}: CRS {crs.to_string()} is geographic (degrees), so distances would be "
            "wrong; project it first with `.to_crs('EPSG:27700')`"
        )
    unit = crs.axis_info[0].unit_name if crs.axis_info else "metre"
    if unit not in ("metre", "meter"):
        raise CRSError(f"{source}: CRS {crs.to_string()} is in {unit}; use metres (EPSG:27700)")


def require_unique_index(frame: pd.DataFrame, what: str, problems: Problems) -> None:
    duplicated = frame.index[frame.index.duplicated()].unique()
    if len(duplicated):
        problems.add(f"duplicate {what} {rows_label(duplicated)}; each must appear once")


def require_non_empty(frame: pd.DataFrame, source: str, what: str) -> None:
    if len(frame) == 0:
        raise ValidationError(f"{source}: is empty; it must hold at least one {what}")


def header_key(column: object) -> str:
    """A column header as matched against known names: stripped, lower case, spaces and
    hyphens as underscores (so 'Centre ID' and 'centre-id' both match 'centre_id')."""
    import re

    return re.sub(r"[\s\-]+", "_", str(column).strip().lower())


def match_headers(headers: Sequence[object], aliases: dict[str, Sequence[str]]) -> dict[str, str]:
    """Map each canonical column name to the file's header that matches one of its aliases.

    ``aliases`` maps a canonical name to accepted spellings (already in :func:`header_key`
    form), in order of preference; canonical names with no matching header are left out.
    """
    keys = {header_key(h): str(h) for h in headers}
    found: dict[str, str] = {}
    for canonical, spellings in aliases.items():
        for spelling in spellings:
            if spelling in keys:
                found[canonical] = keys[spelling]
                break
    return found
