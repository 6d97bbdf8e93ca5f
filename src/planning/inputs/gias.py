"""Children's centres from the DfE register: a "Get Information about Schools" (GIAS) extract.

GIAS (https://get-information-schools.service.gov.uk) lists children's centres as two
establishment types: "Children's centre" (type code 47), the registered centre, and
"Children's centre linked site" (48), a site that delivers its services elsewhere. The
"all establishment data" download (``edubasealldata<YYYYMMDD>.csv``) is a CSV in Windows-1252
with one row per establishment of every type and, among some 130 columns::

    URN, LA (code), LA (name), EstablishmentName, TypeOfEstablishment (name),
    EstablishmentStatus (name), Postcode, Easting, Northing

:func:`import_gias` turns such an extract into a centres frame in the workbench's format (the one
:func:`planning.inputs.centres.read_centres` returns and :func:`planning.inputs.centres.write_centres` writes), keeping
the register's URN as ``centre_id``, and says what it dropped and why. Many register records are
out of date since Ofsted stopped inspecting centres, so the dropped table matters as much as the
kept one.

Choices made here, each visible in the result:

* **Status.** "Open" and "Open, but proposed to close" are kept by default: a centre proposed to
  close still serves families today, and a planner assessing a closure needs it in the baseline.
  Those rows are flagged in ``source`` ("...; open, but proposed to close") and counted in the
  summary. "Closed" and "Proposed to open" are dropped. ``statuses=`` changes the set.
* **Kind.** A linked site becomes ``kind="branch"``. A registered children's centre gets a blank
  ``kind``: the register does not record which centres are family hubs, and ``hub`` is drawn as
  "Family hub" on every map, so it is left to the council to set.
* **Authority.** GIAS ``LA (code)`` is the DfE's three-digit local authority number (Derby 831,
  Thurrock 883), not the ONS code the workbench uses, and no lookup between the two ships with the
  workbench. An authority given by ONS code or name (:func:`planning.inputs.areas.resolve_authority`)
  is therefore matched on ``LA (name)``, compared after :func:`la_name_key` (case, punctuation,
  "&"/"and", "City of"/"County of" ignored); a three-digit number is matched on ``LA (code)``.
* **Location.** ``Easting``/``Northing`` (British National Grid metres) when given; otherwise the
  postcode, geocoded offline with :func:`planning.inputs.centres.lookup_postcodes`; otherwise dropped.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planning import settings
from planning._errors import CRSError, ValidationError
from planning._validate import Problems, header_key, text_encoding
from planning.inputs.locations import ENGLAND_EASTING, ENGLAND_NORTHING

__all__ = [
    "CENTRE_TYPES",
    "DEFAULT_STATUSES",
    "DROP_REASONS",
    "GIAS_COLUMNS",
    "GIAS_STATUSES",
    "GiasImport",
    "import_gias",
    "is_gias_extract",
    "la_name_key",
]

#: The extract's columns that the import reads, by the role each plays.
GIAS_COLUMNS: dict[str, str] = {
    "urn": "URN",
    "la_code": "LA (code)",
    "la_name": "LA (name)",
    "name": "EstablishmentName",
    "type": "TypeOfEstablishment (name)",
    "status": "EstablishmentStatus (name)",
    "postcode": "Postcode",
    "easting": "Easting",
    "northing": "Northing",
}
#: Read when present: the type code identifies a centre even if its name is spelt differently.
_OPTIONAL_COLUMNS: dict[str, str] = {"type_code": "TypeOfEstablishment (code)"}

#: GIAS establishment types that are children's centres: code -> name.
CENTRE_TYPES: dict[str, str] = {"47": "Children's centre", "48": "Children's centre linked site"}
_LINKED_SITE = "48"

#: The establishment statuses GIAS uses, by status code.
GIAS_STATUSES: dict[str, str] = {
    "1": "Open",
    "2": "Closed",
    "3": "Open, but proposed to close",
    "4": "Proposed to open",
}
#: Statuses kept by default: every centre open today, including those proposed to close.
DEFAULT_STATUSES: tuple[str, ...] = ("Open", "Open, but proposed to close")
_PROPOSED_TO_CLOSE = "Open, but proposed to close"
_PROPOSED_FLAG = "; " + _PROPOSED_TO_CLOSE.lower()  # appended to such a centre's source

#: Why a row was dropped, in the order the checks are made (a row gets the first that applies).
DROP_REASONS: tuple[str, ...] = (
    "blank URN",
    "in another authority",
    "not a children's centre",
    "status not kept",
    "no easting/northing or postcode",
    "easting/northing not in England",
    "postcode not found",
    "postcode look-up unavailable",
    "outside the given area",
    "duplicate URN",
)

# planning.inputs.centres.lookup_postcodes statuses, as the dropped table explains them.
_LOOKUP_STATUS = {
    "invalid": "not shaped like a UK postcode",
    "unknown": "not in the ONS Postcode Directory",
    "no_grid_reference": "in the ONS Postcode Directory without a grid reference",
}
_LISTED = 20  # dropped centres named one by one in the summary
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_EXTRACT_HINT = (
    "give the GIAS 'all establishment data' extract (edubasealldata<date>.csv) with its header "
    "row as downloaded"
)


# --------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class GiasImport:
    """What :func:`import_gias` kept and dropped.

    Attributes
    ----------
    centres : geopandas.GeoDataFrame
        Indexed by ``centre_id`` (the URN, as text), Point geometry in EPSG:27700, the columns
        of :data:`planning.inputs.centres.CENTRES_COLUMNS` (``capacity`` unknown, ``in_authority`` NA).
    dropped : pandas.DataFrame
        One row per establishment not kept: ``row`` (the file row, header = 1), ``urn``,
        ``name``, ``la_name``, ``type``, ``status``, ``reason`` (one of :data:`DROP_REASONS`) and
        ``detail`` (the value behind the reason, e.g. the status or the postcode).
    file : str
        The extract's file name.
    encoding : str
        How the file was decoded: ``"Windows-1252"``, ``"UTF-8"`` or ``"UTF-16"``.
    extract_date : datetime.date or None
        The extract's date, given or read from the file name (``edubasealldata20250117.csv``).
    statuses : tuple of str
        The establishment statuses kept.
    authorities : tuple of str
        The authorities kept, e.g. ``"Derby (E06000015; DfE LA 831)"``; empty for all England.
    rows_read : int
        Establishments in the file.
    proposed_to_close : tuple of str
        Ids of the kept centres whose status is "Open, but proposed to close".
    """

    centres: gpd.GeoDataFrame
    dropped: pd.DataFrame
    file: str
    encoding: str
    extract_date: dt.date | None
    statuses: tuple[str, ...]
    authorities: tuple[str, ...]
    rows_read: int
    proposed_to_close: tuple[str, ...] = ()

    def dropped_counts(self) -> pd.Series:
        """Rows dropped per reason (only reasons that occur), in the order of the checks."""
        counts = self.dropped["reason"].value_counts()
        order = [r for r in DROP_REASONS if r in counts.index]
        return counts.reindex(order).astype(int).rename("rows")

    def dropped_centres(self) -> pd.DataFrame:
        """The dropped rows that are children's centres of the authorities asked for: closed,
        not located, duplicated (rows of other authorities or types, or outside ``within``,
        are left out)."""
        wider = {"blank URN", "in another authority", "not a children's centre",
                 "outside the given area"}  # fmt: skip
        return self.dropped[~self.dropped["reason"].isin(wider)]

    def summary_lines(self) -> list[str]:
        """Plain-language lines: what was read, kept, flagged and dropped, and why."""
        dated = f", extract of {self.extract_date.isoformat()}" if self.extract_date else ""
        lines = [
            f"Read {self.rows_read:,} establishments from {self.file} ({self.encoding}{dated})."
        ]
        where = "; ".join(self.authorities) if self.authorities else "England"
        branches = int((self.centres["kind"] == "branch").sum())
        lines.append(
            f"Kept {len(self.centres):,} children's centres in {where} with status "
            f"{' or '.join(repr(s) for s in self.statuses)}: {len(self.centres) - branches:,} "
            f"registered centres (kind blank: the register does not say which are family hubs) "
            f"and {branches:,} linked sites (kind=branch)."
        )
        proposed = self.proposed_to_close
        if proposed:
            lines.append(
                f"{len(proposed):,} kept are 'Open, but proposed to close' (URN "
                f"{', '.join(proposed[:10])}{' ...' if len(proposed) > 10 else ''}); their "
                "source says so."
            )
        counts = self.dropped_counts()
        if len(counts):
            parts = []
            for reason, count in counts.items():
                if reason == "status not kept":
                    statuses = self.dropped.loc[self.dropped["reason"] == reason, "status"]
                    detail = ", ".join(f"{n:,} '{s}'" for s, n in statuses.value_counts().items())
                    parts.append(f"{count:,} status not kept ({detail})")
                else:
                    parts.append(f"{count:,} {reason}")
            lines.append(f"Dropped {int(counts.sum()):,}: " + "; ".join(parts) + ".")
        else:
            lines.append("Dropped none.")
        centres = self.dropped_centres()
        for row in centres.head(_LISTED).itertuples():
            detail = f" ({row.detail})" if row.detail else ""
            lines.append(f"  dropped URN {row.urn} {row.name}: {row.reason}{detail}")
        if len(centres) > _LISTED:
            lines.append(f"  ... and {len(centres) - _LISTED:,} more (see the dropped table)")
        return lines


# --------------------------------------------------------------------------------------------
# Reading the file


def _decode(path: Path, label: str, encoding: str | None) -> tuple[str, str]:
    """The file's text and the name of its encoding.

    Windows-1252 is the register's own encoding; UTF-8 (a re-saved extract, with or without a
    byte-order mark) and UTF-16 with a byte-order mark are read too. The one text reader,
    :func:`planning._validate.text_encoding`, decides, so every input follows the same rules.
    """
    data = path.read_bytes()
    if not data.strip(b" \t\r\n\xef\xbb\xbf\xff\xfe\x00"):
        raise ValidationError(
            f"{label}: is empty; it must hold the GIAS header row and one row per establishment; "
            f"{_EXTRACT_HINT}"
        )
    if encoding is not None:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as error:
            raise ValidationError(
                f"{label}: cannot be read as {encoding} ({error}); give the file's own encoding "
                "or leave it out to read Windows-1252 or UTF-8"
            ) from error
    with warnings.catch_warnings():
        # Windows-1252 is what the register publishes, not a slip worth a warning here.
        warnings.simplefilter("ignore", UserWarning)
        codec = text_encoding(path, label=label, windows_1252=True)
    return data.decode(codec), _CODEC_NAMES.get(codec, codec)


_CODEC_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
}


def _match_columns(headers: Sequence[str], label: str) -> dict[str, str]:
    """Map each role in :data:`GIAS_COLUMNS` to the file's header, reporting every gap at once.

    Headers match ignoring case, spaces and hyphens; a near miss ("LA(name)") is named in the
    message as the likely column but not used, so a wrong guess never goes unnoticed.
    """
    keys = {header_key(h): str(h) for h in headers}
    found: dict[str, str] = {}
    problems = Problems(label)
    wanted = {**GIAS_COLUMNS, **_OPTIONAL_COLUMNS}
    for role, column in wanted.items():
        key = header_key(column)
        if key in keys:
            found[role] = keys[key]
            continue
        if role in _OPTIONAL_COLUMNS:
            continue
        close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.75)
        hint = f" (did you mean '{keys[close[0]]}'? rename it to '{column}')" if close else ""
        problems.add(f"missing column '{column}'{hint}")
    if problems:
        shown = ", ".join(str(h) for h in headers[:8]) or "none"
        more = f" and {len(headers) - 8} more" if len(headers) > 8 else ""
        problems.add(f"columns found: {shown}{more}; {_EXTRACT_HINT}")
        if "centre_id" in keys or "id" in keys:
            problems.add(
                "this looks like a centres file already: pass it to the other commands with "
                "--centres instead of importing it"
            )
    problems.raise_if_any()
    return found


def _read_table(text: str, label: str) -> pd.DataFrame:
    """The needed columns as stripped text, one column per role, indexed by file row."""
    try:
        headers = [str(h) for h in pd.read_csv(io.StringIO(text), nrows=0).columns]
    except pd.errors.EmptyDataError as error:
        raise ValidationError(f"{label}: has no header row; {_EXTRACT_HINT}") from error
    except pd.errors.ParserError as error:
        raise ValidationError(
            f"{label}: could not be read as CSV ({error}); {_EXTRACT_HINT}"
        ) from error
    columns = _match_columns(headers, label)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            usecols=list(dict.fromkeys(columns.values())),
            dtype=str,
            keep_default_na=False,
        )
    except pd.errors.ParserError as error:
        raise ValidationError(
            f"{label}: could not be read as CSV ({error}); check that no row was cut or edited "
            f"by hand, or {_EXTRACT_HINT}"
        ) from error
    table = table.fillna("").apply(lambda column: column.astype(str).str.strip())
    frame = pd.DataFrame({role: table[header] for role, header in columns.items()})
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="row")  # spreadsheet rows, header = 1
    return frame


def is_gias_extract(path: str | os.PathLike[str]) -> bool:
    """Whether a file is a CSV whose header has every column of :data:`GIAS_COLUMNS`.

    Lets a command that takes "a centres file or a GIAS extract" (``--neighbour-centres``)
    choose between :func:`planning.inputs.centres.read_centres` and :func:`import_gias`; only the header
    row is read.
    """
    path = Path(path)
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    with open(path, "rb") as handle:
        first = handle.readline(1 << 20)
    first = first.removeprefix(codecs.BOM_UTF8)
    try:
        headers = next(csv.reader([first.decode("cp1252", errors="replace")]), [])
    except csv.Error:
        return False
    keys = {header_key(h) for h in headers}
    return all(header_key(column) in keys for column in GIAS_COLUMNS.values())


def _extract_date(path: Path) -> dt.date | None:
    """The date in a GIAS file name such as ``edubasealldata20250117.csv``, if any."""
    for digits in re.findall(r"(?<!\d)(\d{8})(?!\d)", path.name):
        try:
            return dt.datetime.strptime(digits, "%Y%m%d").date()
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------------------------
# Authorities


def la_name_key(name: object) -> str:
    """A local authority name as compared between GIAS ``LA (name)`` and ONS names.

    Case, full stops, apostrophes, commas, hyphens and repeated spaces are ignored, "&" reads
    "and", and the styles "X, City of", "X, County of", "City of X" and "County X" all reduce to
    "x": "Bristol, City of" and "Bristol" match, as do "St. Helens" and "St Helens", "County
    Durham" and "Durham". The 153 upper-tier names stay distinct under this key.
    """
    text = str(name).casefold().replace("’", "'").replace("&", " and ")
    text = re.sub(r",\s*(city|county) of\s*$", "", text.strip())
    text = re.sub(r"^(city of|county)\s+", "", text)
    text = re.sub(r"[.,'()]", "", text)
    return re.sub(r"[\s\-]+", " ", text).strip()


@dataclass(frozen=True)
class _Wanted:
    """One authority the caller asked for."""

    given: str
    la_number: str | None = None  # DfE three-digit LA number, matched on LA (code)
    code: str | None = None  # ONS code, matched on LA (name) through its name
    name: str | None = None


def _resolve_authorities(authority: str | Iterable[str] | None) -> list[_Wanted]:
    from planning.inputs.areas import resolve_authority

    if authority is None:
        return []
    given = [authority] if isinstance(authority, str) else list(authority)
    wanted = []
    for item in given:
        text = str(item).strip()
        if re.fullmatch(r"\d{3}", text):
            wanted.append(_Wanted(text, la_number=text))
        else:
            try:
                code, name = resolve_authority(text)
            except ValidationError:
                # The register's own spelling ("Bristol", "St Helens") is accepted too.
                match = _ons_by_key().get(la_name_key(text))
                if match is None:
                    raise
                code, name = match
            wanted.append(_Wanted(text, code=code, name=name))
    return wanted


def _ons_by_key() -> dict[str, tuple[str, str]]:
    from planning.inputs.areas import list_authorities

    table = list_authorities()
    return {la_name_key(n): (str(c), str(n)) for c, n in zip(table["code"], table["name"])}


def _authority_mask(
    table: pd.DataFrame, wanted: list[_Wanted], label: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Rows in any wanted authority, and a label for each authority (ONS and DfE codes)."""
    keep = np.zeros(len(table), dtype=bool)
    if not wanted:
        return ~keep, ()
    unique = table["la_name"].unique()
    name_keys = table["la_name"].map(dict(zip(unique, map(la_name_key, unique))))
    labels = []
    problems = Problems(label)
    for item in wanted:
        if item.la_number is not None:
            mask = (table["la_code"] == item.la_number).to_numpy()
        else:
            mask = (name_keys == la_name_key(item.name)).to_numpy()
        if not mask.any():
            problems.add(_no_rows_message(table, item))
            continue
        keep |= mask
        numbers = sorted(set(table.loc[mask, "la_code"]) - {""})
        dfe = f"DfE LA {', '.join(numbers)}" if numbers else "no DfE LA number"
        if item.la_number is not None:
            names = sorted(set(table.loc[mask, "la_name"]) - {""})
            ons = _ons_by_key().get(la_name_key(names[0])) if len(names) == 1 else None
            shown = ", ".join(names) or "unnamed"
            labels.append(f"{shown} ({ons[0] + '; ' if ons else ''}{dfe})")
        else:
            labels.append(f"{item.name} ({item.code}; {dfe})")
    problems.raise_if_any()
    return keep, tuple(labels)


