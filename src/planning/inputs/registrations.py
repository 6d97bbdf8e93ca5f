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
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import settings
from planning._errors import ValidationError
from planning._files import file_sha256
from planning._validate import csv_encoding, header_key, match_headers, require_file, rows_label

logger = logging.getLogger(__name__)

__all__ = [
    "AGE_BANDS",
    "DEFAULT_SUSTAINED_CONTACTS",
    "TARGET_GROUPS",
    "RegistrationCounts",
    "read_registrations",
    "registration_counts",
]

#: Target groups (Ofsted 2013-15 reports, DOMAIN.md): column name -> plain-English label.
TARGET_GROUPS: dict[str, str] = {
    "lone_parent": "lone parents",
    "teenage_parent": "teenage parents",
    "workless_household": "workless households",
    "minority_ethnic": "minority ethnic families",
    "disability": "disabled children or parents",
    "father_engaged": "fathers engaged",
    "child_in_need": "children in need, on a protection plan or looked after",
    "domestic_abuse": "families affected by domestic abuse",
    "traveller": "Traveller families",
}
#: Age bands reported (single years are folded into them).
AGE_BANDS: dict[str, tuple[int, ...]] = {"0-1": (0, 1), "2-4": (2, 3, 4)}
#: Contacts in 12 months that count as sustained engagement (configurable).
DEFAULT_SUSTAINED_CONTACTS = 3

# An aggregated extract: each row stands for `count` children (read as a weight, never ignored).
_COUNT_ALIASES = (
    "count",
    "n",
    "children",
    "number_of_children",
    "num_children",
    "no_of_children",
    "child_count",
    "children_count",
    "number",
    "frequency",
    "freq",
    "registrations",
    "total",
)
_ALIASES: dict[str, tuple[str, ...]] = {
    "lsoa_code": ("lsoa_code", "lsoa", "lsoa21cd", "lsoa21_code", "lsoa_2021", "area_code"),
    "postcode": ("postcode", "post_code", "home_postcode"),
    "age": ("age", "age_band", "age_years", "age_group"),
    "registration_date": (
        "registration_date",
        "registered_on",
        "date_registered",
        "date_of_registration",
    ),
    "contacts_12m": ("contacts_12m", "contacts", "contacts_last_12_months", "contacts_12_months"),
    "synthetic": ("synthetic",),
    "count": _COUNT_ALIASES,
    **{g: (g,) for g in TARGET_GROUPS},
}
_REQUIRED = ("age", "registration_date", "contacts_12m")
# Headers are compared after normalising: lower case, everything but letters and digits removed
# ('D.O.B.' -> 'dob', 'Address Line 1' -> 'addressline1', 'E-mail' -> 'email').
_IDENTIFYING_PARTS = (
    "dateofbirth",
    "birthdate",
    "birthday",
    "birth",
    "dob",
    "forename",
    "firstname",
    "givenname",
    "middlename",
    "surname",
    "lastname",
    "familyname",
    "fullname",
    "nhsnumber",
    "nhsno",
    "address",
    "telephone",
    "phone",
    "mobile",
    "email",
    "uprn",
    "nationalinsurance",
    "ninumber",
    "streetname",
    "housenumber",
    "houseno",
    "housename",
)
_IDENTIFYING_WHOLE = re.compile(
    r"^(name|names|tel|telno|telnum|telnumber|nhs\w*|addr\w*|street|"
    r"house|upn|uln|nino|ni)\d*$"
)
# Names of places and services, not of people.
_PLACE_NAMES = {
    f"{stem}name"
    for stem in (
        "centre",
        "center",
        "ward",
        "lsoa",
        "lsoa21",
        "lsoa11",
        "msoa",
        "area",
        "locality",
        "hub",
        "site",
        "setting",
        "service",
        "group",
        "targetgroup",
        "authority",
        "la",
        "ltla",
        "utla",
        "district",
        "county",
    )
}
_COUNT_LIKE = re.compile(r"count|total|freq|^num|^number|^no(of)?children")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_AGE_TEXT = {
    **{str(a): (a,) for a in range(5)},
    **{f"{a}.0": (a,) for a in range(5)},
    "0-1": (0, 1),
    "2-4": (2, 3, 4),
    "under 1": (0,),
    "<1": (0,),
}
_FORMAT_HINT = (
    "a registration extract needs lsoa_code (or postcode), age, registration_date and "
    "contacts_12m (format: README 'Reach and targeting', module planning.inputs.registrations)"
)


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


