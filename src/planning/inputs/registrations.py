"""Registration extracts: read, check and reduce to counts per small area.

A council's registration extract (one row per registered child) is reduced, as it is read, to
counts per small area (LSOA 2021). The row-level data are never copied, cached or written: the file
is read in chunks, each chunk is checked, aggregated and dropped, and only the counts are kept.

The extract (CSV, UTF-8; header row first)
-------------------------------------------
=====================  =========================================================================
column                 meaning
=====================  =========================================================================
``lsoa_code``          the child's home LSOA (2021 code, ``E01...``); or give ``postcode``
``postcode``           the child's home postcode (used where ``lsoa_code`` is blank or absent)
``age``                age in years ``0``-``4``, or a band ``0-1`` or ``2-4``
``registration_date``  date the child was registered (``2024-03-31`` or ``31/03/2024``)
``contacts_12m``       contacts with the centre in the 12 months before the extract date
target groups          optional true/false columns (``1/0``, ``yes/no``): see
                       :data:`TARGET_GROUPS`; blank means "not recorded" (counted as false)
``synthetic``          optional: true marks a synthetic (made-up) extract
``count``              optional: the number of children the row stands for (an aggregated
                       extract, e.g. one row per area, age and contact band); whole number >= 0
=====================  =========================================================================

A file holding a column that identifies a person is refused before any row is read. Headers are
compared after normalising (lower case, letters and digits only), so ``DateOfBirth``, ``D.O.B.``,
``ChildName``, ``Address1``, ``NHSNumber``, ``NHS No``, ``Tel``, ``Mobile``, ``UPRN``,
``E-mail`` and their relatives are all refused. A column that looks like a number of children
per row (``count``, ``n``, ``children``, ``total``...) is read as ``count`` or, if it is not one
of those names or there are two, refused: it is never silently ignored. Other unknown columns are
never read.
Example::

    lsoa_code,age,registration_date,contacts_12m,lone_parent,workless_household
    E01013453,2-4,2024-03-31,4,1,0

The column vocabulary (:data:`TARGET_GROUPS`, the names each column may go by, identifying
headers) and the header checks are in :mod:`planning.inputs.registration_columns`; the checks of
each row and its placing in a small area in :mod:`planning.inputs.registration_rows`. This
module reads the file in chunks and counts; it re-exports :data:`TARGET_GROUPS`,
:func:`~planning.inputs.registration_columns.identifying` and
:func:`~planning.inputs.registration_columns.normalised_header`, so imports from it keep working.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planning._errors import ValidationError
from planning._files import file_sha256
from planning._validate import csv_encoding, require_file
from planning.inputs.registration_columns import (
    TARGET_GROUPS,
    _read_header,
    _resolve_columns,
)

# identifying and normalised_header ("as" re-exports, unused here) were defined in this module,
# so they stay importable from it.
from planning.inputs.registration_columns import identifying as identifying
from planning.inputs.registration_columns import normalised_header as normalised_header
from planning.inputs.registration_rows import (
    _check_ages,
    _check_child_counts,
    _check_contacts,
    _check_dates,
    _check_flags,
    _column,
    _Issues,
    _locate_by_lsoa,
    _locate_by_postcode,
)

__all__ = [
    "AGE_BANDS",
    "DEFAULT_SUSTAINED_CONTACTS",
    "TARGET_GROUPS",
    "RegistrationCounts",
    "read_registrations",
    "registration_counts",
]

#: Age bands reported (single years are folded into them).
AGE_BANDS: dict[str, tuple[int, ...]] = {"0-1": (0, 1), "2-4": (2, 3, 4)}
#: Contacts in 12 months that count as sustained engagement (configurable).
DEFAULT_SUSTAINED_CONTACTS = 3


# --------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class RegistrationCounts:
    """A registration extract reduced to counts per small area (no row-level data).

    Attributes
    ----------
    counts : DataFrame
        Indexed by ``area_code`` (every area of the authority, zero where none registered):
        ``registered``, ``sustained``, ``age_0_1``, ``age_2_4`` and, for each target group in the
        file, ``<group>`` and ``<group>_sustained``.
    groups : tuple of str
        Target groups present in the file.
    source : str
        File name (without its folder).
    sha256 : str
        Checksum of the file, for provenance.
    rows : int
        Registrations read; ``rows_outside`` of them live outside the authority and are left out.
    synthetic : bool
        The extract says it is synthetic.
    sustained_contacts : int
        Contacts in 12 months counted as sustained engagement.
    as_of : date
        The extract date: registrations after it are refused.
    """

    counts: pd.DataFrame
    groups: tuple[str, ...]
    source: str
    sha256: str
    rows: int
    rows_outside: int
    synthetic: bool
    sustained_contacts: int
    as_of: dt.date


def _filled_rows(chunk: pd.DataFrame, first_row: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The chunk's non-blank rows as stripped text, with their spreadsheet row numbers."""
    text = chunk.fillna("").astype(str).apply(lambda c: c.str.strip())
    filled = (text != "").any(axis=1).to_numpy()
    # Row numbers are taken before blank rows are dropped, so messages match the spreadsheet.
    row_numbers = first_row + np.arange(len(text))
    return text.loc[filled], row_numbers[filled]


