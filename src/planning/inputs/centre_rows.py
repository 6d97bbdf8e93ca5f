"""A centres file row by row: read as text, its columns matched, each row checked and located.

This module holds the steps :func:`planning.inputs.centres.read_centres` takes before it builds
the frame: checking the path (:func:`_check_centres_path`); reading a CSV
(:func:`_read_csv_table`, encoding and separator checked by
:func:`planning._validate.csv_encoding`) or a GeoJSON/GeoPackage layer
(:func:`_read_vector_table`) into stripped text, each row numbered as the user finds it
(:class:`_Row`: in a CSV the header is row 1 and the first centre row 2, features count from 1);
matching the header to the accepted spellings of each column (:func:`_resolve_columns`); and
checking every row: its id and name (:func:`_check_ids_and_names`), capacity
(:func:`_parse_capacity`), kind (:func:`_parse_kinds`, one of :data:`CENTRE_KINDS`), location
(:func:`_locate_rows`: the feature's point, easting/northing, latitude/longitude, or a postcode,
geocoded in one batch) and distance from the authority (:func:`_check_near_authority`). Each
check adds to one :class:`planning._validate.Problems`, so a file's problems are raised together.
"""

from __future__ import annotations

import difflib
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from planning._errors import CRSError, ValidationError
from planning._validate import (
    Problems,
    csv_encoding,
    header_key,
    match_headers,
    require_file,
    rows_label,
)
from planning.inputs.locations import (
    _check_grid,
    _check_latlon,
    _transformer,
    far_from_authority,
    lookup_postcodes,
)

__all__ = ["CENTRE_KINDS"]

#: Valid values of ``kind`` (blank is allowed too): a family hub or one of its branch sites.
CENTRE_KINDS: tuple[str, ...] = ("hub", "branch")

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
# From a table of text to checked, located cells


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