class _Issues:
    """Problems found in a file, grouped by kind so thousands of bad rows give short messages."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.rows: dict[str, list[int]] = defaultdict(list)
        self.examples: dict[str, list[str]] = defaultdict(list)

    def add(self, key: str, rows: np.ndarray, values: list[str] | None = None) -> None:
        if len(rows) == 0:
            return
        self.rows[key].extend(int(r) for r in rows)
        if values:
            seen = self.examples[key]
            for value in values:
                if value not in seen and len(seen) < 3:
                    seen.append(value)

    def raise_if_any(self) -> None:
        if not self.rows:
            return
        messages = []
        for key, rows in self.rows.items():
            examples = self.examples.get(key)
            found = f" (found {', '.join(repr(v) for v in examples)})" if examples else ""
            where = f"row{'s' if len(rows) > 1 else ''} {rows_label(rows)}"
            messages.append(key.format(where=where, found=found))
        if len(messages) == 1:
            raise ValidationError(f"{self.label}: {messages[0]}")
        lines = "\n".join(f"  - {m}" for m in messages)
        raise ValidationError(f"{self.label}: {len(messages)} problems:\n{lines}")


@lru_cache(maxsize=1)
def _england_lsoas() -> frozenset[str]:
    table = pd.read_parquet(settings.DATA_DIR / "lsoa21_england.parquet", columns=["utla_code"])
    return frozenset(table.index.astype(str))


def normalised_header(header: object) -> str:
    """A header as compared with identifying names: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", str(header).lower())


def identifying(header: object) -> bool:
    """Whether a column header names something that identifies a person.

    Examples
    --------
    >>> [identifying(h) for h in ("D.O.B.", "ChildName", "Address1", "Tel", "centre_name")]
    [True, True, True, True, False]
    """
    key = normalised_header(header)
    if not key or key in _PLACE_NAMES:
        return False
    if _IDENTIFYING_WHOLE.match(key) or any(part in key for part in _IDENTIFYING_PARTS):
        return True
    return "name" in key


def _resolve_columns(header: list[str], label: str) -> dict[str, str]:
    """Map canonical names to the file's headers; refuse identifying and missing columns."""
    import difflib

    refused = [h for h in header if identifying(h)]
    if refused:
        names = ", ".join(repr(h) for h in refused)
        raise ValidationError(
            f"{label}: column{'s' if len(refused) > 1 else ''} {names} "
            f"identif{'y' if len(refused) > 1 else 'ies'} a person; a registration extract "
            "must not hold names, dates of birth, NHS numbers, addresses, UPRNs or contact "
            "details. Export the extract again without "
            f"{'them' if len(refused) > 1 else 'it'} (give age as 0-4 or a band '0-1'/'2-4' "
            "instead of a date of birth). No row was read."
        )
    counts = [h for h in header if header_key(h) in _COUNT_ALIASES]
    count_like = [
        h
        for h in header
        if h not in counts
        and _COUNT_LIKE.search(normalised_header(h))
        and header_key(h) not in {a for names in _ALIASES.values() for a in names}
    ]
    if len(counts) > 1 or count_like:
        names = ", ".join(repr(h) for h in counts + count_like)
        raise ValidationError(
            f"{label}: column{'s' if len(counts + count_like) > 1 else ''} {names} look"
            f"{'' if len(counts + count_like) > 1 else 's'} like a number of children per row, "
            "which would otherwise be ignored; keep one such column and name it 'count' (each "
            "row is then read as that many children), or remove it if every row is one child. "
            "No row was read."
        )
    found = match_headers(header, _ALIASES)
    missing = [c for c in _REQUIRED if c not in found]
    if "lsoa_code" not in found and "postcode" not in found:
        missing.insert(0, "lsoa_code' or 'postcode")
    if missing:
        spare = [h for h in header if h not in found.values()]
        parts = []
        for column in missing:
            by_key = {header_key(s): s for s in spare}
            close = difflib.get_close_matches(header_key(column), list(by_key), n=1)
            hint = f" (found '{by_key[close[0]]}': rename it to '{column}')" if close else ""
            parts.append(f"'{column}'{hint}")
        raise ValidationError(
            f"{label}: missing column{'s' if len(missing) > 1 else ''} {', '.join(parts)}; "
            f"{_FORMAT_HINT}. Columns found: {', '.join(header) or 'none'}"
        )
    ignored = [h for h in header if h not in found.values()]
    if ignored:
        logger.info("%s: columns not used (never read): %s", label, ", ".join(ignored))
    return found


