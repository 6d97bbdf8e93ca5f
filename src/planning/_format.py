"""How figures are written for people: the one set of precision rules shared by the report, the
dashboard, the notebook views, what changed, the consultation pack and the maps.

Rules
-----
- **Shares** (0-1) are per cent with one decimal place in figures and tables (``93.9%``), so a
  change of a tenth of a point between two reports or two scenarios is visible; sentences that
  state a verdict's reason round to whole per cent (:func:`whole_share`), as the standards do.
- **Counts** are whole numbers with thousands separators (``15,795``).
- **Distances** are kilometres with two decimal places when measured (``1.23 km``, the 10 m
  that separates two reports shows) and as written in the standards file when they are a
  standard (``2.5 km``); miles use the statute mile (1,609.344 m).
- **Times** are minutes as written in the standards file (``15 minutes``).
- A missing value (``None``, NaN, infinite) is ``n/a`` unless the caller names another text.

Slugs for file and CSS names come from :func:`slug`.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = [
    "MISSING",
    "SHARE_DIGITS",
    "count",
    "km",
    "miles",
    "minutes",
    "number",
    "ratio",
    "share",
    "signed",
    "slug",
    "standard_km",
    "whole_share",
]

#: Text for a missing figure.
MISSING = "n/a"
#: Decimal places of a share shown as a figure.
SHARE_DIGITS = 1
#: Metres in a statute mile.
METRES_PER_MILE = 1609.344


def _finite(value: Any) -> float | None:
    """``value`` as a float, or ``None`` when it is missing, not a number or infinite."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def number(value: Any, digits: int = 0, unit: str = "", *, missing: str = MISSING) -> str:
    """A number with thousands separators, ``digits`` decimal places and an optional unit.

    Examples
    --------
    >>> number(1234.5, 1, " m")
    '1,234.5 m'
    >>> number(float("nan"), missing="no data")
    'no data'
    """
    finite = _finite(value)
    return missing if finite is None else f"{finite:,.{digits}f}{unit}"


def count(value: Any, *, missing: str = MISSING) -> str:
    """A count: whole, with thousands separators.

    Examples
    --------
    >>> count(15795.4)
    '15,795'
    >>> count(None)
    'n/a'
    """
    return number(value, 0, missing=missing)


def share(value: Any, digits: int = SHARE_DIGITS, *, missing: str = MISSING) -> str:
    """A share (0-1) as per cent: one decimal place for figures, ``digits=0`` in sentences.

    Examples
    --------
    >>> share(0.97589)
    '97.6%'
    >>> share(0.6, digits=0)
    '60%'
    >>> share(float("nan"))
    'n/a'
    """
    finite = _finite(value)
    return missing if finite is None else f"{100 * finite:.{digits}f}%"


def whole_share(value: Any, *, missing: str = MISSING) -> str:
    """A share (0-1) in a sentence (a verdict's reason, a summary): whole per cent.

    Examples
    --------
    >>> whole_share(0.896)
    '90%'
    """
    return share(value, 0, missing=missing)


def ratio(value: Any, digits: int = 2, *, missing: str = MISSING) -> str:
    """A ratio such as centres per 1,000 under-5s, two decimal places.

    Examples
    --------
    >>> ratio(0.8333)
    '0.83'
    """
    finite = _finite(value)
    return missing if finite is None else f"{finite:.{digits}f}"


def signed(value: Any, kind: str = "count", *, missing: str = MISSING) -> str:
    """A difference with its sign: shares in percentage points (one decimal), counts whole
    (two decimals when below one, so a small ratio change is not shown as ``+0``).

    Examples
    --------
    >>> signed(0.0123, "share")
    '+1.2 points'
    >>> signed(-1500)
    '-1,500'
    >>> signed(0.25, "ratio")
    '+0.25'
    """
    finite = _finite(value)
    if finite is None:
        return missing
    if kind == "share":
        return f"{100 * finite:+.{SHARE_DIGITS}f} points"
    return f"{finite:+,.0f}" if abs(finite) >= 1 or finite == 0 else f"{finite:+.2f}"


def km(metres: Any, digits: int = 2, *, unit: bool = True, missing: str = MISSING) -> str:
    """A measured distance given in metres, in kilometres.

    Examples
    --------
    >>> km(1234)
    '1.23 km'
    >>> km(1234, 1, unit=False)
    '1.2'
    """
    finite = _finite(metres)
    if finite is None:
        return missing
    return f"{finite / 1000:.{digits}f}" + (" km" if unit else "")


def miles(metres: Any, digits: int = 1, *, missing: str = MISSING) -> str:
    """A measured distance given in metres, in statute miles.

    Examples
    --------
    >>> miles(1609.344)
    '1.0 miles'
    """
    finite = _finite(metres)
    return missing if finite is None else f"{finite / METRES_PER_MILE:.{digits}f} miles"


def standard_km(value_km: Any) -> str:
    """A distance standard in kilometres, written as in the standards file.

    Examples
    --------
    >>> standard_km(2.5)
    '2.5 km'
    >>> standard_km(2.0)
    '2 km'
    """
    return f"{float(value_km):g} km"


def minutes(value: Any) -> str:
    """A time standard in minutes, written as in the standards file.

    Examples
    --------
    >>> minutes(15.0)
    '15 minutes'
    >>> minutes(1)
    '1 minute'
    """
    number = float(value)
    return f"{number:g} minute" + ("" if number == 1 else "s")


def slug(text: Any, separator: str = "-", *, empty: str = "") -> str:
    """Lower-case ASCII letters and digits joined by ``separator``, for file and CSS names.

    Examples
    --------
    >>> slug("Derby City (E06000015)")
    'derby-city-e06000015'
    >>> slug("North East Lincolnshire", "_")
    'north_east_lincolnshire'
    >>> slug("<>", empty="x")
    'x'
    """
    return re.sub(r"[^a-z0-9]+", separator, str(text).lower()).strip(separator) or empty