def _area_counts(
    keys: np.ndarray,
    weight: np.ndarray,
    sustained: np.ndarray,
    band_0_1: np.ndarray,
    flags: dict[str, np.ndarray],
) -> pd.DataFrame:
    """Counted rows summed per area: registered, sustained, age bands and target groups.

    Every argument holds the counted rows only; each row adds its ``weight`` (children).
    """
    frame = pd.DataFrame(
        {
            "registered": weight,
            "sustained": sustained.astype(int) * weight,
            "age_0_1": band_0_1.astype(int) * weight,
            "age_2_4": (~band_0_1).astype(int) * weight,
            **{
                column_name: values * weight
                for g in TARGET_GROUPS
                if g in flags
                for column_name, values in (
                    (g, flags[g].astype(int)),
                    (f"{g}_sustained", (flags[g] & sustained).astype(int)),
                )
            },
        },
        index=pd.Index(keys, name="area_code"),
    )
    return frame.groupby(level=0).sum()


def _chunk_counts(
    chunk: pd.DataFrame,
    first_row: int,
    columns: dict[str, str],
    areas: gpd.GeoDataFrame,
    *,
    sustained_contacts: int,
    as_of: pd.Timestamp,
    issues: _Issues,
    postcode_cache: dict[str, str | None],
) -> tuple[pd.DataFrame, int, int, bool]:
    """Check one chunk of text rows and reduce it to counts per area.

    Returns the counts, the rows counted, the rows outside the authority and whether any row
    says it is synthetic.
    """
    text, row_numbers = _filled_rows(chunk, first_row)
    n = len(text)

    # Where the child lives: the LSOA code first, the postcode where it is blank.
    area = pd.Series([""] * n, index=text.index, dtype=object)
    outside = np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    located = (area, outside, bad)
    lsoa = _column(text, columns, "lsoa_code").str.upper().str.replace(r"\s+", "", regex=True)
    has_lsoa = _locate_by_lsoa(lsoa, areas, row_numbers, issues, located)
    _locate_by_postcode(
        _column(text, columns, "postcode"),
        ~has_lsoa,
        areas,
        row_numbers,
        issues,
        located,
        postcode_cache,
    )

    # Problems are reported in the order found: location, age, date, contacts, flags, count.
    bad_age, band_0_1 = _check_ages(_column(text, columns, "age"), row_numbers, issues)
    bad |= bad_age
    bad |= _check_dates(_column(text, columns, "registration_date"), as_of, row_numbers, issues)
    contacts, bad_contacts = _check_contacts(
        _column(text, columns, "contacts_12m"), row_numbers, issues
    )
    bad |= bad_contacts
    flags, bad_flags = _check_flags(text, columns, row_numbers, issues)
    bad |= bad_flags

    # Children per row: 1, or the row's count in an aggregated extract.
    weight = np.ones(n, dtype=np.int64)
    if "count" in columns:
        number, bad_count = _check_child_counts(
            _column(text, columns, "count"), columns["count"], row_numbers, issues
        )
        bad |= bad_count
        weight = np.where(bad, 0, number.fillna(0).to_numpy()).astype(np.int64)

    counted = ~bad & ~outside
    w = weight[counted]
    counts = _area_counts(
        area.to_numpy()[counted],
        w,
        (contacts.fillna(0).to_numpy() >= sustained_contacts)[counted],
        band_0_1[counted],
        {name: values[counted] for name, values in flags.items()},
    )
    synthetic = bool(flags.get("synthetic", np.zeros(0, dtype=bool)).any())
    return counts, int(w.sum()), int(weight[~bad & outside].sum()), synthetic