def _parse_dates(text: pd.Series) -> pd.Series:
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    uk = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(uk)


def _postcode_areas(
    postcodes: list[str], areas: gpd.GeoDataFrame, cache: dict[str, str | None]
) -> None:
    """Fill ``cache`` with postcode -> area code ('' outside the authority, None not found)."""
    from planning.inputs.locations import lookup_postcodes

    todo = [p for p in postcodes if p not in cache]
    if not todo:
        return
    found = lookup_postcodes(todo)
    ok = found["status"].to_numpy() == "found"
    for postcode in np.asarray(todo, dtype=object)[~ok]:
        cache[postcode] = None
    if ok.any():
        points = gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(found["easting"][ok], found["northing"][ok]),
            crs=settings.WORKING_CRS,
        )
        joined = gpd.sjoin(points, areas[[areas.geometry.name]], how="left", predicate="within")
        joined = joined[~joined.index.duplicated()]
        codes = joined[joined.columns[-1]] if "area_code" not in joined else joined["area_code"]
        for postcode, code in zip(np.asarray(todo, dtype=object)[ok], codes.to_numpy()):
            cache[postcode] = "" if pd.isna(code) else str(code)


def _filled_rows(chunk: pd.DataFrame, first_row: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The chunk's non-blank rows as stripped text, with their spreadsheet row numbers."""
    text = chunk.fillna("").astype(str).apply(lambda c: c.str.strip())
    filled = (text != "").any(axis=1).to_numpy()
    # Row numbers are taken before blank rows are dropped, so messages match the spreadsheet.
    row_numbers = first_row + np.arange(len(text))
    return text.loc[filled], row_numbers[filled]


def _column(text: pd.DataFrame, columns: dict[str, str], canonical: str) -> pd.Series:
    """A canonical column of the chunk, or blanks when the file does not have it."""
    if canonical in columns:
        return text[columns[canonical]]
    return pd.Series([""] * len(text), index=text.index, dtype=object)


def _locate_by_lsoa(
    lsoa: pd.Series,
    areas: gpd.GeoDataFrame,
    row_numbers: np.ndarray,
    issues: _Issues,
    located: tuple[pd.Series, np.ndarray, np.ndarray],
) -> np.ndarray:
    """Place rows that give an LSOA code; return where one was given.

    ``located`` is (area, outside, bad), filled in place: the area code for rows in the
    authority, True in ``outside`` for other English LSOAs and in ``bad`` for unknown codes.
    """
    area, outside, bad = located
    has_lsoa = (lsoa != "").to_numpy()
    in_authority = lsoa.isin(areas.index).to_numpy()
    area[has_lsoa & in_authority] = lsoa[has_lsoa & in_authority]
    other = has_lsoa & ~in_authority
    if other.any():
        # Only codes outside the authority are checked against England (a cached lookup).
        england = _england_lsoas()
        elsewhere = lsoa[other].isin(england).to_numpy()
        outside[np.flatnonzero(other)[elsewhere]] = True
        unknown = np.flatnonzero(other)[~elsewhere]
        issues.add(
            "{where}: column 'lsoa_code' has codes that are not 2021 LSOAs in England{found}; "
            "give the child's home LSOA 2021 code (E01 followed by six digits) or a postcode",
            row_numbers[unknown],
            lsoa.iloc[unknown].tolist(),
        )
        bad[unknown] = True
    return has_lsoa


def _locate_by_postcode(
    postcode: pd.Series,
    needs_postcode: np.ndarray,
    areas: gpd.GeoDataFrame,
    row_numbers: np.ndarray,
    issues: _Issues,
    located: tuple[pd.Series, np.ndarray, np.ndarray],
    postcode_cache: dict[str, str | None],
) -> None:
    """Place the rows in ``needs_postcode`` by their postcode, filling ``located`` in place."""
    area, outside, bad = located
    no_location = needs_postcode & (postcode == "").to_numpy()
    issues.add(
        "{where}: no location; give the child's home lsoa_code or postcode",
        row_numbers[no_location],
    )
    bad |= no_location
    by_postcode = needs_postcode & ~no_location
    if not by_postcode.any():
        return
    wanted = postcode[by_postcode].tolist()
    _postcode_areas(sorted(set(wanted)), areas, postcode_cache)
    mapped = np.array([postcode_cache[p] for p in wanted], dtype=object)
    positions = np.flatnonzero(by_postcode)
    not_found = np.array([m is None for m in mapped])
    # Postcodes are not repeated in messages: they locate a child's home.
    issues.add(
        "{where}: column 'postcode' could not be found in the ONS Postcode Directory; "
        "check it or give the LSOA 2021 code in lsoa_code",
        row_numbers[positions[not_found]],
    )
    bad[positions[not_found]] = True
    good = positions[~not_found]
    codes = mapped[~not_found]
    outside[good[codes == ""]] = True
    inside = good[codes != ""]
    area.iloc[inside] = codes[codes != ""]


def _check_ages(
    raw_age: pd.Series, row_numbers: np.ndarray, issues: _Issues
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose age is not an under-5 age, and rows in the 0-1 band."""
    age = (
        raw_age.str.lower()
        .str.replace("\u2013", "-")  # an en dash from a spreadsheet
        .str.replace(r"\s*-\s*", "-", regex=True)
    )
    years = age.map(_AGE_TEXT)
    bad_age = years.isna().to_numpy()
    issues.add(
        "{where}: column 'age' has values that are not under-5 ages{found}; give the age in "
        "years 0-4 or a band '0-1' or '2-4' (children aged 5 or more are outside the reach "
        "measure: leave them out of the extract)",
        row_numbers[bad_age],
        age[bad_age].tolist(),
    )
    band_0_1 = years.map(lambda y: isinstance(y, tuple) and max(y) <= 1).to_numpy(dtype=bool)
    return bad_age, band_0_1


def _check_dates(
    raw_date: pd.Series, as_of: pd.Timestamp, row_numbers: np.ndarray, issues: _Issues
) -> np.ndarray:
    """Rows whose registration date is not a date, after ``as_of`` or over five years before."""
    date = _parse_dates(raw_date)
    bad_date = date.isna().to_numpy()
    issues.add(
        "{where}: column 'registration_date' is not a date{found}; give it as YYYY-MM-DD "
        "(e.g. 2024-03-31) or DD/MM/YYYY",
        row_numbers[bad_date],
        raw_date[bad_date].tolist(),
    )
    future = (~bad_date) & (date > as_of).to_numpy()
    issues.add(
        f"{{where}}: column 'registration_date' is after the extract date {as_of:%Y-%m-%d}"
        "{found}; check the date, or pass the extract date with --as-of",
        row_numbers[future],
        raw_date[future].tolist(),
    )
    # A child registered more than five years ago is 5 or over now: outside the measure.
    too_old = (~bad_date) & (date < as_of - pd.DateOffset(years=5)).to_numpy()
    issues.add(
        f"{{where}}: column 'registration_date' is more than five years before the extract date "
        f"{as_of:%Y-%m-%d}{{found}}, before any child now under 5 was born; check the date or "
        "leave out children who are now 5 or over",
        row_numbers[too_old],
        raw_date[too_old].tolist(),
    )
    return bad_date | future | too_old


def _check_contacts(
    raw_contacts: pd.Series, row_numbers: np.ndarray, issues: _Issues
) -> tuple[pd.Series, np.ndarray]:
    """Contacts as numbers (NaN where unreadable) and the rows that are not whole and >= 0."""
    contacts = pd.to_numeric(raw_contacts, errors="coerce")
    bad_contacts = (
        contacts.isna() | (contacts < 0) | (contacts != np.floor(contacts.fillna(0)))
    ).to_numpy()
    issues.add(
        "{where}: column 'contacts_12m' is not a whole number of contacts 0 or more{found}; "
        "give the number of contacts in the last 12 months (0 if none)",
        row_numbers[bad_contacts],
        raw_contacts[bad_contacts].tolist(),
    )
    return contacts, bad_contacts


def _check_flags(
    text: pd.DataFrame, columns: dict[str, str], row_numbers: np.ndarray, issues: _Issues
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each true/false column present (target groups, then ``synthetic``) and the bad rows."""
    flags: dict[str, np.ndarray] = {}
    bad = np.zeros(len(text), dtype=bool)
    for name in [g for g in TARGET_GROUPS if g in columns] + (
        ["synthetic"] if "synthetic" in columns else []
    ):
        raw = _column(text, columns, name).str.lower()
        truthy = raw.isin(_TRUE).to_numpy()
        bad_flag = ~(truthy | raw.isin(_FALSE).to_numpy())
        issues.add(
            f"{{where}}: column '{columns[name]}' is not true/false{{found}}; give 1 or 0 "
            "(yes/no, true/false), or leave it blank when not recorded",
            row_numbers[bad_flag],
            raw[bad_flag].tolist(),
        )
        bad |= bad_flag
        flags[name] = truthy
    return flags, bad


def _check_child_counts(
    raw_count: pd.Series, header: str, row_numbers: np.ndarray, issues: _Issues
) -> tuple[pd.Series, np.ndarray]:
    """An aggregated extract's children per row (NaN where unreadable) and the bad rows."""
    number = pd.to_numeric(raw_count, errors="coerce")
    negative = (number < 0).to_numpy()
    issues.add(
        f"{{where}}: column '{header}' is negative{{found}}; a number of children "
        "cannot be negative: correct the row (0 if it stands for no child)",
        row_numbers[negative],
        raw_count[negative].tolist(),
    )
    not_whole = ~negative & (number.isna() | (number != np.floor(number.fillna(0)))).to_numpy()
    issues.add(
        f"{{where}}: column '{header}' is not a whole number of children{{found}}; "
        "give the number of children the row stands for (0 or more)",
        row_numbers[not_whole],
        raw_count[not_whole].tolist(),
    )
    return number, negative | not_whole


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


def _read_header(path: Path, encoding: str, label: str) -> list[str]:
    """The file's column headers as text, read before any row; an empty file is refused."""
    try:
        header = pd.read_csv(path, nrows=0, encoding=encoding).columns.tolist()
    except pd.errors.EmptyDataError as error:
        raise ValidationError(f"{label}: is empty; {_FORMAT_HINT}") from error
    return [str(h) for h in header]


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