def _no_rows_message(table: pd.DataFrame, item: _Wanted) -> str:
    pairs = table[["la_code", "la_name"]].drop_duplicates()
    listed = [f"{n} ({c})" for c, n in zip(pairs["la_code"], pairs["la_name"]) if n or c]
    if item.la_number is not None:
        what = f"no establishment has LA (code) {item.la_number}"
        suggestion = ""
    else:
        what = f"no establishment has LA (name) '{item.name}' (ONS {item.code})"
        names = [str(n) for n in pairs["la_name"] if n]
        close = difflib.get_close_matches(str(item.name), names, n=3, cutoff=0.6)
        suggestion = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    sample = ", ".join(listed[:6]) + (f" and {len(listed) - 6} more" if len(listed) > 6 else "")
    return (
        f"{what}.{suggestion} The file's authorities: {sample or 'none'}. Give --authority as "
        "the ONS code or name of an authority in the file, or as the three-digit number in its "
        "LA (code) column (e.g. 831 for Derby)"
    )


# --------------------------------------------------------------------------------------------
# Locations


def _display_postcode(postcode: str) -> str:
    compact = re.sub(r"\s+", "", postcode).upper()
    return f"{compact[:-3]} {compact[-3:]}" if _POSTCODE.match(compact) else postcode.strip()