def _chunks(
    path: Path, usecols: list[str], chunksize: int, encoding: str
) -> Iterator[pd.DataFrame]:
    yield from pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        usecols=usecols,
        chunksize=chunksize,
        encoding=encoding,
    )


def _check_sustained_contacts(sustained_contacts: int) -> None:
    """Refuse a threshold for sustained engagement below one contact."""
    if sustained_contacts < 1:
        raise ValidationError(
            "sustained_contacts must be a whole number of contacts, 1 or more, "
            f"not {sustained_contacts}"
        )


@dataclass
class _Totals:
    """Counts per area summed over the chunks read so far, and the problems found in them."""

    issues: _Issues
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: int = 0
    outside: int = 0
    synthetic: bool = False


def _count_chunks(
    path: Path,
    encoding: str,
    columns: dict[str, str],
    areas: gpd.GeoDataFrame,
    *,
    sustained_contacts: int,
    as_of: pd.Timestamp,
    chunksize: int,
) -> _Totals:
    """One pass over the file, ``chunksize`` rows at a time, summing each chunk's counts."""
    totals = _Totals(_Issues(path.name))
    cache: dict[str, str | None] = {}
    first_row = 2
    for chunk in _chunks(path, sorted(set(columns.values())), chunksize, encoding):
        counts, n_in, n_out, synth = _chunk_counts(
            chunk,
            first_row,
            columns,
            areas,
            sustained_contacts=sustained_contacts,
            as_of=as_of,
            issues=totals.issues,
            postcode_cache=cache,
        )
        first_row += len(chunk)
        # Drop the rows before the next chunk is read: only the counts are kept.
        del chunk
        totals.counts = counts if totals.counts.empty else totals.counts.add(counts, fill_value=0)
        totals.rows += n_in
        totals.outside += n_out
        totals.synthetic |= synth
    return totals


def _count_file(
    path: Path,
    encoding: str,
    columns: dict[str, str],
    areas: gpd.GeoDataFrame,
    *,
    sustained_contacts: int,
    as_of: pd.Timestamp,
    chunksize: int,
) -> _Totals:
    """Count the file; read it again as Windows-1252, with a warning, if it is not UTF-8.

    The encoding sniffed from the start of the file can be wrong further down, so a decoding
    error mid-file starts the count again from scratch in Excel's default encoding.
    """
    label = path.name

    def count(encoding: str) -> _Totals:
        return _count_chunks(
            path,
            encoding,
            columns,
            areas,
            sustained_contacts=sustained_contacts,
            as_of=as_of,
            chunksize=chunksize,
        )

    try:
        try:
            return count(encoding)
        except UnicodeDecodeError:
            if encoding == "cp1252":
                raise
            warnings.warn(
                f"{label} is not UTF-8; read it as Windows-1252 (Excel's default). Save it as "
                "'CSV UTF-8' to be sure.",
                UserWarning,
                stacklevel=3,  # the caller of read_registrations
            )
        return count("cp1252")
    except pd.errors.ParserError as error:
        raise ValidationError(
            f"{label}: could not be read as CSV ({error}); save it again as 'CSV UTF-8'"
        ) from error


def _require_registrations(totals: _Totals, label: str) -> None:
    """Refuse an extract with no registrations, or none of children in the authority."""
    if totals.rows == 0 and totals.outside == 0:
        raise ValidationError(
            f"{label}: holds no registrations; it needs one row per registered child under "
            "the header row"
        )
    if totals.rows == 0:
        raise ValidationError(
            f"{label}: holds no registrations of children living in the authority (all "
            "live elsewhere); check that the extract is for this authority"
        )


def _counts_table(
    counts: pd.DataFrame, areas: gpd.GeoDataFrame, groups: tuple[str, ...]
) -> pd.DataFrame:
    """Counts on every area of the authority (0 where none), in the documented column order."""
    template = ["registered", "sustained", "age_0_1", "age_2_4"] + [
        c for g in groups for c in (g, f"{g}_sustained")
    ]
    table = counts.reindex(index=areas.index, columns=template).fillna(0).astype(int)
    table.index.name = "area_code"
    return table


