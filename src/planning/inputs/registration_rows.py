"""The rows of a registration extract: each checked, and placed in a small area.

This module holds the row checks :mod:`planning.inputs.registrations` applies to every chunk it
reads: :class:`_Issues` (problems grouped by kind, so thousands of bad rows give short
messages, all raised at once), placing a row in a small area by its LSOA code or, where that is
blank, its postcode (:func:`_locate_by_lsoa`, :func:`_locate_by_postcode`), and the checks of
its age, registration date, contacts, true/false flags and number of children
(:func:`_check_ages`, :func:`_check_dates`, :func:`_check_contacts`, :func:`_check_flags`,
:func:`_check_child_counts`). Each check returns the rows it found bad; none keeps a row.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd

from planning import settings
from planning._errors import ValidationError
from planning._validate import rows_label
from planning.inputs.registration_columns import TARGET_GROUPS

__all__: list[str] = []

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