def _area_geometry(within: Any) -> shapely.Geometry:
    """One geometry in EPSG:27700 from a shapely geometry or a GeoSeries/GeoDataFrame."""
    if isinstance(within, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if within.crs is None:
            raise CRSError(
                "within: no coordinate reference system is set; set it with `.set_crs(...)` "
                f"(the workbench's areas are in {settings.WORKING_CRS})"
            )
        series = within.geometry if isinstance(within, gpd.GeoDataFrame) else within
        return series.to_crs(settings.WORKING_CRS).union_all()
    if isinstance(within, shapely.Geometry):
        return within
    raise ValidationError(
        f"within: expected a shapely geometry or a GeoSeries/GeoDataFrame in "
        f"{settings.WORKING_CRS}, got {type(within).__name__}"
    )


# --------------------------------------------------------------------------------------------
# The import


def _status_names(statuses: Iterable[str]) -> tuple[str, ...]:
    """GIAS status names from names (any case) or status codes; unknown ones are refused."""
    by_key = {name.casefold(): name for name in GIAS_STATUSES.values()}
    names, unknown = [], []
    for status in statuses:
        text = str(status).strip()
        name = GIAS_STATUSES.get(text) or by_key.get(text.casefold())
        if name is None:
            unknown.append(text)
        elif name not in names:
            names.append(name)
    if unknown or not names:
        valid = "; ".join(f"{code} = '{name}'" for code, name in GIAS_STATUSES.items())
        raise ValidationError(
            f"status: {', '.join(repr(u) for u in unknown) or 'none given'} "
            f"{'is not a GIAS establishment status' if unknown else ''}; give one or more of "
            f"{valid} (name in any case, or the code)"
        )
    return tuple(names)


def import_gias(
    path: str | os.PathLike[str],
    *,
    authority: str | Iterable[str] | None = None,
    statuses: Iterable[str] = DEFAULT_STATUSES,
    within: Any = None,
    extract_date: dt.date | None = None,
    encoding: str | None = None,
) -> GiasImport:
    """Read the children's centres of a GIAS extract into a centres frame.

    Each establishment is kept unless one of these applies, checked in this order (the first
    that applies is its reason, see :data:`DROP_REASONS`): a blank URN; outside ``authority``;
    a type other than "Children's centre" (47) or "Children's centre linked site" (48); a status
    not in ``statuses``; no location (no ``Easting``/``Northing``, taken as missing when blank or
    both 0, and no ``Postcode``); easting/northing outside England; a postcode that
    :func:`planning.inputs.centres.lookup_postcodes` cannot place; a point outside ``within``; a URN already
    kept.

    Parameters
    ----------
    path : str or path-like
        The extract: a GIAS "all establishment data" CSV (or any CSV with the columns of
        :data:`GIAS_COLUMNS`; other columns are ignored). Read as Windows-1252 unless its bytes
        are valid UTF-8 (then UTF-8, with or without a byte-order mark).
    authority : str or iterable of str, optional
        Authorities to keep: ONS code or name (matched on ``LA (name)`` with
        :func:`la_name_key`) or the DfE three-digit LA number (matched on ``LA (code)``).
        ``None`` keeps every authority (a national extract).
    statuses : iterable of str
        Establishment statuses to keep, by name (any case) or GIAS code: default
        :data:`DEFAULT_STATUSES`, "Open" and "Open, but proposed to close".
    within : shapely geometry or GeoSeries/GeoDataFrame, optional
        Keep only centres on or inside this area (a shapely geometry is taken to be in
        EPSG:27700), e.g. an authority's boundary buffered by the reach standard, to take the
        centres near an authority from a national extract. Combines with ``authority`` (both
        must hold).
    extract_date : datetime.date, optional
        The extract's date, for ``source``; by default read from a file name such as
        ``edubasealldata20250117.csv``.
    encoding : str, optional
        Force an encoding (a Python codec name) instead of detecting it.

    Returns
    -------
    GiasImport
        ``centres`` (URN as ``centre_id``; ``kind`` "branch" for linked sites, blank otherwise;
        ``source`` "DfE GIAS <date>", with "; open, but proposed to close" for such centres;
        ``location_from`` "easting_northing" or "postcode"), ``dropped`` (every row not kept,
        with its reason) and a summary (:meth:`GiasImport.summary_lines`).

    Raises
    ------
    ValidationError
        A missing, empty or undecodable file; missing columns (all named at once, with the near
        miss when there is one); an unknown status; an authority with no row in the file.
    """
    path = Path(path)
    label = path.name
    if not path.is_file():
        raise ValidationError(
            f"{label}: file not found at {path.resolve()}; check the path (the GIAS extract is "
            "a .csv such as edubasealldata20250117.csv)"
        )
    kept_statuses = _status_names(statuses)
    wanted = _resolve_authorities(authority)
    area = None if within is None else _area_geometry(within)
    text, used_encoding = _decode(path, label, encoding)
    table = _read_table(text, label)
    extract_date = extract_date or _extract_date(path)

    reasons = _Reasons(table)
    reasons.drop(table["urn"] == "", "blank URN")
    in_authority, authority_labels = _authority_mask(table, wanted, label)
    reasons.drop(~in_authority, "in another authority", table["la_name"])
    type_code = _centre_type(table)
    reasons.drop(type_code.isna(), "not a children's centre", table["type"])
    status_key = table["status"].str.casefold()
    reasons.drop(~status_key.isin([s.casefold() for s in kept_statuses]), "status not kept",
                 table["status"])  # fmt: skip
    easting, northing, location_from = _locate(table, reasons)
    if area is not None:
        candidate = reasons.open
        inside = np.zeros(len(table), dtype=bool)
        if candidate.any():
            shapely.prepare(area)
            points = shapely.points(easting[candidate], northing[candidate])
            inside[candidate] = shapely.covers(area, points)
        reasons.drop(~inside, "outside the given area")
    # A URN kept twice (the register never does this, a hand-edited file might): keep the first.
    reasons.drop(table["urn"].where(reasons.open).duplicated(), "duplicate URN", table["urn"])

    kept = reasons.open
    rows = table[kept]
    proposed = (rows["status"].str.casefold() == _PROPOSED_TO_CLOSE.casefold()).to_numpy()
    source = f"DfE GIAS {extract_date.isoformat() if extract_date else 'extract'}"
    centres = _centres_frame(
        rows,
        kind=np.where(type_code[kept] == _LINKED_SITE, "branch", ""),
        source=np.where(proposed, source + _PROPOSED_FLAG, source),
        location_from=location_from[kept],
        points=(easting[kept], northing[kept]),
        label=label,
    )
    dropped = table.loc[~kept, ["urn", "name", "la_name", "type", "status"]].reset_index()
    dropped["reason"] = reasons.reason[~kept]
    dropped["detail"] = reasons.detail[~kept]
    return GiasImport(
        centres=centres,
        dropped=dropped,
        file=label,
        encoding=used_encoding,
        extract_date=extract_date,
        statuses=kept_statuses,
        authorities=authority_labels,
        rows_read=len(table),
        proposed_to_close=tuple(rows["urn"][proposed]),
    )


class _Reasons:
    """Each row's reason for being dropped ("" while it is still kept): the first one wins."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.reason = np.full(len(table), "", dtype=object)
        self.detail = np.full(len(table), "", dtype=object)

    @property
    def open(self) -> np.ndarray:
        """Rows not dropped so far."""
        return self.reason == ""

    def drop(self, mask: object, why: str, what: pd.Series | str = "") -> None:
        fresh = np.asarray(mask, dtype=bool) & self.open
        self.reason[fresh] = why
        values = what.to_numpy(dtype=object) if isinstance(what, pd.Series) else what
        self.detail[fresh] = values[fresh] if isinstance(values, np.ndarray) else values


def _centre_type(table: pd.DataFrame) -> pd.Series:
    """Each row's children's-centre type code ("47", "48"), NaN for any other type."""
    # Curly and straight apostrophes both occur once a file has passed through a spreadsheet.
    type_key = table["type"].str.replace("’", "'", regex=False).str.casefold()
    type_code = type_key.map({name.casefold(): code for code, name in CENTRE_TYPES.items()})
    if "type_code" in table.columns:
        # The code identifies the type even when a re-saved file mangled the name.
        known = table["type_code"].where(table["type_code"].isin(list(CENTRE_TYPES)))
        type_code = type_code.fillna(known)
    return type_code


def _locate(table: pd.DataFrame, reasons: _Reasons) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Easting, northing (NaN where unknown) and ``location_from`` of every row.

    The register's grid reference when given; else the postcode, looked up in the ONS Postcode
    Directory (only for rows still kept, so a national extract costs few look-ups); rows with
    neither, or with a grid reference outside England, are dropped.
    """
    from planning.inputs.locations import lookup_postcodes

    def number(column: str) -> np.ndarray:
        values = pd.to_numeric(table[column].str.replace(",", ""), errors="coerce")
        return values.to_numpy(dtype=float, na_value=np.nan, copy=True)

    easting, northing = number("easting"), number("northing")
    # GIAS leaves both blank, or writes 0, for an establishment it has not located.
    blank_grid = ((table["easting"] == "") & (table["northing"] == "")).to_numpy() | (
        (easting == 0) & (northing == 0)
    )
    no_postcode = (table["postcode"] == "").to_numpy()
    reasons.drop(blank_grid & no_postcode, "no easting/northing or postcode")
    in_england = (
        (easting >= ENGLAND_EASTING[0]) & (easting <= ENGLAND_EASTING[1])
        & (northing >= ENGLAND_NORTHING[0]) & (northing <= ENGLAND_NORTHING[1])
    )  # fmt: skip
    reasons.drop(~blank_grid & ~in_england, "easting/northing not in England",
                 table["easting"] + ", " + table["northing"])  # fmt: skip
    location_from = np.full(len(table), "easting_northing", dtype=object)
    to_geocode = blank_grid & reasons.open
    if not to_geocode.any():
        return easting, northing, location_from
    location_from[to_geocode] = "postcode"
    try:
        found = lookup_postcodes(table["postcode"][to_geocode].tolist())
    except ValidationError as error:  # e.g. the look-up switched off: say why, go on
        reasons.drop(to_geocode, "postcode look-up unavailable", str(error))
        return easting, northing, location_from
    easting[to_geocode] = found["easting"].to_numpy()
    northing[to_geocode] = found["northing"].to_numpy()
    status = np.full(len(table), "", dtype=object)
    status[to_geocode] = found["status"].to_numpy(dtype=object)
    why = pd.Series(status, index=table.index).map(lambda s: _LOOKUP_STATUS.get(s, s))
    reasons.drop(to_geocode & (status != "found"), "postcode not found",
                 table["postcode"] + ": " + why)  # fmt: skip
    return easting, northing, location_from


def _centres_frame(
    rows: pd.DataFrame,
    *,
    kind: np.ndarray,
    source: np.ndarray,
    location_from: np.ndarray,
    points: tuple[np.ndarray, np.ndarray],
    label: str,
) -> gpd.GeoDataFrame:
    """The kept rows as the centres frame :func:`planning.inputs.centres.read_centres` returns."""
    from planning.inputs.centres import CENTRES_COLUMNS, validate_centres

    index = pd.Index(rows["urn"].tolist(), name="centre_id", dtype=str)

    def text(values: object) -> pd.Series:
        return pd.Series(list(values), index=index, dtype=str)  # type: ignore[call-overload]

    frame = pd.DataFrame(
        {
            "name": text(rows["name"]),
            "postcode": text(_display_postcode(p) for p in rows["postcode"]),
            "capacity": pd.Series(np.nan, index=index, dtype=float),
            "services": text([""] * len(rows)),
            # As read_centres does: a centre with no locality group is its own locality.
            "locality": text(rows["name"]),
            "kind": text(kind),
            "source": text(source),
            "location_from": text(location_from),
            "in_authority": pd.array([pd.NA] * len(rows), dtype="boolean"),
        },
        index=index,
    )
    centres = gpd.GeoDataFrame(
        frame[list(CENTRES_COLUMNS)],
        geometry=gpd.points_from_xy(*points, crs=settings.WORKING_CRS),
        crs=settings.WORKING_CRS,
    )
    validate_centres(centres, source=label)
    return centres