def read_registrations(
    path: str | Path,
    areas: gpd.GeoDataFrame,
    *,
    sustained_contacts: int = DEFAULT_SUSTAINED_CONTACTS,
    as_of: dt.date | str | None = None,
    chunksize: int = 50_000,
) -> RegistrationCounts:
    """Read a registration extract and reduce it to counts per small area.

    The file is read ``chunksize`` rows at a time; each chunk is checked, counted per area and
    dropped, so no copy of the row-level data is kept in memory or written anywhere. Only the
    columns the format defines are read (others are skipped by the CSV reader).

    Parameters
    ----------
    path : path
        CSV extract (format in the module docstring).
    areas : GeoDataFrame
        The authority's small areas (:func:`planning.load_areas`): codes and polygons, used to
        place postcodes and to tell residents from children living elsewhere.
    sustained_contacts : int
        Contacts in 12 months that count as sustained engagement (default 3).
    as_of : date or 'YYYY-MM-DD', optional
        The extract date (default today): later registration dates are errors.
    chunksize : int
        Rows per chunk.

    Returns
    -------
    RegistrationCounts

    Raises
    ------
    ValidationError
        Naming the file, the rows, the column and the fix, for every problem at once: an
        identifying column (refused before any row is read), a missing column, an LSOA code that
        does not exist, a postcode not found, an age outside 0-4, a date that is not a date or is
        in the future, a negative or fractional number of contacts, a flag that is not
        true/false. Children living outside the authority are left out (``rows_outside``; the run
        that publishes the figures says so, without giving a small count).
    """
    path = require_file(path, "registration extract", suffixes=(".csv",))
    label = path.name
    _check_sustained_contacts(sustained_contacts)
    as_of_ts = pd.Timestamp(as_of if as_of is not None else dt.date.today()).normalize()
    # One reader for every input: UTF-8 (BOM or not), UTF-16 with a BOM, or Windows-1252 with a
    # warning; semicolon-separated files get a hint instead of a misreading.
    encoding = csv_encoding(path, label=label)
    columns = _resolve_columns(_read_header(path, encoding, label), label)
    totals = _count_file(
        path,
        encoding,
        columns,
        areas,
        sustained_contacts=sustained_contacts,
        as_of=as_of_ts,
        chunksize=chunksize,
    )
    totals.issues.raise_if_any()
    _require_registrations(totals, label)
    groups = tuple(g for g in TARGET_GROUPS if g in columns)
    return RegistrationCounts(
        counts=_counts_table(totals.counts, areas, groups),
        groups=groups,
        source=label,
        sha256=file_sha256(path),
        rows=totals.rows,
        rows_outside=totals.outside,
        synthetic=totals.synthetic or "synthetic" in label.lower(),
        sustained_contacts=sustained_contacts,
        as_of=as_of_ts.date(),
    )


def registration_counts(
    registrations: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    sustained_contacts: int = DEFAULT_SUSTAINED_CONTACTS,
    as_of: dt.date | str | None = None,
    source: str = "registrations",
) -> RegistrationCounts:
    """Like :func:`read_registrations` for an extract already in memory (e.g. from a database).

    The frame is checked and counted exactly as a file would be; it is not modified or kept.
    """
    header = [str(c) for c in registrations.columns]
    columns = _resolve_columns(header, source)
    issues = _Issues(source)
    as_of_ts = pd.Timestamp(as_of if as_of is not None else dt.date.today()).normalize()
    counts, rows, outside, synthetic = _chunk_counts(
        registrations[sorted(set(columns.values()))].astype(object).fillna("").astype(str),
        2,
        columns,
        areas,
        sustained_contacts=sustained_contacts,
        as_of=as_of_ts,
        issues=issues,
        postcode_cache={},
    )
    issues.raise_if_any()
    groups = tuple(g for g in TARGET_GROUPS if g in columns)
    return RegistrationCounts(
        counts=_counts_table(counts, areas, groups),
        groups=groups,
        source=source,
        sha256="",
        rows=rows,
        rows_outside=outside,
        synthetic=synthetic,
        sustained_contacts=sustained_contacts,
        as_of=as_of_ts.date(),
    )
